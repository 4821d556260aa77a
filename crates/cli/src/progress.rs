//! A batch's progress on stderr: an indicatif bar (rate, ETA) when stderr
//! is a terminal, plain lines at most every two seconds otherwise (logs,
//! CI), nothing with `--quiet`. Never on stdout.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pockyt_payouts::batch::{Phase, Progress};

use crate::output::{note, Output};

/// The least time between two plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(2);

/// Shows a batch's progress; give [`Reporter::callback`] to
/// `Batch::on_progress`, then [`Reporter::finish`].
#[derive(Clone)]
pub(crate) struct Reporter {
    inner: Arc<Inner>,
}

enum Inner {
    Off,
    Bar {
        bar: ProgressBar,
        phase: Mutex<Option<Phase>>,
    },
    Lines {
        last: Mutex<Option<Instant>>,
    },
}

impl Reporter {
    /// A reporter for `what` (shown while the file is being checked).
    pub fn new(out: &Output, what: &str) -> Reporter {
        let inner = if out.quiet {
            Inner::Off
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(spinner_style());
            bar.set_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            Inner::Bar {
                bar,
                phase: Mutex::new(None),
            }
        } else {
            Inner::Lines {
                last: Mutex::new(None),
            }
        };
        Reporter {
            inner: Arc::new(inner),
        }
    }

    /// The callback for `Batch::on_progress`.
    pub fn callback(&self) -> impl Fn(&Progress) + Send + Sync + 'static {
        let reporter = self.clone();
        move |progress| reporter.update(progress)
    }

    /// Removes the bar (the summary follows).
    pub fn finish(&self) {
        if let Inner::Bar { bar, .. } = self.inner.as_ref() {
            bar.finish_and_clear();
        }
    }

    fn update(&self, p: &Progress) {
        match self.inner.as_ref() {
            Inner::Off => {}
            Inner::Bar { bar, phase } => {
                let mut current = phase.lock().unwrap_or_else(|e| e.into_inner());
                if *current != Some(p.phase) {
                    *current = Some(p.phase);
                    bar.reset();
                    bar.set_style(match p.phase {
                        Phase::Checking => spinner_style(),
                        Phase::Paying | Phase::Following => bar_style(),
                    });
                }
                match p.phase {
                    Phase::Checking => bar.set_position(p.done),
                    Phase::Paying => {
                        bar.set_length(p.total);
                        bar.set_position(p.done);
                        bar.set_message(format!(
                            "paying: {} taken, {} problems",
                            p.paid, p.problems
                        ));
                    }
                    Phase::Following => {
                        bar.set_length(p.total);
                        bar.set_position(p.done);
                        bar.set_message(format!("following up: {} answered", p.paid));
                    }
                }
            }
            Inner::Lines { last } => {
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                let finished = p.total > 0 && p.done >= p.total;
                if last.is_some_and(|at| at.elapsed() < LINE_EVERY) && !finished {
                    return;
                }
                *last = Some(Instant::now());
                note(&line(p));
            }
        }
    }
}

/// One plain progress line.
fn line(p: &Progress) -> String {
    match p.phase {
        Phase::Checking => format!("checked {} rows", p.done),
        Phase::Paying => format!(
            "paid {}/{} ({} taken, {} problems)",
            p.done, p.total, p.paid, p.problems
        ),
        Phase::Following => format!(
            "followed up {}/{} rows ({} answered)",
            p.done, p.total, p.paid
        ),
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} ({human_pos} rows read, {rate}) [{elapsed}]")
        .map(with_rate)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{wide_bar} {human_pos}/{human_len} {msg} ({rate}, ETA {eta})")
        .map(with_rate)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// `{rate}`: rows per second, whole.
fn with_rate(style: ProgressStyle) -> ProgressStyle {
    style.with_key(
        "rate",
        |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        },
    )
}
