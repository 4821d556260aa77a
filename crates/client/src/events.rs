//! The core's events (request sent, answered, retried, reconciled) handed
//! to a language's own logging: Python's `logging`, Node's `onEvent`
//! listener or `DEBUG=pockyt-payouts`.
//!
//! The client emits `tracing` events whose fields are the operation, the
//! path, timings, retry counts and error codes: never the API token, its
//! digest or a body. [`install`] makes every event of this SDK an
//! [`Event`] for a sink; a Rust application uses its own `tracing`
//! subscriber instead and needs none of this.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};

use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// One event of the SDK.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: &'static str,
    /// What happened: `sending`, `answered`, `retrying`, ...
    pub message: String,
    /// The event's fields (`operation`, `elapsed_ms`, `error_code`, ...),
    /// in the order emitted.
    pub fields: Vec<(String, String)>,
}

impl fmt::Display for Event {
    /// `retrying operation=pay retry=1 delay_ms=200 error_code=TIMEOUT`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (name, value) in &self.fields {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// Where events go.
pub type Sink = Arc<dyn Fn(&Event) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();
/// The most verbose level the sink wants: 0 none, 1 error ... 5 trace.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(0);

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

/// Sets the most verbose level passed to the sink (`"debug"`, `"info"`,
/// `"warn"`, `"error"`, `"trace"`, or `"off"`): a cheap filter the
/// languages keep in step with their own logger's level.
pub fn set_level(level: &str) {
    let rank = match level {
        "error" => 1,
        "warn" | "warning" => 2,
        "info" => 3,
        "debug" => 4,
        "trace" => 5,
        _ => 0,
    };
    MAX_LEVEL.store(rank, Ordering::Relaxed);
}

/// Sends every event of this SDK at or above the [`set_level`] level to
/// `sink`, by installing a global `tracing` subscriber. Only the first call
/// installs; `false` when a subscriber (this one or another) was already
/// there.
pub fn install(sink: Sink) -> bool {
    if SINK.set(sink).is_err() {
        return false;
    }
    tracing_subscriber::registry()
        .with(ForwardLayer)
        .try_init()
        .is_ok()
}

struct ForwardLayer;

impl<S: Subscriber> Layer<S> for ForwardLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        metadata.target().starts_with("pockyt_payouts")
            && rank(metadata.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let Some(sink) = SINK.get() else {
            return;
        };
        let mut visitor = Fields::default();
        event.record(&mut visitor);
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        sink(&Event {
            level,
            message: visitor.message,
            fields: visitor.fields,
        });
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.fields
                .push((field.name().to_owned(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = text;
        } else {
            self.fields.push((field.name().to_owned(), text));
        }
    }
}
