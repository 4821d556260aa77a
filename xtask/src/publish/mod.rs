//! `cargo xtask publish [--local | --execute]`: every artifact of a release, built
//! from the one workspace version into `target/dist`, and proven to install.
//!
//! The dry run (the default; CI runs it as part of `--local`) writes:
//! - `target/dist/crates/*.crate`: `cargo package` of each crate meant for
//!   crates.io, verified (each builds from its own tarball);
//! - `target/dist/python/`: the sdist and the abi3 wheel (maturin, release);
//! - `target/dist/npm/`: the main npm package and the linux-x64-gnu
//!   platform package carrying the prebuilt `.node`, wired as napi-rs
//!   packages are (the main package lists the platform packages as
//!   optionalDependencies; npm installs the one matching the machine);
//!
//! and proves them: the wheel is installed into a new virtual environment
//! and makes a signed call against the sandbox it embeds; the npm tarballs
//! are installed into an empty directory with no Rust toolchain on PATH and
//! make the same call from `require` and from `import`.
//!
//! `--local` then publishes all of it to registry servers on 127.0.0.1 and
//! installs it back from them as a user would (see [`local`]).
//!
//! `--execute` publishes what the dry run built, in dependency order
//! (crates, then PyPI, then npm: platform package before the main one),
//! only with credentials from the environment (CARGO_REGISTRY_TOKEN,
//! MATURIN_PYPI_TOKEN, NPM_TOKEN), and stops at the first failure. It
//! refuses to run under CI.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::{root, run_cmd, run_cmd_in};

mod cargo_registry;
mod local;
mod servers;

/// Crates for crates.io, in dependency order (dev-dependencies count: the
/// client's tests use the sandbox, so the sandbox goes first).
const CRATES: [&str; 5] = [
    "pockyt-payouts-sign",
    "pockyt-payouts-core",
    "pockyt-sandbox",
    "pockyt-payouts",
    "pockyt-payouts-cli",
];

/// The npm platform packages this machine can build (napi-rs naming).
const NPM_PLATFORM: &str = "linux-x64-gnu";

/// The Python program the proof runs in the clean virtual environment.
const PYTHON_PROOF: &str = r#"
import pockyt_payouts
from pockyt_payouts.testing import Sandbox
with Sandbox() as sandbox:
    client = sandbox.client()
    balance = client.balance(currency="USD")
    assert balance.currency == "USD" and balance.amount, balance
    try:
        pockyt_payouts.Client(merchant_no=sandbox.merchant_no, store_no=sandbox.store_no,
                              api_token="wrong-token", base_url=sandbox.base_url).balance(currency="USD")
    except pockyt_payouts.AccessDeniedError:
        pass
    else:
        raise SystemExit("a call signed with the wrong token was accepted")
print("python wheel: signed call ok, balance", balance.amount, balance.currency)
"#;

/// The Node program the proof runs, once as CommonJS and once as ESM.
const NODE_PROOF_BODY: &str = r#"
const sandbox = await startSandbox()
try {
  const balance = await sandbox.client().balance({ currency: 'USD' })
  if (balance.currency !== 'USD' || !balance.amount) throw new Error('unexpected ' + JSON.stringify(balance))
  const wrong = new Client({ merchantNo: sandbox.merchantNo, storeNo: sandbox.storeNo, apiToken: 'wrong-token', baseUrl: sandbox.baseUrl })
  let refused = false
  try { await wrong.balance({ currency: 'USD' }) } catch (e) { refused = e.code === '000030' }
  if (!refused) throw new Error('a call signed with the wrong token was accepted')
  console.log(`npm (${KIND}): signed call ok, balance ${balance.amount} ${balance.currency}`)
} finally {
  await sandbox.stop()
}
"#;

pub fn run(args: &[String]) -> Result<(), String> {
    let (execute, local) = match args {
        [] => (false, false),
        [flag] if flag == "--execute" => (true, false),
        [flag] if flag == "--local" => (false, true),
        _ => return Err("usage: cargo xtask publish [--local | --execute]".into()),
    };
    let tokens = if execute { Some(credentials()?) } else { None };

    let dist = root().join("target/dist");
    let _ = std::fs::remove_dir_all(&dist);
    mkdir(&dist)?;
    let version = crate::version::current()?;
    eprintln!(
        "publish: version {version} ({})",
        if execute { "EXECUTE" } else { "dry run" }
    );

    let crates = package_crates(&dist)?;
    let python = build_python(&dist)?;
    let npm = build_npm(&dist, &version)?;

    prove_python(&dist, &python)?;
    prove_npm(&dist, &npm)?;
    eprintln!(
        "\npublish: every artifact built and proven in {}",
        dist.display()
    );
    for path in crates.iter().chain(&python).chain(&npm) {
        eprintln!("  {}", path.strip_prefix(&dist).unwrap_or(path).display());
    }

    if local {
        local::run(&python, &npm)?;
    }
    match tokens {
        None => {
            eprintln!("publish: dry run; nothing was published (use --execute)");
            Ok(())
        }
        Some(tokens) => upload(&tokens, &python, &npm),
    }
}

