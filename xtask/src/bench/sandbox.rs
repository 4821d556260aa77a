//! The one release sandbox of a bench run: started on port 0, its URL read
//! from its first line on stdout, its request log written to
//! `target/bench/sandbox.log`, and stopped when the guard is dropped (also
//! when the run fails).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::out_dir;

/// The merchant number the bench's sandbox expects.
pub const MERCHANT_NO: &str = "202333";
/// The store number the bench's sandbox expects.
pub const STORE_NO: &str = "301854";
/// The API token the bench's sandbox expects.
pub const API_TOKEN: &str = "bench-api-token-0001";

/// A running sandbox; dropping it stops the process.
pub struct Sandbox {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The options it was started with (for the JSON report).
    pub args: Vec<String>,
}

impl Sandbox {
    /// Starts `binary` with enough balance for `pays` pays of 1.00 USD and
    /// room for `connections` connections at once.
    pub fn start(binary: &Path, pays: usize, connections: usize) -> Result<Sandbox, String> {
        // 1.00 per pay, with a wide margin (the minimum the sandbox is given
        // is 1,000,000.00).
        let balance = format!("USD={}.00", (pays * 2).max(1_000_000));
        let args: Vec<String> = [
            "--port",
            "0",
            "--merchant-no",
            MERCHANT_NO,
            "--store-no",
            STORE_NO,
            "--api-token",
            API_TOKEN,
            "--balance",
            &balance,
            // No payout settles while the bench runs: settling is the
            // sandbox's work, and it would land on whichever client runs
            // a second after the one that paid.
            "--settle-delay-ms",
            "3600000",
            "--max-connections",
            &connections.max(512).to_string(),
            "--connection-reserve",
            "1024",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        std::fs::create_dir_all(out_dir()).map_err(|e| format!("{}: {e}", out_dir().display()))?;
        let log_path = out_dir().join("sandbox.log");
        let log =
            std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        eprintln!("$ {} {}", binary.display(), args.join(" "));
        let mut child = Command::new(binary)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        // From here on the guard stops the process whatever happens.
        let mut sandbox = Sandbox {
            child,
            base_url: String::new(),
            args,
        };
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        lines
            .read_line(&mut first)
            .map_err(|e| format!("reading the sandbox's stdout: {e}"))?;
        sandbox.base_url = first
            .trim()
            .strip_prefix("pockyt-sandbox listening on ")
            .ok_or_else(|| {
                format!(
                    "the sandbox printed {first:?}, not its URL (see {})",
                    log_path.display()
                )
            })?
            .to_string();
        // Keep draining stdout so that the sandbox never blocks on it.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut lines, &mut std::io::sink());
        });
        eprintln!("bench: sandbox at {}", sandbox.base_url);
        Ok(sandbox)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
