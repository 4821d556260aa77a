//! The `pockyt-payouts` command for the Python package's console script
//! (`pockyt_payouts._cli:main`): the Rust CLI (`pockyt-payouts-cli`), the
//! same one as the Rust binary and the npm package's bin.

use pyo3::prelude::*;

/// Runs the `pockyt-payouts` command with `argv` (the first is the
/// program's name) and answers its exit code. The command prints to the
/// process's stdout and stderr and makes its own runtime; it runs with the
/// GIL released, and takes SIGINT and SIGTERM over from the interpreter
/// (`pockyt_payouts_cli::run_as_main`): a batch stops cleanly on Ctrl-C
/// (exit code 130); a call that does not handle it ends the process.
#[pyfunction]
fn _cli_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(move || pockyt_payouts_cli::run_as_main(argv))
}

/// Registers the command's function.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_cli_main, m)?)
}
