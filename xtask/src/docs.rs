//! `cargo xtask docs`: the API reference of the three languages, built from
//! the code's own doc comments into `target/docs/`, every warning an error.
//!
//! - `target/docs/rust`: rustdoc of the published crates (`pockyt-payouts`
//!   with all its features, `-core`, `-sign`, `pockyt-sandbox`), built with
//!   `RUSTDOCFLAGS="-D warnings"` (broken or private intra-doc links,
//!   invalid HTML, and — through each crate's `#![deny(missing_docs)]` — an
//!   undocumented public item all fail the build). Built in the workspace's
//!   one target directory, so only those four crates are documented again.
//! - `target/docs/python`: pdoc over the `pockyt_payouts` package installed
//!   (from this tree, in the dev profile, as `cargo xtask test` does) in the
//!   test virtual environment `target/pyenv`; Python runs with `-W error`,
//!   and anything pdoc prints as a warning fails the step too.
//! - `target/docs/node`: TypeDoc over the npm package's `.d.ts` files (its
//!   entry points, one module per export path), `--treatWarningsAsErrors`.
//!
//! What the steps need is installed here when missing (the virtual
//! environment and pdoc; the npm devDependencies, TypeDoc among them, with
//! `npm ci` from the lockfile), so the command works on a fresh clone.
//! `--rust`, `--python`, `--node` build only those parts (default: all).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::test::{parts, step};
use crate::{root, run_cmd_in};

/// The crates published to crates.io, documented together (so their links
/// to each other resolve).
const CRATES: [&str; 5] = [
    "pockyt-payouts-core",
    "pockyt-payouts-sign",
    "pockyt-payouts",
    "pockyt-sandbox",
    "pockyt-payouts-cli",
];

/// pdoc, in the test virtual environment.
const PDOC: &str = "pdoc>=15,<17";

/// The npm package's type entry points: `pockyt-payouts` and its export
/// paths (`/testing`, `/webhooks`, `/express`, `/fastify`).
const NODE_ENTRY_POINTS: [&str; 5] = [
    "index.d.ts",
    "testing.d.ts",
    "webhooks.d.ts",
    "express.d.ts",
    "fastify.d.ts",
];

/// Where every language's reference is written.
fn out_dir() -> PathBuf {
    root().join("target/docs")
}

pub fn run(args: &[String]) -> Result<(), String> {
    let parts = parts("docs", args)?;
    let started = Instant::now();
    if parts.rust {
        rust()?;
    }
    if parts.python {
        python()?;
    }
    if parts.node {
        node()?;
    }
    write_index()?;
    eprintln!(
        "\nxtask docs: {} in {:.1} s",
        out_dir().join("index.html").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn remove_dir(dir: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("could not remove {}: {e}", dir.display())),
    }
}

fn rust() -> Result<(), String> {
    let out = out_dir().join("rust");
    // cargo writes into `target/doc`, and rustdoc adds each crate to the
    // search index and crate list already there. Starting from an empty
    // `target/doc` keeps crates documented by other runs out of this
    // reference (cargo documents a crate again when its output is gone).
    let cargo_doc = root().join("target/doc");
    step("rust: cargo doc -D warnings", || {
        remove_dir(&cargo_doc)?;
        let mut args = vec!["doc", "--no-deps", "--all-features"];
        for krate in CRATES {
            args.extend(["-p", krate]);
        }
        run_cmd_in(&root(), "cargo", &args, &[("RUSTDOCFLAGS", "-D warnings")])
    })?;
    step("rust: target/docs/rust", || {
        remove_dir(&out)?;
        std::fs::create_dir_all(out_dir()).map_err(|e| e.to_string())?;
        std::fs::rename(&cargo_doc, &out).map_err(|e| {
            format!(
                "could not move {} to {}: {e}",
                cargo_doc.display(),
                out.display()
            )
        })?;
        // rustdoc's lock file for its shared files, not part of the docs.
        let _ = std::fs::remove_file(out.join(".lock"));
        std::fs::write(
            out.join("index.html"),
            redirect("pockyt_payouts/index.html"),
        )
        .map_err(|e| e.to_string())
    })
}

fn venv_bin(name: &str) -> String {
    crate::test::venv()
        .join("bin")
        .join(name)
        .display()
        .to_string()
}

