//! Client settings and per-call options given by name, as the Python and
//! Node packages pass them: one rule for every language.
//!
//! Each setting has one canonical name and one spelling per language
//! (Python `connect_timeout` in seconds, Node `connectTimeoutMs` in
//! milliseconds). Whatever the language, an unknown name, a value of the
//! wrong type and a value out of range are refused here, with
//! `INVALID_CONFIG` and the setting's name in that language's spelling as
//! the error's `field`. The ranges are [`Config`]'s.
//!
//! ```
//! use pockyt_payouts::settings::{call_options, Spelling};
//! use serde_json::json;
//!
//! let options = json!({ "timeoutMs": 1500 });
//! let call = call_options(Spelling::Node, options.as_object().unwrap()).unwrap();
//! assert_eq!(call.timeout, Some(std::time::Duration::from_millis(1500)));
//!
//! let err = call_options(Spelling::Node, json!({ "timeout": 1 }).as_object().unwrap()).unwrap_err();
//! assert_eq!(err.code().as_str(), "INVALID_CONFIG");
//! assert_eq!(err.field(), Some("timeout"));
//!
//! let err = call_options(Spelling::Python, json!({ "timeout": "5" }).as_object().unwrap()).unwrap_err();
//! assert_eq!(err.field(), Some("timeout"));
//!
//! let call = call_options(Spelling::Node, json!({ "idempotencyKey": "k-1" }).as_object().unwrap()).unwrap();
//! assert_eq!(call.idempotency_key.as_deref(), Some("k-1"));
//! ```

use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::{Config, Environment};
use crate::error::Error;
use crate::retry::RetryPolicy;

pub use pockyt_payouts_core::naming::Spelling;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Duration,
    Count,
}

/// A setting: its canonical (Rust, snake_case) name and kind.
struct Setting {
    name: &'static str,
    kind: Kind,
    /// Given per call as well as per client.
    per_call: bool,
    /// Read from the environment by `from_env` (not an option there).
    from_env: bool,
}

const SETTINGS: &[Setting] = &[
    Setting {
        name: "merchant_no",
        kind: Kind::Text,
        per_call: false,
        from_env: true,
    },
    Setting {
        name: "store_no",
        kind: Kind::Text,
        per_call: false,
        from_env: true,
    },
    Setting {
        name: "api_token",
        kind: Kind::Text,
        per_call: false,
        from_env: true,
    },
    Setting {
        name: "environment",
        kind: Kind::Text,
        per_call: false,
        from_env: true,
    },
    Setting {
        name: "base_url",
        kind: Kind::Text,
        per_call: false,
        from_env: true,
    },
    Setting {
        name: "timeout",
        kind: Kind::Duration,
        per_call: true,
        from_env: false,
    },
    Setting {
        name: "connect_timeout",
        kind: Kind::Duration,
        per_call: true,
        from_env: false,
    },
    Setting {
        name: "deadline",
        kind: Kind::Duration,
        per_call: true,
        from_env: false,
    },
    Setting {
        name: "idempotency_key",
        kind: Kind::Text,
        per_call: true,
        from_env: false,
    },
    Setting {
        name: "max_retries",
        kind: Kind::Count,
        per_call: false,
        from_env: false,
    },
    Setting {
        name: "max_response_bytes",
        kind: Kind::Count,
        per_call: false,
        from_env: false,
    },
    Setting {
        name: "max_connections",
        kind: Kind::Count,
        per_call: false,
        from_env: false,
    },
];

/// The name a language gives the canonical setting `name`.
///
/// ```
/// use pockyt_payouts::settings::{setting_name, Spelling};
/// assert_eq!(setting_name(Spelling::Node, "connect_timeout"), "connectTimeoutMs");
/// assert_eq!(setting_name(Spelling::Python, "connect_timeout"), "connect_timeout");
/// ```
pub fn setting_name(spelling: Spelling, name: &str) -> String {
    let is_duration = SETTINGS
        .iter()
        .any(|s| s.name == name && s.kind == Kind::Duration);
    spelling.name(name, is_duration)
}

