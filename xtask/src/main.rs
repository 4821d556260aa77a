//! Project automation, run as `cargo xtask <command>`.
//!
//! - `codegen [--check]`: regenerate `crates/core/src/generated.rs` from
//!   `spec/payouts.yaml` with progenitor; `--check` fails when it is stale.
//! - `test`: everything CI checks (fmt, clippy, codegen --check, tests).
//! - `bench`: criterion benchmarks; `bench --compare`: every client side by
//!   side against one release sandbox (`target/bench/compare.json`);
//!   `bench --memory`: 10,000 pays in flight per language
//!   (`target/bench/memory.json`).
//! - `version X.Y.Z`: one version for every manifest, and a CHANGELOG entry.
//! - `publish [--local | --execute]`: release artifacts into `target/dist`,
//!   proven installable; with `--local` published to registries on
//!   127.0.0.1 and installed from them; published only with `--execute`.
//! - `first-hour`: the READMEs' install and quickstart blocks marked
//!   `<!-- first-hour -->`, run as written in a fresh clone.
//! - `docs [--rust] [--python] [--node]`: the API reference of every
//!   language from its doc comments, warnings as errors (`target/docs`).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod codegen;
mod docs;
mod first_hour;
mod publish;
mod test;
mod version;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, r)) => (c.as_str(), r),
        None => ("help", &[][..]),
    };
    let result = match command {
        "codegen" => codegen::run(rest),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "version" => version::run(rest),
        "publish" => publish::run(rest),
        "docs" => docs::run(rest),
        "first-hour" => first_hour::run(rest),
        "help" | "--help" | "-h" => {
            println!("{}", USAGE);
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <command>
  codegen [--check]   regenerate crates/core/src/generated.rs (--check: fail if stale)
  test                fmt check, clippy -D warnings, codegen --check, every test
  bench               criterion benchmarks
  bench --compare [--calls 3000] [--concurrency 16] [--ops balance,pay]
        [--clients raw,rust,python-threads,python-async,node,provider]
                      the same calls through every client against one release sandbox:
                      calls/s, ratio to the Rust SDK, peak RSS; target/bench/compare.json
                      (ops: balance,pay,inquire_payout,retrieve_payee,list_payout_accounts,
                      register_payee)
  bench --memory [--in-flight 10000] [--clients rust,python-async,node]
                      that many pays in flight through one client per language, twice:
                      peak RSS, RSS after each run (±10 %); target/bench/memory.json
  version X.Y.Z       set the one version of every crate and package, and CHANGELOG.md
  publish [--local | --execute]
                      build every release artifact into target/dist and prove it installs
                      (a dry run unless --execute; publishing needs CARGO_REGISTRY_TOKEN,
                      MATURIN_PYPI_TOKEN and NPM_TOKEN); --local also publishes to
                      registries on 127.0.0.1 (verdaccio, pypiserver, a Cargo registry)
                      and installs from them as a user would
  first-hour          in a fresh clone of HEAD, run every README block marked
                      <!-- first-hour --> exactly as written (install, quickstarts)
  docs [--rust] [--python] [--node]
                      API reference from the doc comments, every warning an error:
                      rustdoc (target/docs/rust), pdoc (target/docs/python),
                      TypeDoc (target/docs/node); default: all three";

/// The workspace root (the parent of this crate's directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Runs a command in the workspace root, echoing it, and fails on a non-zero exit.
pub fn run_cmd(program: &str, args: &[&str]) -> Result<(), String> {
    run_cmd_in(&root(), program, args, &[])
}

/// Runs a command in `dir` with extra environment variables.
pub fn run_cmd_in(
    dir: &Path,
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Result<(), String> {
    run_command(
        Command::new(program)
            .args(args)
            .current_dir(dir)
            .envs(envs.iter().copied()),
    )
}

/// Runs `command`, echoing it, and fails on a non-zero exit.
pub fn run_command(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    eprintln!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Keeps out of `command`'s environment every inherited variable whose
/// name starts (in any case) with one of `prefixes`.
pub fn without_inherited<'a>(command: &'a mut Command, prefixes: &[&str]) -> &'a mut Command {
    for (name, _) in std::env::vars_os() {
        let upper = name.to_string_lossy().to_ascii_uppercase();
        if prefixes.iter().any(|prefix| upper.starts_with(prefix)) {
            command.env_remove(&name);
        }
    }
    command
}
