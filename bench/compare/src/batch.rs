//! `batch` and `validate`: the batch engine against the release sandbox.
//!
//! - `batch <rows> <concurrency> <dir>`: the same number of pays, at the
//!   same concurrency, issued directly through the client and as a batch
//!   (a CSV of `rows` rows, journaled in `dir`), taking turns twice (the
//!   second time the batch goes first); prints the best rate of each, their
//!   ratio, and every run's rate in order.
//! - `validate <rows> <dir>`: writes a CSV of `rows` rows and checks it
//!   with a dry run (no funds check: nothing is sent), printing the peak
//!   RSS of the process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use pockyt_payouts::batch::{Batch, BatchOptions, Phase};
use pockyt_payouts::types::PayParams;
use serde_json::json;

use crate::driver::{sdk_client, Ctx};
use crate::ops::{CURRENCY, PAY_AMOUNT};
use crate::proc::{machine_busy_s, process_cpu_s, status_kib};

/// Writes a CSV of `rows` pays to the bench payee, invoiceIds
/// `<prefix>-<n>`.
fn write_csv(path: &Path, ctx: &Ctx, prefix: &str, rows: usize) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let fail = |e: std::io::Error| e.to_string();
    writeln!(out, "customerNo,accountToken,amount,currency,invoiceId").map_err(fail)?;
    for n in 0..rows {
        writeln!(
            out,
            "{},{},{PAY_AMOUNT},{CURRENCY},{prefix}-{n}",
            ctx.customer_no, ctx.account_token
        )
        .map_err(fail)?;
    }
    out.flush().map_err(fail)
}

/// Pays `rows` times directly, `concurrency` at once; calls per second.
async fn direct(
    client: &pockyt_payouts::Client,
    ctx: &Ctx,
    prefix: &str,
    rows: usize,
    concurrency: usize,
) -> Result<Run, String> {
    let cpu = Cpu::start();
    let started = Instant::now();
    let failures = stream::iter(0..rows)
        .map(|n| {
            let params = PayParams::builder()
                .customer_no(ctx.customer_no.clone())
                .account_token(ctx.account_token.clone())
                .amount(PAY_AMOUNT)
                .currency(CURRENCY)
                .invoice_id(format!("{prefix}-{n}"));
            async move { client.pay(params).await.is_err() }
        })
        .buffer_unordered(concurrency)
        .filter(|failed| std::future::ready(*failed))
        .count()
        .await;
    if failures > 0 {
        return Err(format!("{failures} direct pays failed"));
    }
    let per_s = rows as f64 / started.elapsed().as_secs_f64();
    Ok(Run {
        per_s,
        cpu: cpu.per_row(rows),
    })
}

/// CPU used over one run, this process's and the whole machine's.
struct Cpu {
    process_s: f64,
    machine_s: f64,
}

impl Cpu {
    fn start() -> Cpu {
        Cpu {
            process_s: process_cpu_s(),
            machine_s: machine_busy_s(),
        }
    }

    /// Microseconds of CPU per row since `start`: (this process, machine).
    fn per_row(&self, rows: usize) -> (f64, f64) {
        let per = |s: f64| s * 1e6 / rows.max(1) as f64;
        (
            per(process_cpu_s() - self.process_s),
            per(machine_busy_s() - self.machine_s),
        )
    }
}

/// One run of direct pays: its rate and CPU per pay.
struct Run {
    per_s: f64,
    cpu: (f64, f64),
}

/// One batch's rate (planning included) and where its time went.
struct Batched {
    rows_per_s: f64,
    /// From the start to the last progress report of the checking phase
    /// (the file read, every row checked and journaled).
    checking_s: f64,
    /// From there to the report.
    paying_s: f64,
    /// CPU microseconds per row: this process's, the whole machine's.
    cpu: (f64, f64),
}

