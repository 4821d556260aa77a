//! `cargo xtask first-hour`: a newcomer's first hour, as the READMEs tell
//! it. In a fresh clone of the committed tree, every fenced `sh` block that
//! a README marks with `<!-- first-hour -->` (or `<!-- first-hour
//! cwd=DIR -->`, DIR relative to the clone) runs exactly as written, one
//! block per `bash -e`, in the order the READMEs give them. A block fails
//! the check when a command fails, and when a quickstart it runs does not
//! end with the line the READMEs promise.
//!
//! The shell is a newcomer's who follows the READMEs: no `POCKYT_*`
//! variables; the virtual environment the READMEs create (`.venv` at the
//! clone's root) active in every block once it exists, as it stays active
//! in a newcomer's shell; and `cargo install` writing into a scratch root,
//! first on PATH. A block may run for [`BLOCK_TIMEOUT`] at most.
//!
//! When the checkout running the check has no uncommitted changes, the
//! clone shares its Cargo target directory as a build cache (the same
//! sources: only what the clone changes is rebuilt); otherwise the clone
//! builds in `target/first-hour`, so that neither build takes the other's
//! artifacts (Cargo names a workspace crate's artifacts by its path within
//! the workspace, the same in both).

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::{root, run_cmd, without_inherited};

/// The READMEs checked, in the order a newcomer reads them.
const READMES: [&str; 3] = [
    "README.md",
    "bindings/python/README.md",
    "bindings/node/README.md",
];

/// The longest a block may run (a cold build of every binding takes a
/// few minutes on two cores).
const BLOCK_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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
    match check(&scratch) {
        Ok(blocks) => {
            let _ = std::fs::remove_dir_all(&scratch);
            eprintln!("\nfirst-hour: {blocks} README blocks ran as written in a fresh clone");
            Ok(())
        }
        Err(e) => Err(format!("{e}\n(the clone is kept in {})", scratch.display())),
    }
}

/// Clones, then runs every marked block; how many ran.
fn check(scratch: &Path) -> Result<usize, String> {
    let clone = scratch.join("pockyt-payouts");
    let target = if checkout_is_clean() {
        root().join("target")
    } else {
        eprintln!(
            "first-hour: uncommitted changes are not in the clone (it checks HEAD); \
             it builds in target/first-hour"
        );
        root().join("target/first-hour")
    };
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

    let shell = Shell {
        venv: clone.join(".venv"),
        installed: scratch.join("cargo-install"),
        target,
    };
    for block in &blocks {
        run_block(block, &clone, &shell)?;
    }
    Ok(blocks.len())
}

/// What the blocks' shell has: the READMEs' virtual environment, the
/// `cargo install` root, the Cargo target directory.
struct Shell {
    venv: PathBuf,
    installed: PathBuf,
    target: PathBuf,
}

impl Shell {
    fn path(&self) -> String {
        format!(
            "{}:{}:{}",
            self.installed.join("bin").display(),
            self.venv.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

fn checkout_is_clean() -> bool {
    Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(root())
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.is_empty())
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

fn run_block(block: &Block, clone: &Path, shell: &Shell) -> Result<(), String> {
    let dir: PathBuf = clone.join(&block.cwd);
    eprintln!(
        "\n==> {}:{} (in {})\n{}",
        block.readme, block.line, block.cwd, block.script
    );
    let mut command = Command::new("bash");
    command
        .args(["-e", "-o", "pipefail", "-c", &block.script])
        .current_dir(&dir)
        .env("PATH", shell.path())
        .env("VIRTUAL_ENV", &shell.venv)
        .env("CARGO_INSTALL_ROOT", &shell.installed)
        .env("CARGO_TARGET_DIR", &shell.target)
        // Its own process group: a timeout stops the whole block.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    without_inherited(&mut command, &["POCKYT_"]);
    let mut child = command.spawn().map_err(|e| format!("running bash: {e}"))?;
    let (finished, watchdog) = mpsc::channel::<()>();
    let group = child.id();
    let timer = std::thread::spawn(move || {
        let expired = watchdog
            .recv_timeout(BLOCK_TIMEOUT)
            .is_err_and(|e| e == mpsc::RecvTimeoutError::Timeout);
        if expired {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .status();
        }
        expired
    });
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
    let _ = finished.send(());
    let timed_out = timer.join().unwrap_or(false);
    let where_ = format!("{}:{}", block.readme, block.line);
    if timed_out {
        return Err(format!(
            "the block at {where_} ran past {BLOCK_TIMEOUT:?} and was stopped"
        ));
    }
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
