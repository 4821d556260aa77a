//! The `pockyt-payouts` command for the npm package's bin
//! (`bin/pockyt-payouts.js`): the Rust CLI (`pockyt-payouts-cli`), the
//! same one as the Rust binary and the Python package's console script.

use napi_derive::napi;

/// Runs the `pockyt-payouts` command with `args` (the first is the
/// program's name) and returns its exit code. Blocks the calling thread
/// until the command ends (the bin does nothing else); the command prints
/// to the process's stdout and stderr, makes its own runtime, and takes
/// SIGINT and SIGTERM over from Node (`pockyt_payouts_cli::run_as_main`):
/// a batch stops cleanly on Ctrl-C (exit code 130); a command that does not
/// handle it ends the process.
#[napi]
pub fn run_cli(args: Vec<String>) -> i32 {
    pockyt_payouts_cli::run_as_main(args)
}