/// A language's settings, looked up by canonical name, with unknown names
/// and values of the wrong type refused.
struct Given<'a> {
    spelling: Spelling,
    values: Vec<(&'static Setting, &'a Value)>,
}

impl<'a> Given<'a> {
    fn read(
        spelling: Spelling,
        options: &'a Map<String, Value>,
        allowed: impl Fn(&Setting) -> bool,
    ) -> Result<Self, Error> {
        let mut values = Vec::new();
        for (given, value) in options {
            let setting = SETTINGS
                .iter()
                .find(|s| allowed(s) && setting_name(spelling, s.name) == *given)
                .ok_or_else(|| {
                    let known: Vec<String> = SETTINGS
                        .iter()
                        .filter(|s| allowed(s))
                        .map(|s| setting_name(spelling, s.name))
                        .collect();
                    Error::invalid_config_owned(
                        given.clone(),
                        format!("is not an option (the options are {})", known.join(", ")),
                    )
                })?;
            if !value.is_null() {
                values.push((setting, value));
            }
        }
        Ok(Given { spelling, values })
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.values
            .iter()
            .find(|(s, _)| s.name == name)
            .map(|(_, v)| *v)
    }

    fn refuse(&self, name: &str, rule: String) -> Error {
        Error::invalid_config_owned(setting_name(self.spelling, name), rule)
    }

    fn text(&self, name: &str) -> Result<Option<String>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.refuse(name, "must be a string".into())),
        }
    }

    fn duration(&self, name: &str) -> Result<Option<Duration>, Error> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let rule = || {
            let (low, high) = Config::DURATION_RANGE;
            let (low, high) = (
                self.spelling.from_duration(low),
                self.spelling.from_duration(high),
            );
            format!(
                "must be a number of {} from {low} to {high}",
                self.spelling.unit()
            )
        };
        let duration = value
            .as_f64()
            .filter(|_| !value.is_boolean())
            .filter(|n| *n > 0.0)
            .and_then(|n| self.spelling.duration(n))
            .ok_or_else(|| self.refuse(name, rule()))?;
        Config::check_duration(duration).map_err(|_| self.refuse(name, rule()))?;
        Ok(Some(duration))
    }

    fn count(&self, name: &str, range: (u64, u64)) -> Result<Option<u64>, Error> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        value
            .as_u64()
            .or_else(|| {
                value
                    .as_f64()
                    .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= u64::MAX as f64)
                    .map(|n| n as u64)
            })
            .filter(|n| (range.0..=range.1).contains(n))
            .map(Some)
            .ok_or_else(|| {
                self.refuse(
                    name,
                    format!("must be a whole number from {} to {}", range.0, range.1),
                )
            })
    }

    /// [`Given::count`] of a size in memory or a count of things (its
    /// range keeps it well within `usize`).
    fn size(&self, name: &str, range: (u64, u64)) -> Result<Option<usize>, Error> {
        Ok(self
            .count(name, range)?
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
    }

    /// Applies the settings other than who and where to `config`.
    fn apply(&self, mut config: Config) -> Result<Config, Error> {
        if let Some(timeout) = self.duration("timeout")? {
            config = config.timeout(timeout);
        }
        if let Some(timeout) = self.duration("connect_timeout")? {
            config = config.connect_timeout(timeout);
        }
        if let Some(deadline) = self.duration("deadline")? {
            config = config.deadline(deadline);
        }
        if let Some(retries) = self.count("max_retries", Config::MAX_RETRIES_RANGE)? {
            let retries = u32::try_from(retries).unwrap_or(u32::MAX);
            config = config.retry_policy(RetryPolicy::default().max_retries(retries));
        }
        if let Some(bytes) = self.size("max_response_bytes", Config::MAX_RESPONSE_BYTES_RANGE)? {
            config = config.max_response_bytes(bytes);
        }
        if let Some(slots) = self.size("max_connections", Config::MAX_CONNECTIONS_RANGE)? {
            config = config.max_connections(slots);
        }
        Ok(config)
    }
}

