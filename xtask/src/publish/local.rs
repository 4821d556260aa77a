//! `cargo xtask publish --local`: the release published to real registry
//! servers on 127.0.0.1, then installed from them as a user would.
//!
//! - Cargo: [`CargoRegistry`], a crates.io stand-in (sparse index, the
//!   publish API); every crate goes to it with `cargo publish`.
//! - Python: pypiserver; the sdist and the wheel go to it with `maturin upload`.
//! - npm: verdaccio; the platform package, then the main package, go to it
//!   with `npm publish`.
//!
//! Then, in empty directories outside the repository, with each registry
//! configured the way a user configures one (a crates.io mirror in
//! `$CARGO_HOME/config.toml`, `index-url` in the virtual environment's
//! `pip.conf`, `registry=` in the project's `.npmrc`), it runs the README's
//! commands — `cargo add pockyt-payouts` + `cargo build`, `cargo install
//! pockyt-payouts-cli`, `pip install pockyt-payouts`, `npm install
//! pockyt-payouts` — and from each install makes a signed call against the
//! sandbox the package embeds, and runs the `pockyt-payouts` command it
//! put on PATH (its `sandbox`, a signed `balance`, a batch dry run). The
//! Python and npm steps run with no Rust toolchain on PATH: the wheel and
//! the prebuilt addon must be what gets installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::cargo_registry::CargoRegistry;
use super::servers::{spawn, start_pypiserver, start_verdaccio};
use super::{mkdir, path_without_rust, write, CRATES, NPM_PLATFORM, PYTHON_PROOF};
use crate::{root, run_command, without_inherited};

/// The program the Rust user builds: the crates from the registry, a
/// signed call against the sandbox they embed, and a wrongly signed one
/// refused.
const RUST_USER_MAIN: &str = r#"use pockyt_payouts::types::BalanceParams;
use pockyt_payouts::{Client, Config};
use pockyt_sandbox::{Sandbox, SandboxConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start(SandboxConfig::default()).await?;
    let c = sandbox.config();
    let config = |token: &str| {
        Config::new(c.merchant_no.clone(), c.store_no.clone(), token).with_base_url(sandbox.base_url())
    };
    let client = Client::new(config(c.api_token.as_str()))?;
    let balance = client.balance(BalanceParams::builder().currency("USD")).await?;
    let (Some(amount), Some("USD")) = (&balance.amount, balance.currency.as_deref()) else {
        return Err(format!("unexpected balance {balance:?}").into());
    };
    let wrong = Client::new(config("wrong-token"))?;
    let refused = wrong.balance(BalanceParams::builder().currency("USD")).await.unwrap_err();
    assert_eq!(refused.code().as_str(), "000030", "{refused}");
    println!("cargo: signed call ok, balance {amount} USD");
    Ok(())
}
"#;

/// How long the CLI's sandbox may take to stop after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

