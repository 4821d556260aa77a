//! The release artifacts a bench run needs, built once per run:
//!
//! - one `cargo build --release` for the sandbox binary, the Rust driver
//!   (`pockyt-bench`) and, when Node runs, the Node addon (the cdylib of
//!   `bindings/node`, copied to `target/bench/node/`, which the Node
//!   driver loads through `NAPI_RS_NATIVE_LIBRARY_PATH`: the debug addon
//!   that `cargo xtask test` builds into `bindings/node/` is never touched);
//! - the bench's own virtual environment `target/bench/venv`, with the
//!   release wheel of `bindings/python` (`maturin build --release`) and the
//!   provider's SDK (`yuansfer==3.0.4`). maturin builds in its own target
//!   directory, `target/bench/cargo`: it moves the built library into
//!   `<target>/maturin/` to package it, and in the shared `target/` that
//!   races with the dev build `cargo xtask test` makes through pip (seen:
//!   "failed to rename file from target/release/lib_native.so").

use std::path::{Path, PathBuf};

use crate::{root, run_cmd, run_cmd_in};

use super::out_dir;

/// The provider's PyPI SDK, pinned.
pub const PROVIDER_SDK: &str = "yuansfer==3.0.4";

/// What the chosen clients need built.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// `pockyt_payouts` in the bench venv (python-threads, python-async).
    pub python: bool,
    /// `yuansfer` in the bench venv (provider).
    pub provider: bool,
    /// The Node addon (node).
    pub node: bool,
}

impl Needs {
    /// What `clients` (names of `--clients`) need.
    pub fn of(clients: &[String]) -> Self {
        let has = |name: &str| clients.iter().any(|c| c == name);
        Needs {
            python: has("python-threads") || has("python-async"),
            provider: has("provider"),
            node: has("node"),
        }
    }
}

/// Where the built artifacts are.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// `target/release/pockyt-sandbox`.
    pub sandbox: PathBuf,
    /// `target/release/pockyt-bench`, the Rust driver.
    pub rust_driver: PathBuf,
    /// The bench venv's `python`.
    pub python: PathBuf,
    /// The release Node addon, loaded through `NAPI_RS_NATIVE_LIBRARY_PATH`.
    pub node_addon: PathBuf,
    /// `bench/compare`, home of `driver.py` and `driver.mjs`.
    pub drivers_dir: PathBuf,
}

/// The bench's virtual environment.
pub fn venv() -> PathBuf {
    out_dir().join("venv")
}

/// Builds what `needs` asks for (and always the sandbox and Rust driver).
pub fn build(needs: Needs) -> Result<Artifacts, String> {
    let release = root().join("target/release");
    let artifacts = Artifacts {
        sandbox: release.join(exe("pockyt-sandbox")),
        rust_driver: release.join(exe("pockyt-bench")),
        python: venv().join("bin/python"),
        node_addon: out_dir().join("node/pockyt-payouts.node"),
        drivers_dir: root().join("bench/compare"),
    };
    let mut cargo = vec![
        "build",
        "--release",
        "-p",
        "pockyt-sandbox",
        "-p",
        "pockyt-bench",
    ];
    if needs.node {
        cargo.extend(["-p", "pockyt-payouts-node"]);
    }
    run_cmd("cargo", &cargo)?;
    if needs.node {
        let built = release.join(format!(
            "{}pockyt_payouts_node{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ));
        copy(&built, &artifacts.node_addon)?;
    }
    if needs.python || needs.provider {
        python(needs)?;
    }
    Ok(artifacts)
}

fn exe(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    eprintln!("$ cp {} {}", from.display(), to.display());
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copy {} to {}: {e}", from.display(), to.display()))
}

/// The bench venv, with the release wheel and/or the provider's SDK.
fn python(needs: Needs) -> Result<(), String> {
    let venv = venv();
    let bin = |name: &str| venv.join("bin").join(name).display().to_string();
    if !venv.join("bin/python").exists() {
        run_cmd("python3", &["-m", "venv", &venv.display().to_string()])?;
    }
    let mut wanted = vec!["install", "--quiet", "--disable-pip-version-check"];
    if needs.python {
        wanted.push("maturin>=1.5,<2");
    }
    if needs.provider {
        wanted.push(PROVIDER_SDK);
    }
    run_cmd(&bin("pip"), &wanted)?;
    if !needs.python {
        return Ok(());
    }
    let wheels = out_dir().join("wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let target = out_dir().join("cargo").display().to_string();
    run_cmd_in(
        &root(),
        &bin("maturin"),
        &[
            "build",
            "--release",
            "--manifest-path",
            "bindings/python/Cargo.toml",
            "--interpreter",
            &bin("python"),
            "--out",
            &wheels.display().to_string(),
        ],
        &[("CARGO_TARGET_DIR", target.as_str())],
    )?;
    let wheel = std::fs::read_dir(&wheels)
        .map_err(|e| format!("{}: {e}", wheels.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == "whl"))
        .ok_or_else(|| format!("maturin left no wheel in {}", wheels.display()))?;
    run_cmd(
        &bin("pip"),
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--force-reinstall",
            "--no-deps",
            &wheel.display().to_string(),
        ],
    )
}
