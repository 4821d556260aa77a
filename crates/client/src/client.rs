//! The client itself: its shared state (configuration, the generated core
//! client, connection pools per connect timeout), constructors, per-call
//! overrides and accessors. Sending lives in `transport`, retries in
//! `retry`, pay's reconciliation in `reconcile`, the operations in
//! `operations` and the JSON door in `json`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use pockyt_payouts_sign::Signer;

use crate::config::Config;
use crate::error::Error;
use crate::redact::Redactor;

/// How many pools for other connect timeouts a client keeps.
const MAX_CONNECT_TIMEOUT_POOLS: usize = 8;

/// The most idle connections a client keeps open for reuse. The API is one
/// host, so this is the whole pool at rest: after a burst of calls (say
/// 10,000 pays in flight) the connections past it are closed rather than
/// kept, with their sockets and buffers, until they time out.
const MAX_IDLE_CONNECTIONS: usize = 64;

/// `User-Agent` of every request.
const USER_AGENT: &str = concat!("pockyt-payouts-rust/", env!("CARGO_PKG_VERSION"));

pub(crate) struct Shared {
    pub(crate) core: pockyt_payouts_core::Client,
    pub(crate) config: Config,
    /// Scrubs the token, its digest and URL credentials from every text
    /// that leaves the SDK.
    pub(crate) redactor: Redactor,
    /// Pools for other connect timeouts ([`Client::with_connect_timeout`]),
    /// built once each, so a per-call override costs a lookup.
    by_connect_timeout: Mutex<HashMap<Duration, Arc<Shared>>>,
    /// One slot per request on the wire ([`Config::max_connections`]),
    /// shared with the pools of other connect timeouts: the bound is the
    /// client's, whichever pool a call uses.
    pub(crate) wire_slots: Arc<Semaphore>,
}

impl Shared {
    fn new(config: Config) -> Result<Shared, Error> {
        // Out-of-range values are refused by `with_slots`'s check.
        let slots = config.max_connections.min(Semaphore::MAX_PERMITS);
        Shared::with_slots(config, Arc::new(Semaphore::new(slots)))
    }

    /// A pool for `config` whose calls take their slots from `wire_slots`.
    fn with_slots(config: Config, wire_slots: Arc<Semaphore>) -> Result<Shared, Error> {
        config.check()?;
        let core = build_core(&config)?;
        let redactor = Redactor::new(config.api_token.expose_secret(), config.base_url());
        Ok(Shared {
            core,
            config,
            redactor,
            by_connect_timeout: Mutex::new(HashMap::new()),
            wire_slots,
        })
    }
}

/// A client for the Payouts v3 API. Cheap to clone; safe to share across
/// tasks and threads; one connection pool per client.
///
/// Every method validates its input first (nothing is sent when it is
/// refused), signs the request, and maps the answer: `ret_code` `000100`
/// gives the typed result, anything else an [`Error`] with a stable code.
///
/// ```no_run
/// # async fn run() -> Result<(), pockyt_payouts::Error> {
/// use pockyt_payouts::{Client, Config, types::PayParams};
///
/// let client = Client::new(Config::from_env()?)?;
/// let payout = client
///     .pay(
///         PayParams::builder()
///             .customer_no("2000305228292319592008")
///             .account_token("2010305228303182765718")
///             .amount("500.00")
///             .currency("USD")
///             .invoice_id("inv-2024-0001"),
///     )
///     .await?;
/// println!("{:?} is {:?}", payout.transaction_no, payout.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    pub(crate) timeout: Duration,
    pub(crate) deadline: Duration,
    /// The caller's `Pockyt-Request-ID` for the next state-changing call.
    pub(crate) idempotency_key: Option<Arc<str>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.config.redacted_base_url())
            .field("merchant_no", &self.shared.config.merchant_no)
            .field("store_no", &self.shared.config.store_no)
            .field("timeout", &self.timeout)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

fn build_core(config: &Config) -> Result<pockyt_payouts_core::Client, Error> {
    let http = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .user_agent(USER_AGENT)
        .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
        // Never follow a redirect: a 307/308 would re-send the signed body
        // to whatever host `Location` names, a 301/302 would take another
        // origin's answer. A 3xx is an HTTP_ERROR.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            let message = Redactor::new(config.api_token.expose_secret(), config.base_url())
                .text(&e.to_string());
            Error::invalid_config("http_client", &message)
        })?;
    let signer = Signer::new(
        config.merchant_no.clone(),
        config.store_no.clone(),
        config.api_token.expose_secret(),
    );
    Ok(pockyt_payouts_core::Client::new_with_client(
        config.base_url(),
        http,
        signer,
    ))
}

impl Client {
    /// A client for `config`. Fails with `INVALID_CONFIG` when a setting is
    /// missing or malformed.
    pub fn new(config: Config) -> Result<Self, Error> {
        let (timeout, deadline) = (config.timeout, config.deadline);
        Ok(Client {
            shared: Arc::new(Shared::new(config)?),
            timeout,
            deadline,
            idempotency_key: None,
        })
    }