/// Runs one batch of `rows` rows.
async fn batched(
    client: &pockyt_payouts::Client,
    ctx: &Ctx,
    dir: &Path,
    prefix: &str,
    rows: usize,
    concurrency: usize,
) -> Result<Batched, String> {
    let file = dir.join(format!("{prefix}.csv"));
    write_csv(&file, ctx, prefix, rows)?;
    let journal = dir.join(format!("{prefix}.journal"));
    let batch = Batch::open(client.clone(), &journal)
        .map_err(|e| e.to_string())?
        .with_options(BatchOptions {
            concurrency,
            skip_funds_check: true,
            ..BatchOptions::default()
        });
    let cpu = Cpu::start();
    let started = Instant::now();
    let checked = Arc::new(std::sync::Mutex::new(started));
    let seen = Arc::clone(&checked);
    let batch = batch.on_progress(move |p| {
        if p.phase == Phase::Checking {
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        }
    });
    let report = batch.run(&file).await.map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    if !report.is_success() || report.paid() != rows as u64 {
        return Err(format!("the batch paid {} of {rows} rows", report.paid()));
    }
    let checking_s = (*checked.lock().unwrap_or_else(|e| e.into_inner()) - started).as_secs_f64();
    Ok(Batched {
        rows_per_s: rows as f64 / seconds,
        checking_s,
        paying_s: seconds - checking_s,
        cpu: cpu.per_row(rows),
    })
}

/// One run's line in `runs_in_order`: its rate under `rate_name`, and its
/// CPU per row (this process's, the machine's).
fn run_line(rate_name: &str, per_s: f64, cpu: (f64, f64)) -> serde_json::Value {
    json!({
        rate_name: per_s,
        "cpu_us_per_row": cpu.0,
        "machine_cpu_us_per_row": cpu.1,
    })
}

/// `batch <rows> <concurrency> <dir>`.
pub async fn run(ctx: Ctx, rows: usize, concurrency: usize, dir: PathBuf) -> Result<bool, String> {
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let client = sdk_client()?;
    let (mut best_direct, mut best_batch) = (0f64, None::<Batched>);
    // Turns alternate (direct first, then the batch first), so that
    // neither always meets a sandbox with fewer payouts on its books.
    let mut rates = Vec::new();
    for round in 0..2 {
        let prefix = format!("{}-c{concurrency}-r{round}", ctx.prefix);
        for batch_turn in [round % 2 == 1, round % 2 == 0] {
            if batch_turn {
                let run = batched(
                    &client,
                    &ctx,
                    &dir,
                    &format!("{prefix}-batch"),
                    rows,
                    concurrency,
                )
                .await?;
                rates.push(run_line("batch_rows_per_s", run.rows_per_s, run.cpu));
                if best_batch
                    .as_ref()
                    .is_none_or(|best| run.rows_per_s > best.rows_per_s)
                {
                    best_batch = Some(run);
                }
            } else {
                let rate = direct(
                    &client,
                    &ctx,
                    &format!("{prefix}-direct"),
                    rows,
                    concurrency,
                )
                .await?;
                rates.push(run_line("direct_pays_per_s", rate.per_s, rate.cpu));
                best_direct = best_direct.max(rate.per_s);
            }
        }
    }
    let best_batch = best_batch.ok_or("no batch ran")?;
    let line = json!({
        "rows": rows,
        "concurrency": concurrency,
        "direct_pays_per_s": best_direct,
        "batch_rows_per_s": best_batch.rows_per_s,
        "batch_checking_s": best_batch.checking_s,
        "batch_paying_s": best_batch.paying_s,
        "ratio": best_batch.rows_per_s / best_direct,
        "runs_in_order": rates,
        "peak_rss_kib": status_kib("VmHWM"),
    });
    println!("{line}");
    Ok(true)
}

/// `validate <rows> <dir>`.
pub async fn validate(ctx: Ctx, rows: usize, dir: PathBuf) -> Result<bool, String> {
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join(format!("{}-validate.csv", ctx.prefix));
    write_csv(&file, &ctx, &ctx.prefix, rows)?;
    let before = status_kib("VmHWM");
    let batch = Batch::open(
        sdk_client()?,
        dir.join(format!("{}-validate.journal", ctx.prefix)),
    )
    .map_err(|e| e.to_string())?
    .with_options(BatchOptions {
        dry_run: true,
        skip_funds_check: true,
        ..BatchOptions::default()
    });
    let checked = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = Arc::clone(&checked);
    let batch =
        batch.on_progress(move |p| seen.store(p.done, std::sync::atomic::Ordering::Relaxed));
    let started = Instant::now();
    let report = batch.run(&file).await.map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&file);
    let line = json!({
        "rows": rows,
        "planned": report.rows,
        "invalid": report.invalid,
        "seconds": seconds,
        "rows_per_s": rows as f64 / seconds,
        "peak_rss_kib_before": before,
        "peak_rss_kib": status_kib("VmHWM"),
    });
    println!("{line}");
    Ok(report.rows == rows as u64)
}
