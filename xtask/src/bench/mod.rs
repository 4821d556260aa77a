//! `cargo xtask bench`: the criterion benchmarks; with `--compare`, the
//! side-by-side run of every client against one release sandbox; with
//! `--memory`, 10,000 pays in flight through one client per language; with
//! `--batch`, the batch engine against direct pays, and the memory of
//! checking a file of 1,000,000 rows.
//!
//! Timings are reported, never asserted: none of this runs in
//! `cargo xtask test`.
//!
//! - [`options`]: the command line;
//! - [`artifacts`]: the release builds (sandbox, Rust driver, Node addon,
//!   Python wheel in the bench's own venv with the provider's SDK);
//! - [`sandbox`]: the one release sandbox of a run, stopped on drop;
//! - [`drivers`]: one driver process per client run, its JSON line;
//! - [`compare`], [`memory`] and [`batch`]: the runs, their tables and JSON files;
//! - [`machine`]: what the JSON files say about the machine.

use std::path::PathBuf;

use crate::{root, run_cmd};

pub mod artifacts;
pub mod batch;
pub mod compare;
pub mod drivers;
pub mod machine;
pub mod memory;
pub mod options;
pub mod sandbox;

/// Where the bench writes: `target/bench`.
pub fn out_dir() -> PathBuf {
    root().join("target/bench")
}

/// `cargo xtask bench [--compare [...] | --memory [...]]`.
pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None => run_cmd("cargo", &["bench", "--workspace"]),
        Some("--compare") => compare::run(&options::compare(&args[1..])?),
        Some("--memory") => memory::run(&options::memory(&args[1..])?),
        Some("--batch") => batch::run(&options::batch(&args[1..])?),
        Some(other) => Err(format!(
            "cargo xtask bench: unknown option {other}\n{}",
            options::USAGE
        )),
    }
}
