//! # pockyt-payouts-cli
//!
//! The `pockyt-payouts` command: resumable batch payouts from a CSV or
//! JSON Lines file, single calls of the Pockyt Payouts v3 API, a local
//! sandbox, and IPN (webhook) verification. One implementation: the Rust
//! binary, the Python package's console script and the npm package's bin
//! all call [`run`].
//!
//! ```no_run
//! let code = pockyt_payouts_cli::run(["pockyt-payouts", "balance", "--currency", "USD"]);
//! std::process::exit(code);
//! ```
//!
//! Configuration comes from the environment (`POCKYT_MERCHANT_NO`,
//! `POCKYT_STORE_NO`, `POCKYT_API_TOKEN`, `POCKYT_ENV`, `POCKYT_BASE_URL`);
//! the API token and its MD5 are never printed.
//!
//! Exit codes ([`exit_code`]): `0` success, `1` some rows (or the IPN) did
//! not pass, `2` a usage error, `3` an error that stopped the command,
//! `130` interrupted.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod batch;
mod calls;
mod interrupt;
mod ipn;
mod output;
mod progress;
mod sandbox;
mod summary;

use std::ffi::OsString;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::output::{Failure, Output};

/// The exit codes of [`run`].
pub mod exit_code {
    /// Everything succeeded.
    pub const SUCCESS: i32 = 0;
    /// The command ran, and some rows of the batch failed, were refused,
    /// are unknown or were invalid (the report is printed), or the IPN was
    /// refused.
    pub const PROBLEMS: i32 = 1;
    /// The command line was wrong (unknown flag, missing or bad value).
    pub const USAGE: i32 = 2;
    /// An error stopped the command (configuration, the API, the batch as
    /// a whole): `error: <CODE>: <message>` on stderr.
    pub const ERROR: i32 = 3;
    /// Interrupted (Ctrl-C). A batch run resumes where it stopped when run
    /// again.
    pub const INTERRUPTED: i32 = 130;
}

const ENV_HELP: &str = "\
Configuration (environment):
  POCKYT_MERCHANT_NO   merchant number (required for API calls)
  POCKYT_STORE_NO      store number (required for API calls)
  POCKYT_API_TOKEN     API token (required; never printed)
  POCKYT_ENV           provider-sandbox (default) or production
  POCKYT_BASE_URL      an explicit server, e.g. a local `pockyt-payouts sandbox`

Exit codes: 0 success, 1 some rows failed / were refused / are unknown /
were invalid (or the IPN was refused), 2 usage error, 3 error (the code is
printed: `error: <CODE>: <message>`), 130 interrupted.

Examples:
  pockyt-payouts sandbox --port 8080
  pockyt-payouts balance --currency USD
  pockyt-payouts batch run payouts.csv --dry-run
  pockyt-payouts batch run payouts.csv --report payouts-report.csv
  pockyt-payouts batch status payouts.csv
  pockyt-payouts verify-ipn < ipn-body.txt";

/// Pay affiliates, sellers and gig workers through the Pockyt Payouts v3 API.
#[derive(Parser, Debug)]
#[command(
    name = "pockyt-payouts",
    bin_name = "pockyt-payouts",
    version,
    after_help = ENV_HELP,
    propagate_version = true
)]
struct Cli {
    /// Print one JSON document on stdout instead of text (errors too, as
    /// {"error":{"code":..,"message":..}}). Progress never goes to stdout.
    #[arg(long, global = true, display_order = 900)]
    json: bool,
    /// Print no progress (and no sandbox request log) on stderr.
    #[arg(long, short, global = true, display_order = 901)]
    quiet: bool,
    /// Seconds each attempt of a call may take (the client's timeout,
    /// default 30); a batch resumed after a crash waits twice this before
    /// sending a row the crash may have left in flight.
    #[arg(long, global = true, value_name = "SECONDS", value_parser = calls::seconds, display_order = 902)]
    timeout: Option<std::time::Duration>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Pay every row of a CSV or JSON Lines file, journaled and resumable;
    /// follow a batch up; report it.
    #[command(subcommand)]
    Batch(batch::BatchCommand),
    /// Read the merchant's payout balance in one currency.
    #[command(
        after_help = "Examples:\n  pockyt-payouts balance --currency USD\n  pockyt-payouts balance --currency USD --json"
    )]
    Balance(calls::BalanceArgs),
    /// Pay one payee's payout account (one payout).
    #[command(after_help = calls::PAY_EXAMPLES)]
    Pay(calls::PayArgs),
    /// Look a payout up by its invoiceId.
    #[command(
        after_help = "Examples:\n  pockyt-payouts inquire --invoice-id inv-0001\n  pockyt-payouts inquire --invoice-id inv-0001 --json"
    )]
    Inquire(calls::InquireArgs),
    /// Run the local sandbox (an emulator of the API) until Ctrl-C.
    #[command(after_help = sandbox::EXAMPLES)]
    Sandbox(sandbox::SandboxArgs),
    /// Verify a raw IPN (webhook) body with POCKYT_API_TOKEN and print the
    /// event as JSON.
    #[command(after_help = ipn::EXAMPLES)]
    VerifyIpn(ipn::VerifyIpnArgs),
}

