//! Client configuration: who the merchant is, where the API is, how long to
//! wait, how to retry.

use std::fmt;
use std::time::Duration;

use crate::error::Error;
use crate::retry::RetryPolicy;

/// Production base URL.
pub const PRODUCTION_BASE_URL: &str = "https://mapi.yuansfer.com";
/// The base URL of the provider's hosted sandbox (its test server on the
/// internet, [`Environment::ProviderSandbox`]); not the local emulator
/// `pockyt-sandbox`, which is reached through its own base URL.
pub const PROVIDER_SANDBOX_BASE_URL: &str = "https://mapi.yuansfer.yunkeguan.com";
/// The old name of [`PROVIDER_SANDBOX_BASE_URL`].
#[deprecated(
    note = "renamed PROVIDER_SANDBOX_BASE_URL: the provider's hosted sandbox, not the local emulator"
)]
pub const SANDBOX_BASE_URL: &str = PROVIDER_SANDBOX_BASE_URL;

/// Default total time for one attempt of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default overall deadline of one call: every attempt, every wait between
/// attempts and `pay`'s reconciliation together.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// Default limit on the size of an answer's body: 1 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = pockyt_payouts_core::DEFAULT_MAX_RESPONSE_BYTES;

/// The default of [`Config::max_connections`]: 100 requests on the wire at
/// once per client (the default of httpx and aiohttp too).
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;
/// The shortest API token accepted, in characters (see
/// [`Config::MIN_API_TOKEN_LEN`]).
pub const MIN_API_TOKEN_LEN: usize = 8;

/// Which of the provider's servers to talk to.
///
/// Both are the provider's, on the internet. The local emulator
/// (`pockyt-sandbox`, Python's `pockyt_payouts.testing.Sandbox`, Node's
/// `startSandbox()`) is not an environment: reach it through its base URL
/// ([`Config::with_base_url`]).
///
/// Names, as [`FromStr`](std::str::FromStr) parses them (`POCKYT_ENV`, the
/// bindings' `environment` option): `provider-sandbox` and `production`.
/// The old name `sandbox` is still accepted, as a deprecated alias of
/// `provider-sandbox` (see [`Environment::parse_name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Environment {
    /// The provider's hosted sandbox (its test server on the internet):
    /// test credentials, no real money. Named `provider-sandbox`.
    ProviderSandbox,
    /// Production: real money. Named `production`.
    Production,
}

#[allow(non_upper_case_globals)]
impl Environment {
    /// The old name of [`Environment::ProviderSandbox`], kept so that code
    /// written against it still compiles (also in patterns).
    ///
    /// ```
    /// #![allow(deprecated)]
    /// use pockyt_payouts::Environment;
    /// assert_eq!(Environment::Sandbox, Environment::ProviderSandbox);
    /// ```
    #[deprecated(
        note = "renamed Environment::ProviderSandbox: the provider's hosted test server, not the local emulator (pockyt-sandbox)"
    )]
    pub const Sandbox: Environment = Environment::ProviderSandbox;

    /// The rule an environment's name breaks when it is none of the names,
    /// in the words of `INVALID_CONFIG` errors.
    pub const NAME_RULE: &'static str = "must be \"provider-sandbox\" or \"production\"";

    /// The base URL of this environment.
    pub fn base_url(self) -> &'static str {
        match self {
            Environment::ProviderSandbox => PROVIDER_SANDBOX_BASE_URL,
            Environment::Production => PRODUCTION_BASE_URL,
        }
    }

    /// `"provider-sandbox"` or `"production"`: the name
    /// [`FromStr`](std::str::FromStr) parses back.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::ProviderSandbox => "provider-sandbox",
            Environment::Production => "production",
        }
    }

    /// Parses an environment's name (any ASCII case): `provider-sandbox`
    /// or `production`, or the deprecated alias `sandbox`, which gives
    /// [`Environment::ProviderSandbox`] and the [`Deprecation`] to report.
    /// `setting` names where the name came from (`POCKYT_ENV`,
    /// `environment`), in the deprecation and in the error. This is the one
    /// rule for every language: the bindings pass the name as given and
    /// turn the deprecation into their own warning.
    ///
    /// ```
    /// use pockyt_payouts::Environment;
    /// let (env, deprecated) = Environment::parse_name("POCKYT_ENV", "provider-sandbox").unwrap();
    /// assert_eq!((env, deprecated), (Environment::ProviderSandbox, None));
    /// let (env, deprecated) = Environment::parse_name("POCKYT_ENV", "sandbox").unwrap();
    /// assert_eq!(env, Environment::ProviderSandbox);
    /// assert_eq!(deprecated.unwrap().code, "DEPRECATED_ENVIRONMENT_NAME");
    /// let err = Environment::parse_name("POCKYT_ENV", "local").unwrap_err();
    /// assert_eq!(err.field(), Some("POCKYT_ENV"));
    /// ```
    pub fn parse_name(
        setting: &str,
        name: &str,
    ) -> Result<(Environment, Option<Deprecation>), Error> {
        if name.eq_ignore_ascii_case("provider-sandbox") {
            Ok((Environment::ProviderSandbox, None))
        } else if name.eq_ignore_ascii_case("production") {
            Ok((Environment::Production, None))
        } else if name.eq_ignore_ascii_case("sandbox") {
            let deprecation = Deprecation::renamed_environment(setting);
            Ok((Environment::ProviderSandbox, Some(deprecation)))
        } else {
            Err(Error::invalid_config(setting, Environment::NAME_RULE))
        }
    }
}

