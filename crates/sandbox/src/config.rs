//! The sandbox's configuration.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Default merchant number: `"202333"` (the API page's).
pub const DEFAULT_MERCHANT_NO: &str = "202333";
/// Default store number: `"301854"` (the API page's).
pub const DEFAULT_STORE_NO: &str = "301854";
/// Default API token: `"sandbox-api-token"`.
pub const DEFAULT_API_TOKEN: &str = "sandbox-api-token";
/// Default currency of the starting balance: `"USD"`.
pub const DEFAULT_BALANCE_CURRENCY: &str = "USD";
/// Default starting balance: `"1000000.00"`.
pub const DEFAULT_BALANCE: &str = "1000000.00";
/// Default time from a payout's creation to its final status: 2 s.
pub const DEFAULT_SETTLE_DELAY: Duration = Duration::from_secs(2);
/// Default accepted distance between a request's `timestamp` and the
/// sandbox's clock: 10 minutes.
pub const DEFAULT_TIMESTAMP_TOLERANCE: Duration = Duration::from_secs(600);
/// The most IPN tries per notification, as the real API does (8).
pub const MAX_IPN_TRIES: usize = 8;

/// Default cap on connections kept open at once: 512. Beyond it the
/// sandbox closes the connection waiting longest for a complete request
/// (see [`SandboxConfig::max_connections`]).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default number of connections accepted beyond `max_connections` while
/// the ones waiting longest are being closed, or while every other one is
/// being processed: 64 (so at most 576 are open, below the common limit
/// of 1,024 open files).
pub const DEFAULT_CONNECTION_RESERVE: usize = 64;
/// Default time a client has to send a request's headers (and, on a kept
/// alive connection, to start its next request): 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a whole request body, counted once the
/// headers are in: 10 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default largest request body: 256 KiB (the API's largest request is a
/// few KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;
/// Default most fields in one request body: 256 (the API's largest
/// request has about 40).
pub const DEFAULT_MAX_FIELDS: usize = 256;
/// The longest `delay` or `delay_after` fault: 60 s. A longer one is
/// refused (HTTP 400 for the header, 000023 for an invoiceId test value,
/// HTTP 400 from the admin endpoint).
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(60);