struct Tokens {
    cargo: String,
    pypi: String,
    npm: String,
}

fn credentials() -> Result<Tokens, String> {
    if std::env::var_os("CI").is_some() {
        return Err(
            "publish --execute never runs under CI (CI is set); run the dry run instead".into(),
        );
    }
    let get = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (cargo, pypi, npm) = (
        get("CARGO_REGISTRY_TOKEN"),
        get("MATURIN_PYPI_TOKEN"),
        get("NPM_TOKEN"),
    );
    let missing: Vec<&str> = [
        ("CARGO_REGISTRY_TOKEN", cargo.is_none()),
        ("MATURIN_PYPI_TOKEN", pypi.is_none()),
        ("NPM_TOKEN", npm.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, absent)| absent.then_some(name))
    .collect();
    match (cargo, pypi, npm) {
        (Some(cargo), Some(pypi), Some(npm)) => Ok(Tokens { cargo, pypi, npm }),
        _ => Err(format!(
            "publish --execute needs credentials in the environment; missing: {}",
            missing.join(", ")
        )),
    }
}

fn mkdir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("creating {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Copies a file, making its destination's directory (a package file such
/// as `bin/pockyt-payouts.js` sits in one).
fn copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        mkdir(dir)?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

fn files_in(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    Ok(found)
}

/// Removes what earlier `cargo package` runs left in Cargo's home: when
/// packaging several crates, cargo verifies each against the others through
/// a temporary local registry, and extracts their sources under
/// `$CARGO_HOME/registry/src/<that registry>/` — where an extraction of the
/// same name and version from an earlier run (older code) is reused as it
/// is. Only this workspace's crates, and never crates.io's directory, are
/// touched; `target/package` (the staging directory and the verification
/// builds) is removed whole.
fn forget_earlier_packages() -> Result<(), String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    // And what cargo built from them: their build artifacts carry the same
    // names and versions, so they would be taken as fresh.
    let staging = root().join("target/package");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| format!("removing {}: {e}", staging.display()))?;
    }
    for kind in ["src", "cache"] {
        let Ok(registries) = std::fs::read_dir(home.join("registry").join(kind)) else {
            continue;
        };
        for registry in registries.flatten() {
            let name = registry.file_name().to_string_lossy().into_owned();
            if name.starts_with("index.crates.io") {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(registry.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let entry_name = entry.file_name().to_string_lossy().into_owned();
                if CRATES
                    .iter()
                    .any(|c| entry_name.starts_with(&format!("{c}-")))
                {
                    let path = entry.path();
                    let removed = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                    removed.map_err(|e| format!("removing {}: {e}", path.display()))?;
                    eprintln!("publish: removed an earlier package's {}", path.display());
                }
            }
        }
    }
    Ok(())
}

/// `cargo package` (with verification) of every crate meant for crates.io.
fn package_crates(dist: &Path) -> Result<Vec<PathBuf>, String> {
    eprintln!("\n==> cargo package");
    forget_earlier_packages()?;
    // Their verification builds share the dev profile's directory with the
    // workspace's own, under the same names and versions as before.
    let mut clean = vec!["clean", "--profile", "dev"];
    for name in CRATES {
        clean.extend(["-p", name]);
    }
    run_cmd("cargo", &clean)?;
    let mut args = vec!["package"];
    for name in CRATES {
        args.extend(["-p", name]);
    }
    run_cmd("cargo", &args)?;
    let out = dist.join("crates");
    mkdir(&out)?;
    let version = crate::version::current()?;
    let mut packaged = Vec::new();
    for name in CRATES {
        let file = format!("{name}-{version}.crate");
        let from = root().join("target/package").join(&file);
        let to = out.join(&file);
        copy(&from, &to)?;
        packaged.push(to);
    }
    Ok(packaged)
}