impl std::fmt::Display for Environment {
    /// The environment's name ([`Environment::as_str`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Environment {
    type Err = Error;

    /// Parses `provider-sandbox` or `production` (any ASCII case); the
    /// deprecated `sandbox` still gives [`Environment::ProviderSandbox`]
    /// (use [`Environment::parse_name`] to learn that it was deprecated).
    ///
    /// ```
    /// use pockyt_payouts::Environment;
    /// assert_eq!("Production".parse::<Environment>().unwrap(), Environment::Production);
    /// assert_eq!("provider-sandbox".parse::<Environment>().unwrap(), Environment::ProviderSandbox);
    /// assert_eq!("sandbox".parse::<Environment>().unwrap(), Environment::ProviderSandbox);
    /// assert_eq!("live".parse::<Environment>().unwrap_err().code().as_str(), "INVALID_CONFIG");
    /// ```
    fn from_str(text: &str) -> Result<Self, Error> {
        Environment::parse_name("environment", text).map(|(environment, _)| environment)
    }
}

/// A setting given under a name kept only for compatibility. The
/// configuration that was given it keeps it ([`Config::deprecation`]);
/// the Rust client logs it (a `tracing` warning), Python raises a
/// `DeprecationWarning` and Node emits a `DeprecationWarning` through
/// `process.emitWarning`, each with [`Deprecation::code`] and this text
/// ([`Display`](fmt::Display)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deprecation {
    /// A stable code: `DEPRECATED_ENVIRONMENT_NAME`.
    pub code: &'static str,
    /// Where the old name was given: `POCKYT_ENV` or `environment`.
    pub setting: String,
    /// The old name, as this SDK spells it: `sandbox`.
    pub old: &'static str,
    /// The name to use instead: `provider-sandbox`.
    pub new: &'static str,
}

impl Deprecation {
    /// The environment `sandbox`, renamed `provider-sandbox`.
    fn renamed_environment(setting: &str) -> Deprecation {
        Deprecation {
            code: "DEPRECATED_ENVIRONMENT_NAME",
            setting: setting.to_owned(),
            old: "sandbox",
            new: "provider-sandbox",
        }
    }
}

impl fmt::Display for Deprecation {
    /// `POCKYT_ENV "sandbox" is deprecated: use "provider-sandbox" (...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} \"{}\" is deprecated: use \"{}\", the provider's hosted test server \
             (the local emulator is not an environment: give its base URL)",
            self.setting, self.old, self.new
        )
    }
}

/// The merchant's API token. Never shown by `Debug`, never in an error
/// message or a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token, used exactly as given.
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(token.into())
    }

    /// The token itself. Handle with care.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl From<&str> for ApiToken {
    fn from(token: &str) -> Self {
        ApiToken::new(token)
    }
}

