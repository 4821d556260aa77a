//! One driver process per client run, run one after another so that they
//! never compete for the two cores: the command of each client, the
//! environment every driver reads, and the JSON line each prints.
//!
//! A driver's stderr goes to `target/bench/logs/<name>.log`.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::artifacts::Artifacts;
use super::out_dir;
use super::sandbox::{Sandbox, API_TOKEN, MERCHANT_NO, STORE_NO};

/// What `pockyt-bench setup` registered, passed to every driver.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The bench payee.
    pub customer_no: String,
    /// Its bank account.
    pub account_token: String,
    /// An existing payout's invoiceId.
    pub invoice_id: String,
    /// The payee `add_bank_account` adds its accounts to (not the bench
    /// payee, whose list of accounts must stay short).
    pub accounts_customer_no: String,
}

/// How a driver run ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every call succeeded: the driver's JSON line.
    Done(Value),
    /// The client has no such operation (`n/a`).
    NotSupported,
    /// A call failed or the driver did: what it printed (if anything) and why.
    Failed {
        /// The driver's JSON line, when it printed one.
        line: Option<Value>,
        /// The first error's text, or the exit status and the log's tail.
        reason: String,
    },
}

/// The driver command of `client` with its mode arguments (`run <client>
/// <op> <calls> <concurrency>` or `memory <client> <in-flight>`).
fn command(artifacts: &Artifacts, client: &str, mode: &[String]) -> Command {
    let mut cmd = match client {
        "raw" | "rust" | "setup" => Command::new(&artifacts.rust_driver),
        "python-threads" | "python-async" | "provider" => {
            let mut cmd = Command::new(&artifacts.python);
            cmd.arg(artifacts.drivers_dir.join("driver.py"));
            cmd
        }
        "node" => {
            let mut cmd = Command::new("node");
            cmd.arg("--expose-gc")
                .arg(artifacts.drivers_dir.join("driver.mjs"))
                .env("NAPI_RS_NATIVE_LIBRARY_PATH", &artifacts.node_addon);
            cmd
        }
        other => unreachable!("no driver for {other}"),
    };
    cmd.args(mode);
    cmd
}

/// The environment every driver reads.
fn environment(sandbox: &Sandbox, setup: Option<&Setup>, prefix: &str) -> Vec<(String, String)> {
    let mut vars = vec![
        ("POCKYT_MERCHANT_NO", MERCHANT_NO.to_string()),
        ("POCKYT_STORE_NO", STORE_NO.to_string()),
        ("POCKYT_API_TOKEN", API_TOKEN.to_string()),
        ("POCKYT_BASE_URL", sandbox.base_url.clone()),
        ("BENCH_PREFIX", prefix.to_string()),
    ];
    if let Some(setup) = setup {
        vars.push(("BENCH_CUSTOMER_NO", setup.customer_no.clone()));
        vars.push(("BENCH_ACCOUNT_TOKEN", setup.account_token.clone()));
        vars.push(("BENCH_INVOICE_ID", setup.invoice_id.clone()));
        vars.push((
            "BENCH_ACCOUNTS_CUSTOMER_NO",
            setup.accounts_customer_no.clone(),
        ));
    }
    vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Runs one driver to its end. `prefix` starts every invoiceId it makes;
/// `log` names its stderr file.
pub fn run(
    artifacts: &Artifacts,
    sandbox: &Sandbox,
    setup: Option<&Setup>,
    client: &str,
    mode: &[String],
    prefix: &str,
    log: &str,
) -> Outcome {
    let log_path = out_dir().join("logs").join(format!("{log}.log"));
    let mut cmd = command(artifacts, client, mode);
    cmd.envs(environment(sandbox, setup, prefix))
        .current_dir(crate::root())
        .stdin(Stdio::null());
    let shown = format!("{client} {}", mode.join(" "));
    eprintln!("bench: {shown} (log: {})", log_path.display());
    let stderr = match std::fs::create_dir_all(log_path.parent().unwrap())
        .and_then(|()| std::fs::File::create(&log_path))
    {
        Ok(file) => file,
        Err(e) => {
            return Outcome::Failed {
                line: None,
                reason: format!("{}: {e}", log_path.display()),
            }
        }
    };
    let output = match cmd.stderr(stderr).output() {
        Ok(output) => output,
        Err(e) => {
            return Outcome::Failed {
                line: None,
                reason: format!("could not start the {client} driver: {e}"),
            }
        }
    };
    let line = String::from_utf8_lossy(&output.stdout)
        .lines()
        .rev()
        .find_map(|l| {
            serde_json::from_str::<Value>(l.trim())
                .ok()
                .filter(Value::is_object)
        });
    if output.status.success() {
        match line {
            Some(line) if line["supported"] == Value::Bool(false) => Outcome::NotSupported,
            Some(line) => Outcome::Done(line),
            None => Outcome::Failed {
                line: None,
                reason: format!("{shown}: printed no JSON line\n{}", tail(&log_path)),
            },
        }
    } else {
        let reason = line
            .as_ref()
            .and_then(|l| l["first_error"].as_str())
            .map(|e| {
                format!(
                    "{} error(s), the first: {e}",
                    line.as_ref().unwrap()["errors"]
                )
            })
            .unwrap_or_else(|| format!("{shown}: {}\n{}", output.status, tail(&log_path)));
        Outcome::Failed { line, reason }
    }
}

/// The last lines of a log, for a failure's message.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(20);
    lines[start..].join("\n")
}

/// Runs `pockyt-bench setup`: the payees, account and payout of the run.
pub fn setup(artifacts: &Artifacts, sandbox: &Sandbox, run_id: &str) -> Result<Setup, String> {
    let mode = ["setup".to_string()];
    match run(artifacts, sandbox, None, "setup", &mode, run_id, "setup") {
        Outcome::Done(line) => {
            let field = |name: &str| {
                line[name]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("setup printed no {name}: {line}"))
            };
            let setup = Setup {
                customer_no: field("customer_no")?,
                account_token: field("account_token")?,
                invoice_id: field("invoice_id")?,
                accounts_customer_no: field("accounts_customer_no")?,
            };
            eprintln!(
                "bench: payee {} account {} payout {} (accounts added to payee {})",
                setup.customer_no,
                setup.account_token,
                setup.invoice_id,
                setup.accounts_customer_no
            );
            Ok(setup)
        }
        Outcome::Failed { reason, .. } => Err(format!("setup failed: {reason}")),
        Outcome::NotSupported => Err("setup: unexpected answer".into()),
    }
}

/// A short id unique to this run (base-36 seconds since the epoch), the
/// start of every invoiceId the run makes.
pub fn run_id() -> String {
    let mut n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(char::from(
            b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize],
        ));
        n /= 36;
    }
    format!("b{}", digits.iter().rev().collect::<String>())
}