/// A client's configuration from settings given by name: `merchant_no`,
/// `store_no`, `api_token` (required), `environment`, `base_url`,
/// `timeout`, `connect_timeout`, `deadline`, `max_retries`,
/// `max_response_bytes`, `max_connections` (each in the language's spelling). `null` values
/// count as absent and take the core's default.
///
/// ```
/// use pockyt_payouts::settings::{client_config, Spelling};
/// let options = serde_json::json!({
///     "merchantNo": "202333", "storeNo": "301854", "apiToken": "a-long-token",
///     "maxRetries": 11,
/// });
/// let err = client_config(Spelling::Node, options.as_object().unwrap()).unwrap_err();
/// assert_eq!(err.field(), Some("maxRetries"));
/// ```
pub fn client_config(spelling: Spelling, options: &Map<String, Value>) -> Result<Config, Error> {
    let given = Given::read(spelling, options, |_| true)?;
    let required = |name: &str| -> Result<String, Error> {
        given
            .text(name)?
            .ok_or_else(|| given.refuse(name, "is required".into()))
    };
    let mut config = Config::new(
        required("merchant_no")?,
        required("store_no")?,
        required("api_token")?,
    );
    if let Some(environment) = given.text("environment")? {
        config = config
            .environment_named("environment", &environment)
            .map_err(|_| given.refuse("environment", Environment::NAME_RULE.into()))?;
    }
    if let Some(base_url) = given.text("base_url")? {
        config = config.with_base_url(base_url);
    }
    let config = given.apply(config)?;
    config.check().map_err(|e| respell(spelling, e))?;
    Ok(config)
}

/// A client's configuration from the `POCKYT_*` environment variables
/// ([`Config::from_env`]) plus the other settings given by name.
pub fn client_config_from_env(
    spelling: Spelling,
    options: &Map<String, Value>,
) -> Result<Config, Error> {
    let given = Given::read(spelling, options, |s| !s.from_env)?;
    let config = given.apply(Config::from_env()?)?;
    config.check().map_err(|e| respell(spelling, e))?;
    Ok(config)
}

/// A configuration error about a setting, with its name in the
/// language's spelling (environment variables keep theirs).
fn respell(spelling: Spelling, error: Error) -> Error {
    match error {
        Error::InvalidConfig { field, rule } if !field.starts_with("POCKYT_") => {
            let name = crate::naming::snake_case(&field);
            Error::InvalidConfig {
                field: setting_name(spelling, &name),
                rule,
            }
        }
        other => other,
    }
}

/// The options of one call: overrides of the client's settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// Time for one attempt of this call.
    pub timeout: Option<Duration>,
    /// Time to establish a connection for this call.
    pub connect_timeout: Option<Duration>,
    /// Time for this whole call, retries included.
    pub deadline: Option<Duration>,
    /// The `Pockyt-Request-ID` of this call (state-changing calls only).
    pub idempotency_key: Option<String>,
}

/// The options of one call given by name: `timeout`, `connect_timeout`,
/// `deadline` (in the language's spelling and unit) and `idempotency_key`.
pub fn call_options(
    spelling: Spelling,
    options: &Map<String, Value>,
) -> Result<CallOptions, Error> {
    let given = Given::read(spelling, options, |s| s.per_call)?;
    Ok(CallOptions {
        timeout: given.duration("timeout")?,
        connect_timeout: given.duration("connect_timeout")?,
        deadline: given.duration("deadline")?,
        idempotency_key: given.text("idempotency_key")?,
    })
}

impl crate::Client {
    /// This client with a call's options applied.
    pub fn with_options(&self, options: &CallOptions) -> Result<crate::Client, Error> {
        let mut client = self.clone();
        if let Some(timeout) = options.timeout {
            client = client.with_timeout(timeout);
        }
        if let Some(timeout) = options.connect_timeout {
            client = client.with_connect_timeout(timeout)?;
        }
        if let Some(deadline) = options.deadline {
            client = client.with_deadline(deadline);
        }
        if let Some(key) = &options.idempotency_key {
            client = client.with_idempotency_key(key.clone())?;
        }
        Ok(client)
    }
}