/// Runs the CLI as the process's main program: [`run`], after giving
/// SIGINT and SIGTERM back their default effect (ending the process) where
/// a host runtime installed a handler of its own. The Python console
/// script and the npm bin call this: Node's handler raises the signal
/// again (under the command's own listener, an endless loop), and Python's
/// only sets a flag for its bytecode loop (a Ctrl-C the command never
/// sees). After the reset the command behaves as the Rust binary does: the
/// commands that handle Ctrl-C (`batch`, `sandbox`, reading stdin) take it
/// themselves, the others end on it. A signal the process was started
/// ignoring (`nohup`, a background job) stays ignored. Call it once, as
/// the program: it changes the whole process's signal handling.
pub fn run_as_main<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    default_signals();
    run(args)
}

#[cfg(unix)]
#[allow(unsafe_code)]
fn default_signals() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installing SIG_DFL or SIG_IGN runs no code of ours in a
        // signal handler; no other thread changes these dispositions while
        // the program starts.
        unsafe {
            if libc::signal(signal, libc::SIG_DFL) == libc::SIG_IGN {
                libc::signal(signal, libc::SIG_IGN);
            }
        }
    }
}

#[cfg(not(unix))]
fn default_signals() {}

/// Runs the CLI with these arguments (the first is the program name) and
/// returns the process exit code ([`exit_code`]). Prints to stdout and
/// stderr. Creates its own tokio runtime (on a thread of its own when
/// called from inside a runtime).
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version print to stdout and exit 0; the rest is a
            // usage error on stderr.
            let _ = error.print();
            return error.exit_code();
        }
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        // `block_on` cannot nest: run on a thread without a runtime.
        return std::thread::scope(|scope| {
            scope
                .spawn(|| execute(cli))
                .join()
                .unwrap_or(exit_code::ERROR)
        });
    }
    execute(cli)
}

fn execute(cli: Cli) -> i32 {
    if let Some(timeout) = cli.timeout {
        calls::set_timeout(timeout);
    }
    let out = Output {
        json: cli.json,
        quiet: cli.quiet,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return out.fail(&Failure::new(
                "RUNTIME_ERROR",
                format!("cannot start the async runtime: {error}"),
            ))
        }
    };
    let result = runtime.block_on(dispatch(cli.command, &out));
    // Blocking journal work in flight (after an interrupt) gets a moment
    // to finish; the journal is consistent either way.
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(failure) => out.fail(&failure),
    }
}

async fn dispatch(command: Command, out: &Output) -> Result<i32, Failure> {
    match command {
        // `batch run` stops cleanly at Ctrl-C itself; status and report
        // are interruptible like the single calls.
        Command::Batch(command) => batch::run(command, out).await,
        Command::Balance(args) => interruptible(calls::balance(args, out)).await,
        Command::Pay(args) => interruptible(calls::pay(args, out)).await,
        Command::Inquire(args) => interruptible(calls::inquire(args, out)).await,
        // The sandbox handles Ctrl-C itself (a clean shutdown).
        Command::Sandbox(args) => sandbox::run(args, out).await,
        // Reads stdin without blocking on a signal: Ctrl-C keeps its
        // default effect.
        Command::VerifyIpn(args) => ipn::run(args, out),
    }
}

/// `work`, or [`Failure::interrupted`] at Ctrl-C. The listener is
/// registered before `work` is first polled, so a Ctrl-C while its call is
/// on the wire always ends it this way.
pub(crate) async fn interruptible(
    work: impl std::future::Future<Output = Result<i32, Failure>>,
) -> Result<i32, Failure> {
    let mut interrupts = interrupt::Interrupts::listen()?;
    tokio::select! {
        result = work => result,
        () = interrupts.next() => Err(Failure::interrupted()),
    }
}
