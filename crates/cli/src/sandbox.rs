//! `pockyt-payouts sandbox`: the local emulator (`pockyt_sandbox`) until
//! Ctrl-C or SIGTERM. Options are read by the sandbox's own rules
//! (`pockyt_sandbox::options::sandbox_config`, as the Python and Node
//! packages pass them), not restated here.

use clap::Args;
use pockyt_payouts::naming::{snake_case, Spelling};
use pockyt_sandbox::options::sandbox_config;
use pockyt_sandbox::{Sandbox, DEFAULT_API_TOKEN};
use serde_json::{json, Map, Value};

use crate::exit_code;
use crate::output::{note, say, Failure, Output};

/// Examples of `sandbox`, after its help.
pub(crate) const EXAMPLES: &str = "\
On start it prints its base URL and the POCKYT_* values that point this
command (or the SDK) at it, as shell `export` lines (one JSON object with
--json), then serves until Ctrl-C. The sandbox's token is its public default
unless --api-token is given (then it is not printed).

Examples:
  pockyt-payouts sandbox --port 8080
  pockyt-payouts sandbox --settle-delay-ms 100 --balance USD=5000.00 --balance EUR=100.00
  eval \"$(pockyt-payouts sandbox --port 8080 | grep ^export)\"   # in another shell";

/// `sandbox`.
#[derive(Args, Debug)]
pub(crate) struct SandboxArgs {
    /// The address to listen on.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    host: String,
    /// The port to listen on; 0 lets the OS pick one.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    port: u16,
    /// Time from a payout's creation to its final status [default: 2000].
    #[arg(long, value_name = "MS")]
    settle_delay_ms: Option<u64>,
    /// The wait before each IPN try, at most 8
    /// [default: 0,250,500,1000,2000,4000,8000,16000].
    #[arg(long, value_name = "MS,MS..", value_delimiter = ',')]
    ipn_retry_delays_ms: Option<Vec<u64>>,
    /// A starting balance; repeat for more currencies [default: USD=1000000.00].
    #[arg(long, value_name = "CURRENCY=AMOUNT")]
    balance: Vec<String>,
    /// The merchant number requests must carry [default: 202333].
    #[arg(long, value_name = "NO")]
    merchant_no: Option<String>,
    /// The store number requests must carry [default: 301854].
    #[arg(long, value_name = "NO")]
    store_no: Option<String>,
    /// The API token requests are signed with [default: the sandbox's public
    /// `sandbox-api-token`].
    #[arg(long, value_name = "TOKEN")]
    api_token: Option<String>,
}

impl SandboxArgs {
    /// The options by name, as `sandbox_config` reads them (Node spelling:
    /// camelCase, durations in milliseconds).
    fn options(&self) -> Result<Map<String, Value>, Failure> {
        let mut options = Map::new();
        options.insert("host".into(), json!(self.host));
        options.insert("port".into(), json!(self.port));
        if let Some(ms) = self.settle_delay_ms {
            options.insert("settleDelayMs".into(), json!(ms));
        }
        if let Some(delays) = &self.ipn_retry_delays_ms {
            options.insert("ipnRetryDelaysMs".into(), json!(delays));
        }
        if !self.balance.is_empty() {
            let mut balances = Map::new();
            for entry in &self.balance {
                let Some((currency, amount)) = entry.split_once('=') else {
                    return Err(Failure::usage(format!(
                        "--balance must look like USD=1000.00, not {entry:?}"
                    )));
                };
                balances.insert(currency.trim().to_owned(), json!(amount.trim()));
            }
            options.insert("balances".into(), Value::Object(balances));
        }
        for (name, value) in [
            ("merchantNo", &self.merchant_no),
            ("storeNo", &self.store_no),
            ("apiToken", &self.api_token),
        ] {
            if let Some(value) = value {
                options.insert(name.into(), json!(value));
            }
        }
        Ok(options)
    }
}

/// The flag an option name of `sandbox_config` comes from.
fn flag_of(option: &str) -> String {
    match option {
        "balances" => "--balance".to_owned(),
        other => format!("--{}", snake_case(other).replace('_', "-")),
    }
}

/// Quotes `value` for a POSIX shell when it needs it.
fn shell(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@%+,".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

/// Runs the sandbox until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: SandboxArgs, out: &Output) -> Result<i32, Failure> {
    let config = sandbox_config(Spelling::Node, &args.options()?)
        .map_err(|v| Failure::usage(format!("{} {}", flag_of(&v.field), v.rule)))?;
    // The handlers go in before the base URL is printed: a supervisor that
    // stops the sandbox as soon as it reads it must find them in place.
    let stop =
        pockyt_sandbox::stop_signal().map_err(|e| Failure::io("cannot listen for Ctrl-C", &e))?;
    let started = if out.quiet {
        Sandbox::start(config).await
    } else {
        Sandbox::start_with_request_log(config).await
    };
    let sandbox = started.map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => Failure::usage(e.to_string()),
        _ => Failure::new("SANDBOX_START", format!("cannot start the sandbox: {e}")),
    })?;
    let base_url = sandbox.base_url();
    let c = sandbox.config();
    let mut env = vec![
        ("POCKYT_BASE_URL", base_url.clone()),
        ("POCKYT_MERCHANT_NO", c.merchant_no.clone()),
        ("POCKYT_STORE_NO", c.store_no.clone()),
    ];
    // The default token is public (the sandbox's README shows it); one the
    // user chose is treated as a secret.
    let public_token = c.api_token == DEFAULT_API_TOKEN;
    if public_token {
        env.push(("POCKYT_API_TOKEN", c.api_token.clone()));
    }
    if out.json {
        let vars: Map<String, Value> = env.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        out.json_line(&json!({ "baseUrl": base_url, "env": vars }));
    } else {
        say(&format!("pockyt-sandbox listening on {base_url}"));
        for (name, value) in &env {
            say(&format!("export {name}={}", shell(value)));
        }
        if !public_token {
            say("# POCKYT_API_TOKEN: the value given with --api-token");
        }
        if !out.quiet {
            note("Ctrl-C stops the sandbox.");
        }
    }
    let stopped = stop.await;
    if !out.quiet {
        note("pockyt-sandbox: shutting down");
    }
    sandbox.shutdown().await;
    stopped.map_err(|e| Failure::io("waiting for Ctrl-C", &e))?;
    Ok(exit_code::SUCCESS)
}