    /// A client configured from `POCKYT_*` environment variables (see
    /// [`Config::from_env`]).
    pub fn from_env() -> Result<Self, Error> {
        Client::new(Config::from_env()?)
    }

    /// The configuration this client was built from.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.shared.config.base_url()
    }

    /// The same client (same connections) with another total timeout per
    /// attempt, for one call or a few:
    /// `client.with_timeout(Duration::from_secs(5)).pay(params).await`.
    /// A value outside [`Config::DURATION_RANGE`] makes
    /// each call fail with `INVALID_CONFIG` naming `timeout`, before
    /// anything is sent (the same check as [`Config`]'s).
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            timeout,
            ..self.clone()
        }
    }

    /// The same client (same connections) with another overall deadline
    /// per call: `client.with_deadline(Duration::from_secs(10)).pay(params)`.
    /// Checked like [`Client::with_timeout`] (field `deadline`).
    pub fn with_deadline(&self, deadline: Duration) -> Client {
        Client {
            deadline,
            ..self.clone()
        }
    }

    /// The same client (same connections) sending `key` as the
    /// `Pockyt-Request-ID` of every state-changing call made through it, in
    /// place of the one the SDK makes per call (a random UUID, or for `pay`
    /// one derived from the merchant, store, invoiceId and the payout's
    /// details); every attempt of a call carries it. Use the returned client
    /// for one call (a second call with the same key would be answered with
    /// the first call's answer):
    /// `client.with_idempotency_key("order-1234-payout")?.pay(params)`.
    /// Fails with `INVALID_REQUEST` (field `idempotencyKey`) unless the key
    /// is 1 to 64 ASCII letters, digits, `-`, `_`, `.` or `:`.
    pub fn with_idempotency_key(&self, key: impl Into<String>) -> Result<Client, Error> {
        let key = key.into();
        pockyt_payouts_core::validate::idempotency_key("idempotencyKey", &key)?;
        Ok(Client {
            idempotency_key: Some(Arc::from(key)),
            ..self.clone()
        })
    }

    /// The same client with another connect timeout, for one call or a
    /// few: `client.with_connect_timeout(Duration::from_secs(2))?.pay(params)`.
    /// A connect timeout belongs to a connection pool, so each distinct value
    /// gets one pool, built the first time it is asked for and reused after
    /// (for up to eight distinct values; past that, each call builds its own).
    /// Fails with `INVALID_CONFIG` for a zero timeout.
    pub fn with_connect_timeout(&self, connect_timeout: Duration) -> Result<Client, Error> {
        if connect_timeout == self.shared.config.connect_timeout {
            return Ok(self.clone());
        }
        let mut pools = self
            .shared
            .by_connect_timeout
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let shared = match pools.get(&connect_timeout) {
            Some(shared) => Arc::clone(shared),
            None => {
                let config = self.shared.config.clone().connect_timeout(connect_timeout);
                let slots = Arc::clone(&self.shared.wire_slots);
                let shared = Arc::new(Shared::with_slots(config, slots)?);
                // A bounded cache: a caller deriving a new value per call
                // (say, from a deadline) gets fresh pools past the bound
                // rather than an ever-growing set of idle ones.
                if pools.len() < MAX_CONNECT_TIMEOUT_POOLS {
                    pools.insert(connect_timeout, Arc::clone(&shared));
                }
                shared
            }
        };
        Ok(Client {
            shared,
            timeout: self.timeout,
            deadline: self.deadline,
            idempotency_key: self.idempotency_key.clone(),
        })
    }

    /// The time allowed to establish a connection.
    pub fn connect_timeout(&self) -> Duration {
        self.shared.config.connect_timeout
    }

    /// The total time allowed for one attempt of a call.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The overall time allowed for one call, retries and reconciliation
    /// included.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The most bytes of an answer's body this client reads.
    pub fn max_response_bytes(&self) -> usize {
        self.shared.config.max_response_bytes
    }

    /// The most requests this client has on the wire at once
    /// ([`Config::max_connections`]).
    pub fn max_connections(&self) -> usize {
        self.shared.config.max_connections
    }

    /// The base URL with any credentials replaced by `<redacted>`.
    pub fn redacted_base_url(&self) -> String {
        self.shared.config.redacted_base_url()
    }

    /// Starts a call: checks the per-call settings (with the same rule as
    /// [`Config`]) and sets the call's deadline.
    pub(crate) fn start_call(&self) -> Result<Deadline, Error> {
        Config::check_duration_of("timeout", self.timeout)?;
        Config::check_duration_of("deadline", self.deadline)?;
        Ok(Deadline::after(self.deadline))
    }
}

/// The end of one call's time: attempts, waits between them and pay's
/// reconciliation all fit before it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    ends: Instant,
    total: Duration,
}

impl Deadline {
    fn after(total: Duration) -> Deadline {
        Deadline {
            ends: Instant::now() + total,
            total,
        }
    }

    /// The time left (zero once it has passed).
    pub(crate) fn remaining(&self) -> Duration {
        self.ends.saturating_duration_since(Instant::now())
    }

    /// The whole time the call was given.
    pub(crate) fn total(&self) -> Duration {
        self.total
    }
}
