//! `memory`: `in_flight` pays started at once through one SDK client (every
//! one spawned before any is awaited), twice; prints the peak RSS and the
//! RSS and the open files (mostly pooled connections) after each run, and
//! the RSS once the allocator has returned its free pages (`malloc_trim`).

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::driver::{Ctx, Driver};
use crate::ops::Op;
use crate::proc::{open_fds, status_kib};

/// How long a run waits before reading RSS, for the connections past the
/// client's idle pool to close.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(2);

/// Two runs of `in_flight` concurrent pays; `Ok(false)` when any failed.
pub async fn run(driver: Driver, ctx: Ctx, in_flight: usize) -> Result<bool, String> {
    let (driver, ctx) = (Arc::new(driver), Arc::new(ctx));
    let mut runs = Vec::new();
    let mut failed = false;
    for round in 1..=2 {
        let started = Instant::now();
        let handles: Vec<_> = (0..in_flight)
            .map(|n| {
                let (driver, ctx) = (driver.clone(), ctx.clone());
                let invoice_id = format!("{}-m{round}-{n}", ctx.prefix);
                tokio::spawn(async move { driver.call(Op::Pay, &ctx, &invoice_id).await })
            })
            .collect();
        let mut errors = 0usize;
        let mut first_error = None;
        for outcome in futures::future::join_all(handles).await {
            if let Err(error) = outcome.map_err(|e| e.to_string()).and_then(|r| r) {
                errors += 1;
                first_error.get_or_insert(error);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        failed |= errors > 0;
        // Let the connections past the client's idle pool close first.
        tokio::time::sleep(SETTLE).await;
        let rss_after_kib = status_kib("VmRSS");
        // What is left once glibc's malloc gives back the free pages it
        // keeps: RSS growth that disappears here is the allocator's cache,
        // not memory the SDK still holds.
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: malloc_trim only releases free memory of the allocator.
        unsafe {
            libc::malloc_trim(0);
        }
        runs.push(json!({
            "seconds": seconds,
            "errors": errors,
            "first_error": first_error,
            "rss_after_kib": rss_after_kib,
            "rss_after_trim_kib": status_kib("VmRSS"),
            "open_fds": open_fds(),
        }));
    }
    let line = json!({
        "client": "rust",
        "in_flight": in_flight,
        "runs": runs,
        "peak_rss_kib": status_kib("VmHWM"),
    });
    println!("{line}");
    Ok(!failed)
}