/// The package's public modules: the package and its submodules not
/// marked private with a leading `_`. pdoc lists only submodules named in
/// `__all__`, which names the package's classes and functions, so each
/// public submodule is passed explicitly.
fn python_modules() -> Result<Vec<String>, String> {
    let dir = root().join("bindings/python/python/pockyt_payouts");
    let mut modules = vec!["pockyt_payouts".to_string()];
    let mut submodules = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        if let Some(stem) = name.strip_suffix(".py") {
            if !stem.starts_with('_') {
                submodules.push(format!("pockyt_payouts.{stem}"));
            }
        }
    }
    submodules.sort();
    modules.extend(submodules);
    Ok(modules)
}

fn python() -> Result<(), String> {
    let target = root().join("target").display().to_string();
    step("python: virtual environment and pdoc", || {
        crate::test::ensure_venv()?;
        run_cmd_in(
            &root(),
            &venv_bin("pip"),
            &["install", "--quiet", "--disable-pip-version-check", PDOC],
            &[],
        )
    })?;
    // The same build `cargo xtask test` installs (dev profile, shared target
    // directory): the reference describes this tree, not a stale install.
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
            &[
                ("CARGO_TARGET_DIR", target.as_str()),
                ("MATURIN_PEP517_ARGS", "--profile dev"),
            ],
        )
    })?;
    let out = out_dir().join("python");
    step("python: pdoc -W error", || {
        remove_dir(&out)?;
        let modules = python_modules()?;
        let out_s = out.display().to_string();
        let mut args = vec![
            "-W",
            "error",
            "-m",
            "pdoc",
            "--docformat",
            "markdown",
            "--footer-text",
            "pockyt-payouts",
            "-o",
            &out_s,
        ];
        args.extend(modules.iter().map(String::as_str));
        // Run from `target/`, where no `pockyt_payouts` directory can shadow
        // the installed package.
        let stderr = run_capturing_stderr(&root().join("target"), &venv_bin("python"), &args)?;
        if stderr.to_ascii_lowercase().contains("warn") {
            return Err("pdoc printed a warning (see above)".into());
        }
        Ok(())
    })
}

/// Runs a command like [`run_cmd_in`], and hands back what it wrote to
/// stderr (after echoing it).
fn run_capturing_stderr(dir: &Path, program: &str, args: &[&str]) -> Result<String, String> {
    eprintln!("$ {} {}", program, args.join(" "));
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("could not run {program}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    eprint!("{stdout}{stderr}");
    if output.status.success() {
        Ok(stderr)
    } else {
        Err(format!(
            "`{program} {}` failed ({})",
            args.join(" "),
            output.status
        ))
    }
}

fn node() -> Result<(), String> {
    let dir = root().join("bindings/node");
    step("node: npm ci", || {
        run_cmd_in(&dir, "npm", &["ci", "--no-audit", "--no-fund"], &[])
    })?;
    let out = out_dir().join("node");
    step("node: typedoc --treatWarningsAsErrors", || {
        remove_dir(&out)?;
        let typedoc = dir.join("node_modules/.bin/typedoc").display().to_string();
        let out_s = out.display().to_string();
        let mut args = vec![
            "--treatWarningsAsErrors",
            // Source links would point at this checkout's commit on a
            // remote that may not have it.
            "--disableSources",
            "--tsconfig",
            "tsconfig.json",
            "--readme",
            "README.md",
            "--out",
            &out_s,
        ];
        args.extend(NODE_ENTRY_POINTS);
        run_cmd_in(&dir, &typedoc, &args, &[])
    })
}

fn redirect(to: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"refresh\" content=\"0; url={to}\">\n<a href=\"{to}\">{to}</a>\n"
    )
}

/// `target/docs/index.html`: one page linking the references present.
fn write_index() -> Result<(), String> {
    let mut links = String::new();
    for (dir, page, name) in [
        (
            "rust",
            "rust/pockyt_payouts/index.html",
            "Rust: pockyt-payouts, -core, -sign, -cli, pockyt-sandbox",
        ),
        ("python", "python/index.html", "Python: pockyt_payouts"),
        ("node", "node/index.html", "Node: pockyt-payouts"),
    ] {
        if out_dir().join(dir).is_dir() {
            links.push_str(&format!("<li><a href=\"{page}\">{name}</a></li>\n"));
        }
    }
    std::fs::create_dir_all(out_dir()).map_err(|e| e.to_string())?;
    std::fs::write(
        out_dir().join("index.html"),
        format!(
            "<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<title>pockyt-payouts API reference</title>\n<h1>pockyt-payouts API reference</h1>\n<ul>\n{links}</ul>\n"
        ),
    )
    .map_err(|e| e.to_string())
}
