//! `cargo xtask first-hour`: a newcomer's first hour, as the READMEs tell
//! it. In a fresh clone of the committed tree, every fenced `sh` block that
//! a README marks with `<!-- first-hour -->` (or `<!-- first-hour
//! cwd=DIR -->`, DIR relative to the clone) runs exactly as written, one
//! block per `bash -e`, in the order the READMEs give them. A block fails
//! the check when a command fails, and when a quickstart it runs does not
//! end with the line the READMEs promise.
//!
//! The shell is a newcomer's: no `POCKYT_*` variables, a new Python
//! virtual environment active (so `pip` and `python` are its own), and
//! `cargo install` writing into a scratch root on PATH. Only one thing is
//! shared with the checkout running the check: Cargo's target directory
//! (`CARGO_TARGET_DIR`), as a build cache — the clone's own crates rebuild
//! from its sources; only compiled dependencies are reused.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{root, run_cmd};

/// The READMEs checked, in the order a newcomer reads them.
const READMES: [&str; 3] = [
    "README.md",
    "bindings/python/README.md",
    "bindings/node/README.md",
];

/// The line every quickstart ends with.
const QUICKSTART_DONE: &str = "✔ payout flow complete";

/// A marked block: where it is, where it runs, what it says.
struct Block {
    readme: &'static str,
    line: usize,
    cwd: String,
    script: String,
}

pub fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("usage: cargo xtask first-hour".into());
    }
    let scratch = std::env::temp_dir().join(format!("pockyt-first-hour-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let clone = scratch.join("pockyt-payouts");
    warn_if_dirty();
    run_cmd(
        "git",
        &[
            "clone",
            "--quiet",
            &root().display().to_string(),
            &clone.display().to_string(),
        ],
    )?;

    let mut blocks = Vec::new();
    for readme in READMES {
        let text = std::fs::read_to_string(clone.join(readme))
            .map_err(|e| format!("reading {readme}: {e}"))?;
        let found = marked_blocks(readme, &text)?;
        if found.is_empty() {
            return Err(format!("{readme} marks no block with <!-- first-hour -->"));
        }
        blocks.extend(found);
    }

    let venv = scratch.join("venv");
    run_cmd("python3", &["-m", "venv", &venv.display().to_string()])?;
    let installed = scratch.join("cargo-install");
    let path = format!(
        "{}:{}:{}",
        venv.join("bin").display(),
        installed.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for block in &blocks {
        run_block(block, &clone, &venv, &installed, &path)?;
    }
    let _ = std::fs::remove_dir_all(&scratch);
    eprintln!(
        "\nfirst-hour: {} README blocks ran as written in a fresh clone",
        blocks.len()
    );
    Ok(())
}

fn warn_if_dirty() {
    let dirty = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root())
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        eprintln!("first-hour: note: uncommitted changes are not in the clone; this checks HEAD");
    }
}

/// The fenced `sh` blocks right after a `<!-- first-hour … -->` line.
fn marked_blocks(readme: &'static str, text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(marker) = lines[i]
            .trim()
            .strip_prefix("<!-- first-hour")
            .and_then(|m| m.strip_suffix("-->"))
        else {
            i += 1;
            continue;
        };
        let cwd = match marker.trim() {
            "" => ".".to_owned(),
            option => option
                .strip_prefix("cwd=")
                .ok_or(format!("{readme}:{}: unknown option {option:?}", i + 1))?
                .to_owned(),
        };
        let fence = i + 1;
        if lines.get(fence).map(|l| l.trim()) != Some("```sh") {
            return Err(format!(
                "{readme}:{}: <!-- first-hour --> must be followed by a ```sh block",
                i + 1
            ));
        }
        let end = (fence + 1..lines.len())
            .find(|&j| lines[j].trim() == "```")
            .ok_or(format!("{readme}:{}: the block is not closed", fence + 1))?;
        blocks.push(Block {
            readme,
            line: fence + 1,
            cwd,
            script: lines[fence + 1..end].join("\n"),
        });
        i = end + 1;
    }
    Ok(blocks)
}

/// How many quickstarts a block runs: commands that start a program
/// (`cargo run`, `python`, `node`) on a quickstart.
fn quickstarts_in(script: &str) -> usize {
    script
        .lines()
        .flat_map(|line| line.split("&&"))
        .map(|command| command.split('#').next().unwrap_or_default().trim())
        .filter(|command| {
            ["cargo run", "python ", "node "]
                .iter()
                .any(|runner| command.starts_with(runner))
                && command.contains("quickstart")
        })
        .count()
}

fn run_block(
    block: &Block,
    clone: &Path,
    venv: &Path,
    installed: &Path,
    path: &str,
) -> Result<(), String> {
    let dir: PathBuf = clone.join(&block.cwd);
    eprintln!(
        "\n==> {}:{} (in {})\n{}",
        block.readme, block.line, block.cwd, block.script
    );
    let mut command = Command::new("bash");
    command
        .args(["-e", "-o", "pipefail", "-c", &block.script])
        .current_dir(&dir)
        .env("PATH", path)
        .env("VIRTUAL_ENV", venv)
        .env("CARGO_INSTALL_ROOT", installed)
        .env("CARGO_TARGET_DIR", root().join("target"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("POCKYT_") {
            command.env_remove(name);
        }
    }
    let mut child = command.spawn().map_err(|e| format!("running bash: {e}"))?;
    let mut done = 0;
    for line in BufReader::new(child.stdout.take().ok_or("no stdout")?)
        .lines()
        .map_while(Result::ok)
    {
        if line.trim() == QUICKSTART_DONE {
            done += 1;
        }
        println!("{line}");
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let where_ = format!("{}:{}", block.readme, block.line);
    if !status.success() {
        return Err(format!("the block at {where_} failed ({status})"));
    }
    let expected = quickstarts_in(&block.script);
    if done != expected {
        return Err(format!(
            "the block at {where_} runs {expected} quickstart(s), but {done} printed {QUICKSTART_DONE:?}"
        ));
    }
    Ok(())
}