impl From<String> for ApiToken {
    fn from(token: String) -> Self {
        ApiToken::new(token)
    }
}

/// Everything a [`Client`](crate::Client) needs.
///
/// ```
/// use pockyt_payouts::{Config, Environment};
/// use std::time::Duration;
///
/// let config = Config::new("202333", "301854", "my-api-token")
///     .environment(Environment::Production)
///     .timeout(Duration::from_secs(20));
/// assert_eq!(config.base_url(), "https://mapi.yuansfer.com");
/// assert!(!format!("{config:?}").contains("my-api-token"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) merchant_no: String,
    pub(crate) store_no: String,
    pub(crate) api_token: ApiToken,
    pub(crate) environment: Environment,
    pub(crate) base_url: Option<String>,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) deadline: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) max_connections: usize,
    pub(crate) retry: RetryPolicy,
    pub(crate) deprecation: Option<Deprecation>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("merchant_no", &self.merchant_no)
            .field("store_no", &self.store_no)
            .field("api_token", &self.api_token)
            .field("base_url", &self.redacted_base_url())
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("deadline", &self.deadline)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("max_connections", &self.max_connections)
            .field("retry", &self.retry)
            .finish()
    }
}

/// The one statement of every setting's allowed range, for every
/// language: the configuration check at [`Client::new`](crate::Client::new),
/// the per-call overrides ([`Client::with_timeout`](crate::Client::with_timeout),
/// [`Client::with_deadline`](crate::Client::with_deadline),
/// [`Client::with_connect_timeout`](crate::Client::with_connect_timeout))
/// and the bindings all check against these, failing with
/// `INVALID_CONFIG` and the setting's name as the error's `field`.
impl Config {
    /// The allowed range (inclusive) of `timeout`, `connect_timeout` and
    /// `deadline`: 1 ms to 10 minutes.
    pub const DURATION_RANGE: (Duration, Duration) =
        (Duration::from_millis(1), Duration::from_secs(600));
    /// The allowed range (inclusive) of `max_retries`.
    pub const MAX_RETRIES_RANGE: (u64, u64) = (0, 10);
    /// The allowed range (inclusive) of `max_response_bytes`: 1 KiB to
    /// 64 MiB.
    pub const MAX_RESPONSE_BYTES_RANGE: (u64, u64) = (1024, 64 * 1024 * 1024);
    /// The allowed range (inclusive) of `max_connections`: 1 to 10,000.
    pub const MAX_CONNECTIONS_RANGE: (u64, u64) = (1, 10_000);
    /// The shortest API token accepted, in characters. Shorter ones are
    /// refused: every text the SDK shows is scrubbed of the token, and a
    /// short one would mangle ordinary words.
    pub const MIN_API_TOKEN_LEN: usize = MIN_API_TOKEN_LEN;

    /// Checks a duration setting against [`Config::DURATION_RANGE`];
    /// the error is the rule broken, in words.
    ///
    /// ```
    /// use std::time::Duration;
    /// use pockyt_payouts::Config;
    /// assert!(Config::check_duration(Duration::from_secs(5)).is_ok());
    /// assert!(Config::check_duration(Duration::ZERO).is_err());
    /// assert!(Config::check_duration(Duration::from_secs(601)).is_err());
    /// ```
    pub fn check_duration(value: Duration) -> Result<(), String> {
        let (low, high) = Config::DURATION_RANGE;
        if (low..=high).contains(&value) {
            return Ok(());
        }
        Err(format!(
            "must be between {} ms and {} s",
            low.as_millis(),
            high.as_secs()
        ))
    }

    /// [`Config::check_duration`] for the setting `field`, as an
    /// `INVALID_CONFIG` error naming it.
    pub(crate) fn check_duration_of(field: &str, value: Duration) -> Result<(), Error> {
        Config::check_duration(value).map_err(|rule| Error::invalid_config(field, &rule))
    }