/// The Python sdist and abi3 wheel.
fn build_python(dist: &Path) -> Result<Vec<PathBuf>, String> {
    eprintln!("\n==> python: sdist and wheel");
    crate::test::ensure_venv()?;
    let maturin = crate::test::venv()
        .join("bin/maturin")
        .display()
        .to_string();
    let out = dist.join("python");
    let out_s = out.display().to_string();
    let manifest = root()
        .join("bindings/python/Cargo.toml")
        .display()
        .to_string();
    run_cmd(
        &maturin,
        &["sdist", "--manifest-path", &manifest, "--out", &out_s],
    )?;
    run_cmd(
        &maturin,
        &[
            "build",
            "--release",
            "--manifest-path",
            &manifest,
            "--out",
            &out_s,
        ],
    )?;
    let mut built = files_in(&out, ".tar.gz")?;
    let wheels = files_in(&out, ".whl")?;
    if wheels.len() != 1 || !wheels[0].to_string_lossy().contains("abi3") {
        return Err(format!("expected one abi3 wheel, found {wheels:?}"));
    }
    built.extend(wheels);
    Ok(built)
}

/// The main npm package and the platform package with the prebuilt addon.
fn build_npm(dist: &Path, version: &str) -> Result<Vec<PathBuf>, String> {
    eprintln!("\n==> npm: release addon, platform and main packages");
    let node = root().join("bindings/node");
    let target = root().join("target").display().to_string();
    // Exactly the locked devDependencies (the napi CLI); never rewrites the lockfile.
    run_cmd_in(&node, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    run_cmd_in(
        &node,
        "npm",
        &["run", "build"],
        &[("CARGO_TARGET_DIR", target.as_str())],
    )?;
    let stage = dist.join("npm-stage");
    let out = dist.join("npm");
    mkdir(&out)?;

    // The platform package: its committed manifest, the addon, the licenses.
    let platform_src = node.join("npm").join(NPM_PLATFORM);
    let platform = stage.join(NPM_PLATFORM);
    mkdir(&platform)?;
    for file in ["package.json", "README.md"] {
        copy(&platform_src.join(file), &platform.join(file))?;
    }
    let addon = format!("pockyt-payouts.{NPM_PLATFORM}.node");
    copy(&node.join(&addon), &platform.join(&addon))?;
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        copy(&root().join(file), &platform.join(file))?;
    }

    // The main package: the JS wrapper and types, no addon of its own, the
    // platform packages as optionalDependencies.
    let main = stage.join("main");
    mkdir(&main)?;
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(node.join("package.json"))
            .map_err(|e| format!("bindings/node/package.json: {e}"))?,
    )
    .map_err(|e| format!("bindings/node/package.json: {e}"))?;
    let mut published = manifest.clone();
    let files: Vec<Value> = manifest["files"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.as_str().is_some_and(|f| !f.ends_with(".node")))
        .collect();
    for file in &files {
        let name = file.as_str().unwrap_or_default();
        copy(&node.join(name), &main.join(name))?;
    }
    for file in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
        let from = if file == "README.md" {
            node.join(file)
        } else {
            root().join(file)
        };
        copy(&from, &main.join(file))?;
    }
    published["files"] = Value::Array(files);
    published["optionalDependencies"] =
        json!({ format!("pockyt-payouts-{NPM_PLATFORM}"): version });
    if let Some(object) = published.as_object_mut() {
        object.remove("devDependencies");
        object.remove("scripts");
        // Pins for the build tools' tree: meaningless to a user's install.
        object.remove("overrides");
    }
    let text = serde_json::to_string_pretty(&published).map_err(|e| e.to_string())?;
    std::fs::write(main.join("package.json"), format!("{text}\n")).map_err(|e| e.to_string())?;

    let out_s = out.display().to_string();
    for dir in [&platform, &main] {
        run_cmd_in(dir, "npm", &["pack", "--pack-destination", &out_s], &[])?;
    }
    files_in(&out, ".tgz")
}

/// A PATH without any Rust toolchain on it.
fn path_without_rust() -> String {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|dir| {
            !Path::new(dir).join("cargo").exists() && !Path::new(dir).join("rustc").exists()
        })
        .collect::<Vec<_>>()
        .join(":")
}