/// Default time an idempotency key (`Pockyt-Request-ID`) is kept: 24 h.
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Default most idempotency keys kept per merchant (and most recent pays
/// kept for the duplicate check): 100,000; the oldest is dropped first.
pub const DEFAULT_IDEMPOTENCY_MAX_KEYS: usize = 100_000;
/// Default longest wait of a request whose idempotency key is in flight
/// for another request: 30 s (then `000000`, still in progress).
pub const DEFAULT_IDEMPOTENCY_WAIT: Duration = Duration::from_secs(30);
/// Default window in which an identical pay sent without a key is refused
/// as a "Duplicate request": 10 minutes.
pub const DEFAULT_DUPLICATE_WINDOW: Duration = Duration::from_secs(600);

/// Default IPN schedule, in milliseconds: the wait before each of the 8
/// tries (the real API spreads its 8 tries over about two hours; the
/// sandbox compresses them to about 32 seconds).
pub const DEFAULT_IPN_RETRY_DELAYS_MS: [u64; MAX_IPN_TRIES] =
    [0, 250, 500, 1_000, 2_000, 4_000, 8_000, 16_000];

/// Configuration of a [`Sandbox`](crate::Sandbox).
///
/// Build it from [`SandboxConfig::default()`] and change what the test
/// needs:
///
/// ```
/// use pockyt_sandbox::SandboxConfig;
/// use std::time::Duration;
///
/// let config = SandboxConfig {
///     settle_delay: Duration::from_millis(50),
///     ..SandboxConfig::default()
/// };
/// assert_eq!(config.merchant_no, "202333");
/// assert_eq!(config.balances["USD"], "1000000.00");
/// assert!(!format!("{config:?}").contains("sandbox-api-token"));
/// ```
#[derive(Clone)]
pub struct SandboxConfig {
    /// The merchant number every request must carry. Default `"202333"`.
    pub merchant_no: String,
    /// The store number every request must carry. Default `"301854"`.
    pub store_no: String,
    /// The API token requests are verified with and IPNs are signed with.
    /// Default `"sandbox-api-token"`. Never shown by `Debug`.
    pub api_token: String,
    /// The address to listen on. Default `127.0.0.1`.
    pub host: IpAddr,
    /// The port to listen on; `0` (the default) lets the OS pick a free one.
    pub port: u16,
    /// Starting balance per currency (ISO 4217 code → non-negative decimal
    /// with at most two fraction digits). Default `{"USD": "1000000.00"}`.
    /// A currency not listed has no balance: pays in it answer 000040 and
    /// the balance operation answers 000021.
    pub balances: BTreeMap<String, String>,
    /// Time from a payout's creation to its final status. Default 2 s.
    pub settle_delay: Duration,
    /// The wait before each try of an IPN (the first entry is the wait
    /// before the first try). At most [`MAX_IPN_TRIES`] entries are used;
    /// an empty list means one immediate try. Default
    /// [`DEFAULT_IPN_RETRY_DELAYS_MS`]: 0, 250 ms, 500 ms, 1 s, 2 s, 4 s,
    /// 8 s, 16 s.
    pub ipn_retry_delays: Vec<Duration>,
    /// How far a request's `timestamp` may be from the sandbox's clock, in
    /// either direction. Default 10 minutes.
    pub timestamp_tolerance: Duration,
    /// The most connections kept open at once (at least 1). When one more
    /// is accepted, the sandbox closes the connection that has waited
    /// longest for a complete request (an idle kept-alive one first, then
    /// one still sending its head or body), never one whose request is
    /// being processed. Default [`DEFAULT_MAX_CONNECTIONS`] (512).
    pub max_connections: usize,
    /// How many connections may be open beyond `max_connections`: while
    /// the ones waiting longest are being closed, or when every other one
    /// is being processed (at least 1 is used). `max_connections` plus
    /// this is a hard ceiling: past it, new connections wait in the OS's
    /// listen queue. Default 64.
    pub connection_reserve: usize,
    /// How long a client may take to send a request's headers, and how
    /// long a kept-alive connection may stay idle before its next request;
    /// then the connection is closed without an answer. Default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`] (10 s).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a whole request body, from the
    /// end of its headers; then the sandbox answers HTTP 408 and closes
    /// the connection. Default [`DEFAULT_BODY_READ_TIMEOUT`] (10 s).
    pub body_read_timeout: Duration,
    /// The largest request body, in bytes; a larger one is answered HTTP
    /// 413 and the connection closed. Default [`DEFAULT_MAX_BODY_BYTES`]
    /// (256 KiB).
    pub max_body_bytes: usize,
    /// The most fields (JSON members or form fields) in one request body;
    /// more answer `000023`. Default [`DEFAULT_MAX_FIELDS`] (256).
    pub max_fields: usize,
    /// How long an idempotency key (`Pockyt-Request-ID`) and the answer
    /// kept under it are remembered, from the key's first request.
    /// Default [`DEFAULT_IDEMPOTENCY_TTL`] (24 h).
    pub idempotency_ttl: Duration,
    /// The most idempotency keys kept per merchant, and the most recent
    /// pays kept for the no-key duplicate check (at least 1); the oldest
    /// is dropped first. Default [`DEFAULT_IDEMPOTENCY_MAX_KEYS`]
    /// (100,000).
    pub idempotency_max_keys: usize,
    /// How long a request waits for another request with the same
    /// idempotency key that is still in flight; then it answers `000000`.
    /// Default [`DEFAULT_IDEMPOTENCY_WAIT`] (30 s).
    pub idempotency_wait: Duration,
    /// How long after an identical pay (in flight or succeeded) a pay sent
    /// without a key is refused as a "Duplicate request" (`000023`).
    /// Default [`DEFAULT_DUPLICATE_WINDOW`] (10 minutes).
    pub duplicate_window: Duration,
}

impl Default for SandboxConfig {
    /// merchant `202333`, store `301854`, token `sandbox-api-token`,
    /// `127.0.0.1:0`, USD balance `1000000.00`, settle delay 2 s, IPN tries
    /// after 0, 250 ms, 500 ms, 1 s, 2 s, 4 s, 8 s and 16 s, timestamp
    /// tolerance 10 minutes, at most 512 connections (64 more while the
    /// longest waiting are closed), 10 s to send the headers and 10 s to
    /// send the body, bodies up to 256 KiB with up to
    /// 256 fields, idempotency keys kept 24 h (at most 100,000 per
    /// merchant, 30 s wait for one in flight), duplicate pays refused for
    /// 10 minutes.
    fn default() -> Self {
        SandboxConfig {
            merchant_no: DEFAULT_MERCHANT_NO.to_owned(),
            store_no: DEFAULT_STORE_NO.to_owned(),
            api_token: DEFAULT_API_TOKEN.to_owned(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            balances: BTreeMap::from([(
                DEFAULT_BALANCE_CURRENCY.to_owned(),
                DEFAULT_BALANCE.to_owned(),
            )]),
            settle_delay: DEFAULT_SETTLE_DELAY,
            ipn_retry_delays: DEFAULT_IPN_RETRY_DELAYS_MS
                .iter()
                .map(|ms| Duration::from_millis(*ms))
                .collect(),
            timestamp_tolerance: DEFAULT_TIMESTAMP_TOLERANCE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            connection_reserve: DEFAULT_CONNECTION_RESERVE,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_fields: DEFAULT_MAX_FIELDS,
            idempotency_ttl: DEFAULT_IDEMPOTENCY_TTL,
            idempotency_max_keys: DEFAULT_IDEMPOTENCY_MAX_KEYS,
            idempotency_wait: DEFAULT_IDEMPOTENCY_WAIT,
            duplicate_window: DEFAULT_DUPLICATE_WINDOW,
        }
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("merchant_no", &self.merchant_no)
            .field("store_no", &self.store_no)
            .field("api_token", &"<redacted>")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("balances", &self.balances)
            .field("settle_delay", &self.settle_delay)
            .field("ipn_retry_delays", &self.ipn_retry_delays)
            .field("timestamp_tolerance", &self.timestamp_tolerance)
            .field("max_connections", &self.max_connections)
            .field("connection_reserve", &self.connection_reserve)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_fields", &self.max_fields)
            .field("idempotency_ttl", &self.idempotency_ttl)
            .field("idempotency_max_keys", &self.idempotency_max_keys)
            .field("idempotency_wait", &self.idempotency_wait)
            .field("duplicate_window", &self.duplicate_window)
            .finish()
    }
}

impl SandboxConfig {
    /// The waits before each IPN try actually used: at most
    /// [`MAX_IPN_TRIES`], and one immediate try when the list is empty.
    pub(crate) fn ipn_schedule(&self) -> Vec<Duration> {
        if self.ipn_retry_delays.is_empty() {
            return vec![Duration::ZERO];
        }
        self.ipn_retry_delays
            .iter()
            .take(MAX_IPN_TRIES)
            .copied()
            .collect()
    }
}
