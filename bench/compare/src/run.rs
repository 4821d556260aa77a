//! `run`: warm up, then time `calls` calls of one operation at
//! `concurrency` (that many tasks pulling from one counter), and print the
//! result line.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;

use crate::driver::{Ctx, Driver};
use crate::ops::Op;
use crate::proc::status_kib;

/// What a batch of calls did.
pub struct Batch {
    /// Wall time of the batch, in seconds.
    pub seconds: f64,
    /// Calls that failed.
    pub errors: usize,
    /// The first failure's text.
    pub first_error: Option<String>,
}

/// `calls` calls of `op` through `concurrency` tasks; invoiceIds are
/// `<tag><n>`.
pub async fn batch(
    driver: &Arc<Driver>,
    ctx: &Arc<Ctx>,
    op: Op,
    calls: usize,
    concurrency: usize,
    tag: &str,
) -> Batch {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(calls.max(1)) {
        let (driver, ctx, next) = (driver.clone(), ctx.clone(), next.clone());
        let (errors, first_error) = (errors.clone(), first_error.clone());
        let tag = tag.to_string();
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls {
                    break;
                }
                let invoice_id = format!("{tag}{n}");
                if let Err(error) = driver.call(op, &ctx, &invoice_id).await {
                    errors.fetch_add(1, Ordering::Relaxed);
                    first_error.lock().unwrap().get_or_insert(error);
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("a bench task panicked");
    }
    let seconds = started.elapsed().as_secs_f64();
    let first_error = first_error.lock().unwrap().take();
    Batch {
        seconds,
        errors: errors.load(Ordering::Relaxed),
        first_error,
    }
}

/// The bench run of one client and operation: warm-up (min(200, calls/10)
/// calls, not counted), then the timed calls; prints the JSON result line.
/// `Ok(false)` when any call failed.
pub async fn run(
    driver: Driver,
    ctx: Ctx,
    client: &str,
    op: Op,
    calls: usize,
    concurrency: usize,
) -> Result<bool, String> {
    let (driver, ctx) = (Arc::new(driver), Arc::new(ctx));
    let warmup = (calls / 10).min(200);
    let warm = batch(
        &driver,
        &ctx,
        op,
        warmup,
        concurrency,
        &format!("{}-w", ctx.prefix),
    )
    .await;
    let timed = batch(
        &driver,
        &ctx,
        op,
        calls,
        concurrency,
        &format!("{}-", ctx.prefix),
    )
    .await;
    let errors = warm.errors + timed.errors;
    let line = json!({
        "client": client,
        "op": op.name(),
        "calls": calls,
        "concurrency": concurrency,
        "seconds": timed.seconds,
        "calls_per_sec": calls as f64 / timed.seconds,
        "errors": errors,
        "first_error": warm.first_error.or(timed.first_error),
        "peak_rss_kib": status_kib("VmHWM"),
    });
    println!("{line}");
    Ok(errors == 0)
}
