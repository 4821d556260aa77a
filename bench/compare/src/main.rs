//! `pockyt-bench`: the Rust drivers of `cargo xtask bench --compare` and
//! `cargo xtask bench --memory`, one process per run.
//!
//! ```text
//! pockyt-bench setup                                  register the bench's payee, account, payout
//! pockyt-bench run <raw|rust> <op> <calls> <concurrency>
//! pockyt-bench memory rust <in-flight>
//! pockyt-bench batch <rows> <concurrency> <dir>        a batch vs the same pays issued directly
//! pockyt-bench validate <rows> <dir>                  peak memory checking a file of <rows> rows
//! ```
//!
//! Every mode reads `POCKYT_MERCHANT_NO`, `POCKYT_STORE_NO`,
//! `POCKYT_API_TOKEN`, `POCKYT_BASE_URL`; every mode but `setup` also
//! reads what `setup` printed (`BENCH_CUSTOMER_NO`, `BENCH_ACCOUNT_TOKEN`,
//! `BENCH_INVOICE_ID`, `BENCH_ACCOUNTS_CUSTOMER_NO`) and `BENCH_PREFIX`,
//! which makes every invoiceId of the run unique. Each prints one JSON line on stdout; a run with any
//! failed call exits with status 1 (after printing its line).
//!
//! `raw` is plain reqwest with a signer written here, independently of the
//! SDK (see [`raw`]); `rust` is [`pockyt_payouts::Client`].

use std::process::ExitCode;

mod batch;
mod driver;
mod memory;
mod ops;
mod proc;
mod raw;
mod run;
mod setup;

use driver::{Ctx, Driver};
use ops::Op;

const USAGE: &str = "usage: pockyt-bench setup
       pockyt-bench run <raw|rust> <op> <calls> <concurrency>
       pockyt-bench memory rust <in-flight>
       pockyt-bench batch <rows> <concurrency> <dir>
       pockyt-bench validate <rows> <dir>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    proc::raise_nofile_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        match args.as_slice() {
            ["setup"] => setup::run().await,
            ["run", client, op, calls, concurrency] => {
                let op: Op = op.parse()?;
                let calls = number(calls, "calls")?;
                let concurrency = number(concurrency, "concurrency")?.max(1);
                let driver = Driver::new(client)?;
                run::run(driver, Ctx::from_env()?, client, op, calls, concurrency).await
            }
            ["memory", "rust", in_flight] => {
                let driver = Driver::new("rust")?;
                memory::run(driver, Ctx::from_env()?, number(in_flight, "in-flight")?).await
            }
            ["batch", rows, concurrency, dir] => {
                let rows = number(rows, "rows")?;
                let concurrency = number(concurrency, "concurrency")?.max(1);
                batch::run(Ctx::from_env()?, rows, concurrency, dir.into()).await
            }
            ["validate", rows, dir] => {
                batch::validate(Ctx::from_env()?, number(rows, "rows")?, dir.into()).await
            }
            _ => Err(USAGE.to_string()),
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("pockyt-bench: {message}");
            ExitCode::from(2)
        }
    }
}

fn number(text: &str, what: &str) -> Result<usize, String> {
    text.parse()
        .map_err(|_| format!("{what} must be a whole number, not {text:?}"))
}

/// An environment variable the drivers need.
pub fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}