    /// Checks a count setting against its inclusive `range` (one of the
    /// constants above), as an `INVALID_CONFIG` error naming `field`.
    fn check_count(field: &str, value: u64, (low, high): (u64, u64)) -> Result<(), Error> {
        if (low..=high).contains(&value) {
            return Ok(());
        }
        Err(Error::invalid_config(
            field,
            &format!("must be between {low} and {high}"),
        ))
    }

    /// [`Config::check_count`] of a `usize` setting.
    fn check_size(field: &str, value: usize, range: (u64, u64)) -> Result<(), Error> {
        Config::check_count(field, u64::try_from(value).unwrap_or(u64::MAX), range)
    }

    /// A configuration for the provider's hosted sandbox
    /// ([`Environment::ProviderSandbox`]) with default timeouts and
    /// retries.
    pub fn new(
        merchant_no: impl Into<String>,
        store_no: impl Into<String>,
        api_token: impl Into<ApiToken>,
    ) -> Self {
        Config {
            merchant_no: merchant_no.into(),
            store_no: store_no.into(),
            api_token: api_token.into(),
            environment: Environment::ProviderSandbox,
            base_url: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            retry: RetryPolicy::default(),
            deprecation: None,
        }
    }

    /// Reads the configuration from the environment:
    /// `POCKYT_MERCHANT_NO`, `POCKYT_STORE_NO`, `POCKYT_API_TOKEN` (required),
    /// `POCKYT_ENV` (`provider-sandbox` or `production`, default
    /// `provider-sandbox`; the old name `sandbox` still works, as a
    /// deprecated alias: see [`Config::deprecation`]) and
    /// `POCKYT_BASE_URL` (overrides the environment's URL).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], reading variables through `lookup`.
    ///
    /// ```
    /// use pockyt_payouts::Config;
    /// let vars = [("POCKYT_MERCHANT_NO", "202333"), ("POCKYT_STORE_NO", "301854"),
    ///             ("POCKYT_API_TOKEN", "t"), ("POCKYT_BASE_URL", "http://127.0.0.1:8080/")];
    /// let config = Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())).unwrap();
    /// assert_eq!(config.base_url(), "http://127.0.0.1:8080");
    /// let missing = Config::from_lookup(|_| None).unwrap_err();
    /// assert!(missing.to_string().contains("POCKYT_MERCHANT_NO"));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let required = |name: &str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::invalid_config(name, "environment variable is not set"))
        };
        let mut config = Config::new(
            required("POCKYT_MERCHANT_NO")?,
            required("POCKYT_STORE_NO")?,
            required("POCKYT_API_TOKEN")?,
        );
        if let Some(env) = lookup("POCKYT_ENV").filter(|v| !v.is_empty()) {
            config = config.environment_named("POCKYT_ENV", &env)?;
        }
        if let Some(url) = lookup("POCKYT_BASE_URL").filter(|v| !v.is_empty()) {
            config.base_url = Some(url);
        }
        Ok(config)
    }

    /// Uses one of the provider's environments (clears an explicit base URL).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self.base_url = None;
        self.deprecation = None;
        self
    }

    /// Uses the environment named `name`, as [`Environment::parse_name`]
    /// reads it (`setting` names where it came from: `POCKYT_ENV`,
    /// `environment`), and clears an explicit base URL. A deprecated name
    /// is logged (a `tracing` warning) and kept as
    /// [`Config::deprecation`], for the bindings to warn in their
    /// language's way.
    ///
    /// ```
    /// use pockyt_payouts::{Config, Environment};
    /// let config = Config::new("202333", "301854", "my-api-token")
    ///     .environment_named("environment", "sandbox")
    ///     .unwrap();
    /// assert_eq!(config.env(), Environment::ProviderSandbox);
    /// assert_eq!(config.deprecation().unwrap().new, "provider-sandbox");
    /// ```
    pub fn environment_named(self, setting: &str, name: &str) -> Result<Self, Error> {
        let (environment, deprecation) = Environment::parse_name(setting, name)?;
        let mut config = self.environment(environment);
        if let Some(deprecation) = &deprecation {
            tracing::warn!(code = deprecation.code, "{deprecation}");
        }
        config.deprecation = deprecation;
        Ok(config)
    }

    /// The deprecated name this configuration was given, if any (today:
    /// the environment `sandbox`, renamed `provider-sandbox`).
    pub fn deprecation(&self) -> Option<&Deprecation> {
        self.deprecation.as_ref()
    }

    /// Talks to an explicit base URL instead (a local sandbox, a proxy).
    pub fn base_url(&self) -> &str {
        self.base_url
            .as_deref()
            .unwrap_or(self.environment.base_url())
            .trim_end_matches('/')
    }

    /// The base URL with any `user:password@` replaced by `<redacted>`:
    /// what `Debug`, logs and bindings' `repr` show.
    pub fn redacted_base_url(&self) -> String {
        crate::redact::url_for_display(self.base_url())
    }

    /// Sets an explicit base URL, such as a local `pockyt-sandbox`.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// Overall time allowed for one call, retries, waits between them and
    /// `pay`'s reconciliation included (default 60 s, range
    /// [`Config::DURATION_RANGE`]). Each attempt gets the smaller of the timeout
    /// and the time left.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The most bytes of an answer's body read (default 1 MiB, range
    /// [`Config::MAX_RESPONSE_BYTES_RANGE`]); a longer answer fails with
    /// `DECODE_ERROR` as soon as the limit is passed.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The most requests one client has in flight on the wire at once
    /// (default [`DEFAULT_MAX_CONNECTIONS`], range
    /// [`Config::MAX_CONNECTIONS_RANGE`]), whichever of its connection pools
    /// they use. A call past it waits for a free slot, for at most its
    /// attempt's timeout (the wait counts against the call's deadline; once
    /// sent, the attempt has its whole timeout). A call that times out
    /// still waiting fails with `NETWORK_ERROR` and nothing sent, so it is
    /// always safe to send again. A burst of thousands of calls thus shares
    /// a bounded set of connections instead of opening a socket (and its
    /// buffers) each.
    pub fn max_connections(mut self, limit: usize) -> Self {
        self.max_connections = limit;
        self
    }

    /// Total time allowed for one attempt of a call (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How failed calls are retried (see [`RetryPolicy`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The merchant number.
    pub fn merchant_no(&self) -> &str {
        &self.merchant_no
    }

    /// The store number.
    pub fn store_no(&self) -> &str {
        &self.store_no
    }

    /// The environment (ignored when an explicit base URL is set).
    pub fn env(&self) -> Environment {
        self.environment
    }

    /// The API token. Handle with care.
    pub fn api_token(&self) -> &ApiToken {
        &self.api_token
    }

    /// Checks the configuration before a client is built from it: required
    /// settings present, the token long enough, the base URL absolute,
    /// every range of this `impl` respected.
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.merchant_no.trim().is_empty() {
            return Err(Error::invalid_config("merchant_no", "is required"));
        }
        if self.store_no.trim().is_empty() {
            return Err(Error::invalid_config("store_no", "is required"));
        }
        if self.api_token.expose_secret().is_empty() {
            return Err(Error::invalid_config("api_token", "is required"));
        }
        if self.api_token.expose_secret().chars().count() < Config::MIN_API_TOKEN_LEN {
            return Err(Error::invalid_config(
                "api_token",
                &format!(
                    "must be at least {} characters long",
                    Config::MIN_API_TOKEN_LEN
                ),
            ));
        }
        let url = self.base_url();
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                Error::invalid_config("base_url", "must start with http:// or https://")
            })?;
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(Error::invalid_config(
                "base_url",
                "must be an absolute URL with a host",
            ));
        }
        Config::check_duration_of("timeout", self.timeout)?;
        Config::check_duration_of("connect_timeout", self.connect_timeout)?;
        Config::check_duration_of("deadline", self.deadline)?;
        Config::check_count(
            "max_retries",
            u64::from(self.retry.get_max_retries()),
            Config::MAX_RETRIES_RANGE,
        )?;
        Config::check_size(
            "max_response_bytes",
            self.max_response_bytes,
            Config::MAX_RESPONSE_BYTES_RANGE,
        )?;
        Config::check_size(
            "max_connections",
            self.max_connections,
            Config::MAX_CONNECTIONS_RANGE,
        )?;
        Ok(())
    }
}
