//! `cargo xtask test`: everything CI checks, the same on a new machine.
//!
//! The Rust steps share one target directory; the Python wheel is built in
//! the dev profile into that same directory (through pip and maturin, the
//! route users take), so only the PyO3 crates are compiled again; the Node
//! addon likewise. What the steps need beyond Rust (a virtual environment
//! with maturin, pytest and mypy; the npm devDependencies) is installed here
//! when missing, so the command works on a fresh clone.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::{root, run_cmd, run_cmd_in};

/// Which parts to run: `--rust`, `--python`, `--node` (default: all);
/// `cargo xtask test` and `cargo xtask docs` read them alike.
pub(crate) struct Parts {
    pub rust: bool,
    pub python: bool,
    pub node: bool,
}

/// The parts `args` of `cargo xtask <command>` ask for.
pub(crate) fn parts(command: &str, args: &[String]) -> Result<Parts, String> {
    let mut parts = Parts {
        rust: false,
        python: false,
        node: false,
    };
    for arg in args {
        match arg.as_str() {
            "--rust" => parts.rust = true,
            "--python" => parts.python = true,
            "--node" => parts.node = true,
            other => {
                return Err(format!(
                    "cargo xtask {command}: unknown option {other} (--rust, --python, --node)"
                ))
            }
        }
    }
    if !(parts.rust || parts.python || parts.node) {
        parts = Parts {
            rust: true,
            python: true,
            node: true,
        };
    }
    Ok(parts)
}

/// Runs one named step, printing its start, outcome and duration.
pub(crate) fn step(name: &str, f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    eprintln!("\n==> {name}");
    let started = Instant::now();
    let result = f();
    eprintln!(
        "<== {name}: {} in {:.1} s",
        if result.is_ok() { "ok" } else { "FAILED" },
        started.elapsed().as_secs_f64()
    );
    result.map_err(|e| format!("{name}: {e}"))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let parts = parts("test", args)?;
    if parts.rust {
        rust()?;
    }
    if parts.python {
        python()?;
    }
    if parts.node {
        node()?;
    }
    eprintln!("\nxtask test: all checks passed");
    Ok(())
}

/// The client's optional features (webhook frameworks and stores, batch
/// payouts), built and tested with the rest (one feature set for clippy
/// and tests, so one build serves both).
const WEBHOOK_FEATURES: &str = "pockyt-payouts/axum,pockyt-payouts/sqlite,pockyt-payouts/batch";

fn rust() -> Result<(), String> {
    step("cargo fmt --check", || {
        run_cmd("cargo", &["fmt", "--all", "--check"])
    })?;
    step("cargo clippy -D warnings", || {
        run_cmd(
            "cargo",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--features",
                WEBHOOK_FEATURES,
                "--",
                "-D",
                "warnings",
            ],
        )
    })?;
    step("codegen --check", || {
        crate::codegen::run(&["--check".to_string()])
    })?;
    step(
        "codegen: a new operation in a scratch copy",
        crate::codegen::prove::run,
    )?;
    // The fault suites are heavy: they run once, in release mode, below.
    step("cargo test", || {
        run_cmd(
            "cargo",
            &[
                "test",
                "--workspace",
                "--features",
                WEBHOOK_FEATURES,
                "--",
                "--skip",
                "a_thousand_faulty_pays_never_pay_twice",
                "--skip",
                "faulty_registers_and_bank_accounts_never_duplicate",
                "--skip",
                "ten_thousand_rows_with_faults_are_paid_exactly_once",
            ],
        )
    })?;
    step("fault suites (release)", || {
        run_cmd(
            "cargo",
            &[
                "test",
                "--release",
                "-p",
                "pockyt-payouts",
                "--test",
                "faults",
                "--test",
                "faults_state",
                "--features",
                "pockyt-payouts/batch",
                "--test",
                "batch_faults",
                "--",
                "--nocapture",
            ],
        )
    })
}

/// The virtual environment the Python checks run in.
pub fn venv() -> PathBuf {
    root().join("target/pyenv")
}

fn venv_bin(name: &str) -> String {
    venv().join("bin").join(name).display().to_string()
}

/// Creates the virtual environment (when missing) with the tools the
/// Python checks use.
pub fn ensure_venv() -> Result<(), String> {
    if !venv().join("bin/python").exists() {
        run_cmd("python3", &["-m", "venv", &venv().display().to_string()])?;
    }
    run_cmd(
        &venv_bin("pip"),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "maturin>=1.5,<2",
            "pytest>=7",
            "mypy>=1.10",
            // The webhook integrations' tests serve each framework for real.
            "fastapi>=0.100",
            "uvicorn>=0.23",
            "flask>=2.2",
            "django>=4.2",
            "django-stubs>=4.2",
        ],
    )
}

fn python() -> Result<(), String> {
    let dir = root().join("bindings/python");
    let target = root().join("target").display().to_string();
    let env = [
        ("CARGO_TARGET_DIR", target.as_str()),
        ("MATURIN_PEP517_ARGS", "--profile dev"),
    ];
    step("python: virtual environment", ensure_venv)?;
    step("python: pip install ./bindings/python", || {
        run_cmd_in(
            &root(),
            &venv_bin("pip"),
            &[
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--force-reinstall",
                "--no-deps",
                "./bindings/python",
            ],
            &env,
        )
    })?;
    let python = venv_bin("python");
    step("python: pytest", || {
        run_cmd_in(
            &dir,
            &python,
            &["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
            &[],
        )
    })?;
    step("python: mypy --strict", || {
        run_cmd_in(
            &dir,
            &python,
            &[
                "-m",
                "mypy",
                "--strict",
                "--cache-dir=/dev/null",
                "examples/quickstart.py",
                "examples/webhook_fastapi.py",
                "examples/webhook_flask.py",
                "examples/webhook_django.py",
                "python/pockyt_payouts",
                "tests",
            ],
            &[],
        )
    })?;
    step("python: stubtest", || {
        run_cmd_in(
            &dir,
            &python,
            &[
                "-m",
                "mypy.stubtest",
                "pockyt_payouts",
                "--allowlist",
                "stubtest-allowlist.txt",
                "--mypy-config-file",
                "pyproject.toml",
            ],
            &[],
        )
    })
}

fn node() -> Result<(), String> {
    let dir = root().join("bindings/node");
    if !dir.join("package.json").exists() {
        return Err("bindings/node/package.json is missing".into());
    }
    node_steps(&dir)
}

fn npm(dir: &Path, args: &[&str]) -> Result<(), String> {
    let target = root().join("target").display().to_string();
    run_cmd_in(dir, "npm", args, &[("CARGO_TARGET_DIR", target.as_str())])
}

fn node_steps(dir: &Path) -> Result<(), String> {
    // `npm ci`: exactly the committed lockfile, which it never rewrites (it
    // fails instead when package.json and the lockfile disagree). The
    // lockfile holds every platform's optional packages, and package.json's
    // `overrides` keep the build tools' tree on versions whose `engines`
    // admit the Node range the package states (no EBADENGINE on Node 20).
    step("node: npm ci", || {
        npm(dir, &["ci", "--no-audit", "--no-fund"])
    })?;
    step("node: build the addon", || {
        npm(dir, &["run", "build:debug"])
    })?;
    step("node: generated .d.ts unchanged", || {
        npm(dir, &["run", "check:dts"])
    })?;
    step("node: tsc --strict", || npm(dir, &["run", "typecheck"]))?;
    step("node: node --test", || npm(dir, &["test"]))
}