pub fn run(python: &[PathBuf], npm: &[PathBuf]) -> Result<(), String> {
    let work = root().join("target/local-registries");
    for stale in ["cargo", "pypi", "npm", "publisher-cargo-home"] {
        let _ = std::fs::remove_dir_all(work.join(stale));
    }
    let tools = work.join("tools");
    mkdir(&tools)?;

    eprintln!("\n==> local registries on 127.0.0.1");
    let cargo = CargoRegistry::start(&work.join("cargo"))?;
    eprintln!("cargo registry: {}", cargo.index_url);
    let pypi = start_pypiserver(&tools, &work.join("pypi"))?;
    let npm_registry = start_verdaccio(&tools, &work.join("npm"))?;

    publish_crates(&cargo, &work)?;
    publish_python(&pypi.url, python)?;
    publish_npm(&work, &npm_registry.url, npm)?;

    // Outside the repository: its workspace and its `.cargo/config.toml`
    // must not be what makes the installs work.
    let users = std::env::temp_dir().join(format!("pockyt-publish-local-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&users);
    mkdir(&users)?;
    let clis = [
        ("cargo install", rust_user(&users.join("rust"), &cargo)?),
        (
            "pip install",
            python_user(&users.join("python"), &pypi.url)?,
        ),
        (
            "npm install",
            npm_user(&users.join("npm"), &npm_registry.url)?,
        ),
    ];
    for (how, program) in &clis {
        prove_cli(how, program, &users)?;
    }
    let _ = std::fs::remove_dir_all(&users);
    eprintln!("\npublish --local: every package published to the loopback registries and installed from them");
    Ok(())
}

/// The crates.io mirror, as `--config` arguments for the workspace's cargo.
fn mirror_config(cargo: &CargoRegistry) -> Vec<String> {
    vec![
        "--config".into(),
        format!("registries.pockyt-local.index=\"{}\"", cargo.index_url),
        "--config".into(),
        "source.crates-io.replace-with=\"pockyt-local\"".into(),
    ]
}

/// The crates in dependency order; each is in the index (cargo waits for
/// it) before the next one is packaged against it.
fn publish_crates(cargo: &CargoRegistry, work: &Path) -> Result<(), String> {
    eprintln!("\n==> cargo publish, to the local registry");
    // A Cargo home of its own: each run's registry (a new port) would
    // leave an index cache behind in the developer's.
    let home = work.join("publisher-cargo-home").display().to_string();
    for name in CRATES {
        let mut args: Vec<String> = mirror_config(cargo);
        args.extend(
            [
                "publish",
                "-p",
                name,
                "--registry",
                "pockyt-local",
                // `cargo xtask publish` has verified each package already.
                "--no-verify",
            ]
            .map(String::from),
        );
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Any token: the registry lives on loopback for this run only.
        run_isolated(
            &root(),
            "cargo",
            &args,
            &[
                ("CARGO_REGISTRIES_POCKYT_LOCAL_TOKEN", "local"),
                ("CARGO_HOME", home.as_str()),
            ],
        )?;
    }
    Ok(())
}

fn publish_python(url: &str, files: &[PathBuf]) -> Result<(), String> {
    eprintln!("\n==> maturin upload, to the local package index");
    let maturin = crate::test::venv()
        .join("bin/maturin")
        .display()
        .to_string();
    let mut args: Vec<String> = [
        "upload",
        "--non-interactive",
        "--repository-url",
        url,
        "-u",
        "local",
        "-p",
        "local",
    ]
    .map(String::from)
    .to_vec();
    args.extend(files.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_isolated(&root(), &maturin, &args, &[])
}

fn publish_npm(work: &Path, url: &str, tarballs: &[PathBuf]) -> Result<(), String> {
    eprintln!("\n==> npm publish, to the local registry");
    let npmrc = work.join("publish.npmrc");
    let host = url.trim_start_matches("http:");
    write(
        &npmrc,
        &format!("registry={url}\n{host}:_authToken=local\n"),
    )?;
    let npmrc = npmrc.display().to_string();
    // The platform package first: the main one names it.
    let (platform, main): (Vec<&PathBuf>, Vec<&PathBuf>) = tarballs
        .iter()
        .partition(|p| p.to_string_lossy().contains(NPM_PLATFORM));
    for tarball in platform.into_iter().chain(main) {
        let tarball = tarball.display().to_string();
        run_isolated(
            work,
            "npm",
            &[
                "publish",
                &tarball,
                "--registry",
                url,
                "--userconfig",
                &npmrc,
            ],
            &[],
        )?;
    }
    Ok(())
}

/// `cargo add` + `cargo build` in a new project, run; then `cargo install`.
/// Cargo's home is a new one whose `config.toml` makes the local registry
/// the crates.io mirror (as `~/.cargo/config.toml` would).
fn rust_user(dir: &Path, cargo: &CargoRegistry) -> Result<PathBuf, String> {
    eprintln!("\n==> cargo add pockyt-payouts, from the local registry");
    let home = dir.join("cargo-home");
    mkdir(&home)?;
    write(
        &home.join("config.toml"),
        &format!(
            "# crates.io through a mirror: the loopback registry of `publish --local`\n\
             [source.crates-io]\nreplace-with = \"pockyt-local\"\n\n\
             [source.pockyt-local]\nregistry = \"{}\"\n",
            cargo.index_url
        ),
    )?;
    let home_s = home.display().to_string();
    let target = dir.join("target").display().to_string();
    let env = [
        ("CARGO_HOME", home_s.as_str()),
        ("CARGO_TARGET_DIR", target.as_str()),
    ];
    run_isolated(
        dir,
        "cargo",
        &["new", "--bin", "--vcs", "none", "payouts-app"],
        &env,
    )?;
    let app = dir.join("payouts-app");
    run_isolated(
        &app,
        "cargo",
        &["add", "pockyt-payouts", "pockyt-sandbox"],
        &env,
    )?;
    run_isolated(
        &app,
        "cargo",
        &["add", "tokio", "--features", "macros,rt-multi-thread"],
        &env,
    )?;
    write(&app.join("src/main.rs"), RUST_USER_MAIN)?;
    run_isolated(&app, "cargo", &["build"], &env)?;
    run_isolated(&app, &format!("{target}/debug/payouts-app"), &[], &env)?;

    eprintln!("\n==> cargo install pockyt-payouts-cli, from the local registry");
    run_isolated(dir, "cargo", &["install", "pockyt-payouts-cli"], &env)?;
    Ok(home.join("bin/pockyt-payouts"))
}

/// `pip install pockyt-payouts` in a new virtual environment whose
/// `pip.conf` names the local index; no Rust on PATH (so it is the wheel).
fn python_user(dir: &Path, url: &str) -> Result<PathBuf, String> {
    eprintln!("\n==> pip install pockyt-payouts, from the local package index");
    let venv = dir.join("venv");
    crate::run_cmd("python3", &["-m", "venv", &venv.display().to_string()])?;
    write(
        &venv.join("pip.conf"),
        &format!("[global]\nindex-url = {url}simple/\n"),
    )?;
    let path = format!("{}:{}", venv.join("bin").display(), path_without_rust());
    let env = [("PATH", path.as_str())];
    let pip = venv.join("bin/pip").display().to_string();
    run_isolated(
        dir,
        &pip,
        &["install", "--disable-pip-version-check", "pockyt-payouts"],
        &env,
    )?;
    let python = venv.join("bin/python").display().to_string();
    run_isolated(dir, &python, &["-c", PYTHON_PROOF], &env)?;
    Ok(venv.join("bin/pockyt-payouts"))
}

/// `npm install pockyt-payouts` in a new project whose `.npmrc` names the
/// local registry; no Rust on PATH (so it is the prebuilt addon).
fn npm_user(dir: &Path, url: &str) -> Result<PathBuf, String> {
    eprintln!("\n==> npm install pockyt-payouts, from the local registry");
    mkdir(dir)?;
    write(&dir.join(".npmrc"), &format!("registry={url}\n"))?;
    let path = path_without_rust();
    let env = [("PATH", path.as_str())];
    run_isolated(dir, "npm", &["init", "--yes"], &env)?;
    run_isolated(
        dir,
        "npm",
        &["install", "--no-audit", "--no-fund", "pockyt-payouts"],
        &env,
    )?;
    super::run_node_proofs(dir, &env)?;
    Ok(dir.join("node_modules/.bin/pockyt-payouts"))
}

/// The installed command: starts its sandbox, makes a signed `balance`
/// call against it, checks the example file with a batch dry run, and
/// stops the sandbox with SIGTERM.
fn prove_cli(how: &str, program: &Path, scratch: &Path) -> Result<(), String> {
    eprintln!(
        "\n==> the pockyt-payouts command from {how}: {}",
        program.display()
    );
    let path = path_without_rust();
    let mut command = Command::new(program);
    command
        .args(["sandbox", "--json", "--quiet"])
        .env("PATH", &path);
    // Killed when dropped, whatever step below fails.
    let mut sandbox = spawn(
        &format!("sandbox of {how}'s pockyt-payouts"),
        command,
        |line| Some(line.to_owned()),
    )?;
    let started: Value = serde_json::from_str(&sandbox.url).map_err(|e| {
        format!(
            "`pockyt-payouts sandbox --json` printed {:?}: {e}",
            sandbox.url
        )
    })?;
    let env: Vec<(String, String)> = started["env"]
        .as_object()
        .ok_or("no env in the sandbox's JSON")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let cli = |args: &[&str]| -> Result<Value, String> {
        eprintln!("$ pockyt-payouts {}", args.join(" "));
        let out = Command::new(program)
            .args(args)
            .env("PATH", &path)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "pockyt-payouts {} ({how}) failed: {}\n{}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("its --json output: {e}"))
    };
    let balance = cli(&["balance", "--currency", "USD", "--json"])?;
    let journal = scratch.join(format!("{}.journal", how.replace(' ', "-")));
    let example = root().join("examples/payouts.csv");
    let checked = cli(&[
        "batch",
        "run",
        &example.display().to_string(),
        "--journal",
        &journal.display().to_string(),
        "--dry-run",
        "--skip-funds-check",
        "--json",
    ])?;
    let status = sandbox
        .terminate(STOP_TIMEOUT)
        .map_err(|e| format!("the sandbox of {how}'s pockyt-payouts: {e}"))?;
    if balance["currency"] != "USD" || !status.success() {
        return Err(format!(
            "pockyt-payouts from {how}: balance {balance}, sandbox stopped with {status}"
        ));
    }
    eprintln!(
        "{how}: pockyt-payouts ok (signed balance {} USD; dry run of {} rows)",
        balance["amount"].as_str().unwrap_or("?"),
        checked["rows"]
            .as_u64()
            .map_or("?".into(), |n| n.to_string())
    );
    Ok(())
}

/// Variables that would point a tool at another registry, or hand it a
/// real credential, than the ones configured here.
const OVERRIDES: [&str; 7] = [
    "PIP_",
    "NPM_CONFIG_",
    "MATURIN_",
    "TWINE_",
    "CARGO_REGISTRY_",
    "CARGO_REGISTRIES_",
    "CARGO_SOURCE_",
];

/// [`crate::run_cmd_in`] without the [`OVERRIDES`] of this environment, so
/// that each install resolves from the registry its configuration names.
fn run_isolated(
    dir: &Path,
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Result<(), String> {
    let mut command = Command::new(program);
    without_inherited(&mut command, &OVERRIDES)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().copied());
    run_command(&mut command)
}