fn prove_python(dist: &Path, built: &[PathBuf]) -> Result<(), String> {
    eprintln!("\n==> python: install the wheel into a new virtual environment");
    let venv = dist.join("verify/python-venv");
    let venv_s = venv.display().to_string();
    run_cmd("python3", &["-m", "venv", &venv_s])?;
    let wheel = built
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or("no wheel was built")?;
    let pip = venv.join("bin/pip").display().to_string();
    let path = path_without_rust();
    let env = [("PATH", path.as_str())];
    run_cmd_in(
        &dist.join("verify"),
        &pip,
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &wheel.display().to_string(),
        ],
        &env,
    )?;
    let python = venv.join("bin/python").display().to_string();
    run_cmd_in(&dist.join("verify"), &python, &["-c", PYTHON_PROOF], &env)
}

fn prove_npm(dist: &Path, built: &[PathBuf]) -> Result<(), String> {
    eprintln!("\n==> npm: install the tarballs into an empty directory, no Rust on PATH");
    let dir = dist.join("verify/npm-app");
    mkdir(&dir)?;
    std::fs::write(
        dir.join("package.json"),
        "{\"name\": \"verify-app\", \"private\": true}\n",
    )
    .map_err(|e| e.to_string())?;
    let path = path_without_rust();
    let env = [("PATH", path.as_str())];
    let mut args = vec![
        "install".to_string(),
        "--no-audit".into(),
        "--no-fund".into(),
    ];
    args.extend(built.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_cmd_in(&dir, "npm", &args, &env)?;
    if Command::new("sh")
        .args(["-c", "command -v cargo || command -v rustc"])
        .env("PATH", &path)
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false)
    {
        return Err("a Rust toolchain is still on the PATH of the npm proof".into());
    }
    run_node_proofs(&dir, &env)
}

/// The signed call from an installed `pockyt-payouts`, once through
/// `require` and once through `import`.
fn run_node_proofs(dir: &Path, env: &[(&str, &str)]) -> Result<(), String> {
    let cjs = format!(
        "const {{ Client }} = require('pockyt-payouts'); const {{ startSandbox }} = require('pockyt-payouts/testing'); \
         const KIND = 'require'; (async () => {{ {NODE_PROOF_BODY} }})().catch((e) => {{ console.error(e); process.exit(1) }})"
    );
    run_cmd_in(dir, "node", &["-e", &cjs], env)?;
    let esm = format!(
        "import {{ Client }} from 'pockyt-payouts'; import {{ startSandbox }} from 'pockyt-payouts/testing'; \
         const KIND = 'import'; {NODE_PROOF_BODY}"
    );
    run_cmd_in(dir, "node", &["--input-type=module", "-e", &esm], env)
}

/// Publishes, in dependency order, stopping at the first failure.
fn upload(tokens: &Tokens, python: &[PathBuf], npm: &[PathBuf]) -> Result<(), String> {
    for name in CRATES {
        run_cmd_in(
            &root(),
            "cargo",
            &["publish", "-p", name, "--no-verify"],
            &[("CARGO_REGISTRY_TOKEN", tokens.cargo.as_str())],
        )
        .map_err(|e| {
            format!("publishing crate {name} failed, nothing after it was published: {e}")
        })?;
    }
    let maturin = crate::test::venv()
        .join("bin/maturin")
        .display()
        .to_string();
    let mut args = vec!["upload".to_string(), "--non-interactive".into()];
    args.extend(python.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_cmd_in(
        &root(),
        &maturin,
        &args,
        &[("MATURIN_PYPI_TOKEN", tokens.pypi.as_str())],
    )
    .map_err(|e| format!("uploading to PyPI failed (the crates are published; npm is not): {e}"))?;
    let npmrc = root().join("target/dist/.npmrc");
    std::fs::write(&npmrc, "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
        .map_err(|e| e.to_string())?;
    let npmrc_s = npmrc.display().to_string();
    // The platform package first: the main package depends on it.
    let mut ordered: Vec<&PathBuf> = npm
        .iter()
        .filter(|p| p.to_string_lossy().contains(NPM_PLATFORM))
        .collect();
    ordered.extend(
        npm.iter()
            .filter(|p| !p.to_string_lossy().contains(NPM_PLATFORM)),
    );
    for tarball in ordered {
        run_cmd_in(
            &root(),
            "npm",
            &[
                "publish",
                &tarball.display().to_string(),
                "--access",
                "public",
                "--userconfig",
                &npmrc_s,
            ],
            &[("NPM_TOKEN", tokens.npm.as_str())],
        )
        .map_err(|e| format!("publishing {} to npm failed: {e}", tarball.display()))?;
    }
    eprintln!("publish: every package published");
    Ok(())
}
