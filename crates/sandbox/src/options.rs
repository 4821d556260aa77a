//! Sandbox settings given by name, as the Python and Node packages pass
//! them (`testing.Sandbox(...)`, `startSandbox({...})`): one rule for both.
//!
//! Names and units follow the language ([`Spelling`]): Python
//! `settle_delay=0.5` (seconds), Node `settleDelayMs: 500`. Unknown names,
//! values of the wrong type and values out of range are refused with a
//! [`Violation`] naming the option in that language's spelling.
//!
//! ```
//! use pockyt_payouts_core::naming::Spelling;
//! use pockyt_sandbox::options::sandbox_config;
//! let options = serde_json::json!({ "port": 0, "settleDelayMs": 250, "ipnRetryDelaysMs": [0, 10] });
//! let config = sandbox_config(Spelling::Node, options.as_object().unwrap()).unwrap();
//! assert_eq!(config.settle_delay, std::time::Duration::from_millis(250));
//! let err = sandbox_config(Spelling::Node, serde_json::json!({ "settleDelay": 1 }).as_object().unwrap()).unwrap_err();
//! assert_eq!(err.field, "settleDelay");
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use pockyt_payouts_core::naming::Spelling;
use pockyt_payouts_core::validate::Violation;
use serde_json::{Map, Value};

use crate::SandboxConfig;

/// The longest duration an option accepts: one day.
const MAX_DURATION: Duration = Duration::from_secs(86_400);

/// (name, is a duration)
const OPTIONS: &[(&str, bool)] = &[
    ("merchant_no", false),
    ("store_no", false),
    ("api_token", false),
    ("host", false),
    ("port", false),
    ("balances", false),
    ("settle_delay", true),
    ("ipn_retry_delays", true),
    ("timestamp_tolerance", true),
    ("max_connections", false),
    ("header_read_timeout", true),
    ("body_read_timeout", true),
    ("max_body_bytes", false),
    ("max_fields", false),
    ("connection_reserve", false),
    ("idempotency_ttl", true),
    ("idempotency_max_keys", false),
    ("idempotency_wait", true),
    ("duplicate_window", true),
];

struct Reader {
    spelling: Spelling,
}

impl Reader {
    fn name(&self, option: &str) -> String {
        let is_duration = OPTIONS.iter().any(|(n, d)| *n == option && *d);
        self.spelling.name(option, is_duration)
    }

    fn refuse(&self, option: &str, rule: impl Into<String>) -> Violation {
        Violation::new(&self.name(option), rule)
    }

    fn text(&self, option: &str, value: &Value) -> Result<String, Violation> {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.refuse(option, "must be a string"))
    }

    fn duration(&self, option: &str, value: &Value) -> Result<Duration, Violation> {
        // Only the payout's settle time and the IPN waits may be zero; a
        // zero timeout or window would refuse everything.
        let zero_ok = matches!(option, "settle_delay" | "ipn_retry_delays");
        value
            .as_f64()
            .filter(|_| !value.is_boolean())
            .and_then(|n| self.spelling.duration(n))
            .filter(|d| *d <= MAX_DURATION && (zero_ok || !d.is_zero()))
            .ok_or_else(|| {
                self.refuse(
                    option,
                    format!(
                        "must be a number of {} from 0 to {}",
                        self.spelling.unit(),
                        self.spelling.from_duration(MAX_DURATION)
                    ),
                )
            })
    }

    fn count(&self, option: &str, value: &Value, low: u64, high: u64) -> Result<u64, Violation> {
        value
            .as_u64()
            .filter(|n| (low..=high).contains(n))
            .ok_or_else(|| {
                self.refuse(
                    option,
                    format!("must be a whole number from {low} to {high}"),
                )
            })
    }
}

/// A sandbox configuration from options given by name (`null` values take
/// the defaults). The server listens on `127.0.0.1` and a free port unless
/// told otherwise.
pub fn sandbox_config(
    spelling: Spelling,
    options: &Map<String, Value>,
) -> Result<SandboxConfig, Violation> {
    let reader = Reader { spelling };
    let mut config = SandboxConfig::default();
    for (given, value) in options {
        let Some((option, _)) = OPTIONS.iter().find(|(n, _)| reader.name(n) == *given) else {
            let known: Vec<String> = OPTIONS.iter().map(|(n, _)| reader.name(n)).collect();
            return Err(Violation::new(
                given,
                format!(
                    "is not a sandbox option (the options are {})",
                    known.join(", ")
                ),
            ));
        };
        if value.is_null() {
            continue;
        }
        match *option {
            "merchant_no" => config.merchant_no = reader.text(option, value)?,
            "store_no" => config.store_no = reader.text(option, value)?,
            "api_token" => config.api_token = reader.text(option, value)?,
            "host" => {
                config.host = reader.text(option, value)?.parse::<IpAddr>().map_err(|_| {
                    reader.refuse(option, "must be an IP address, like \"127.0.0.1\"")
                })?;
            }
            "port" => config.port = reader.count(option, value, 0, 65_535)? as u16,
            "balances" => {
                let Value::Object(balances) = value else {
                    return Err(reader.refuse(option, "must map currencies to amount strings"));
                };
                let mut parsed = BTreeMap::new();
                for (currency, amount) in balances {
                    let amount = amount.as_str().ok_or_else(|| {
                        reader.refuse(
                            option,
                            format!("must map currencies to amount strings ({currency})"),
                        )
                    })?;
                    parsed.insert(currency.clone(), amount.to_owned());
                }
                config.balances = parsed;
            }
            "settle_delay" => config.settle_delay = reader.duration(option, value)?,
            "ipn_retry_delays" => {
                let Value::Array(delays) = value else {
                    return Err(reader.refuse(
                        option,
                        format!("must be a list of numbers of {}", spelling.unit()),
                    ));
                };
                config.ipn_retry_delays = delays
                    .iter()
                    .map(|d| reader.duration(option, d))
                    .collect::<Result<_, _>>()?;
            }
            "timestamp_tolerance" => config.timestamp_tolerance = reader.duration(option, value)?,
            "max_connections" => {
                config.max_connections = reader.count(option, value, 1, 65_535)? as usize
            }
            "header_read_timeout" => config.header_read_timeout = reader.duration(option, value)?,
            "body_read_timeout" => config.body_read_timeout = reader.duration(option, value)?,
            "max_body_bytes" => {
                config.max_body_bytes = reader.count(option, value, 1024, 64 << 20)? as usize
            }
            "max_fields" => config.max_fields = reader.count(option, value, 1, 1_000_000)? as usize,
            "connection_reserve" => {
                config.connection_reserve = reader.count(option, value, 1, 65_535)? as usize
            }
            "idempotency_ttl" => config.idempotency_ttl = reader.duration(option, value)?,
            "idempotency_max_keys" => {
                config.idempotency_max_keys = reader.count(option, value, 1, 10_000_000)? as usize
            }
            "idempotency_wait" => config.idempotency_wait = reader.duration(option, value)?,
            "duplicate_window" => config.duplicate_window = reader.duration(option, value)?,
            _ => unreachable!("every listed option is handled"),
        }
    }
    Ok(config)
}
