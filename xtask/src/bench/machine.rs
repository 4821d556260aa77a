//! The machine and the versions a bench ran on, for the JSON reports; and
//! the open-files limit the runs need.

use std::process::Command;

use serde_json::{json, Value};

use super::artifacts::Artifacts;

/// Raises this process's soft open-files limit to the hard limit; the
/// sandbox and the drivers inherit it (10,000 pays in flight are 10,000
/// connections). Answers the limit in force.
pub fn raise_nofile_limit() -> u64 {
    if let Err(err) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("bench: could not raise the open-files limit: {err}");
    }
    rlimit::getrlimit(rlimit::Resource::NOFILE)
        .map(|(soft, _)| soft)
        .unwrap_or(0)
}

/// The first line `program args` prints, trimmed (`None` if it fails).
fn version_of(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    let text = String::from_utf8_lossy(&text);
    text.lines()
        .next()
        .map(|l| l.trim().to_string())
        .filter(|l| output.status.success() && !l.is_empty())
}

/// A field of `/proc/cpuinfo` or `/proc/meminfo`.
fn proc_field(file: &str, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

/// nproc, CPU, memory, OS, and the versions of every toolchain and SDK.
pub fn info(artifacts: &Artifacts, python_used: bool) -> Value {
    let python = artifacts.python.display().to_string();
    let pip_version = |package: &str| {
        version_of(
            &python,
            &[
                "-c",
                &format!("import importlib.metadata as m; print(m.version({package:?}))"),
            ],
        )
    };
    json!({
        "nproc": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": proc_field("/proc/cpuinfo", "model name"),
        "memory": proc_field("/proc/meminfo", "MemTotal"),
        "os": std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().map(|s| format!("{} {}", std::env::consts::OS, s.trim())),
        "open_files_limit": rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft).ok(),
        "versions": {
            "pockyt-payouts": env!("CARGO_PKG_VERSION"),
            "rustc": version_of("rustc", &["--version"]),
            "python": if python_used { version_of(&python, &["--version"]) } else { None },
            "pockyt_payouts (python)": if python_used { pip_version("pockyt-payouts") } else { None },
            "yuansfer": if python_used { pip_version("yuansfer") } else { None },
            "node": version_of("node", &["--version"]),
        },
    })
}
