//! `cargo xtask test` and `cargo xtask bench`.

use crate::run_cmd;

pub fn run(_args: &[String]) -> Result<(), String> {
    run_cmd("cargo", &["fmt", "--all", "--check"])?;
    run_cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )?;
    crate::codegen::run(&["--check".to_string()])?;
    run_cmd("cargo", &["test", "--workspace"])?;
    Ok(())
}

pub fn bench(_args: &[String]) -> Result<(), String> {
    run_cmd("cargo", &["bench", "--workspace"])
}
