#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod admin;
mod api;
mod config;
mod fault;
mod idempotency;
mod lifecycle;
mod money;
pub mod options;
mod server;
mod shared;
mod state;

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{
    SandboxConfig, DEFAULT_API_TOKEN, DEFAULT_BALANCE, DEFAULT_BALANCE_CURRENCY,
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_DUPLICATE_WINDOW, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_IDEMPOTENCY_MAX_KEYS, DEFAULT_IDEMPOTENCY_TTL, DEFAULT_IDEMPOTENCY_WAIT,
    DEFAULT_IPN_RETRY_DELAYS_MS, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_FIELDS, DEFAULT_MERCHANT_NO, DEFAULT_SETTLE_DELAY, DEFAULT_STORE_NO,
    DEFAULT_TIMESTAMP_TOLERANCE, MAX_FAULT_DELAY, MAX_IPN_TRIES,
};

use crate::money::{format_cents, parse_cents};
use crate::shared::Shared;

/// A payout, as [`Sandbox::payouts`] shows it. Serializes with the wire's
/// camelCase names, shaped like the `result` of pay and inquiry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayoutRecord {
    /// The merchant's invoiceId.
    pub invoice_id: String,
    /// The sandbox's 18-digit transaction number.
    pub transaction_no: String,
    /// The payee paid.
    pub customer_no: String,
    /// The payout account paid.
    pub account_token: String,
    /// The amount, with two fraction digits (`"500.00"`).
    pub amount: String,
    /// The currency.
    pub currency: String,
    /// `pending`, `success`, `failed` or `returned`.
    pub status: String,
    /// When the payout was created, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_time: String,
}

/// One try of one IPN (webhook), as [`Sandbox::ipn_log`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpnDelivery {
    /// The payout's `ipnUrl`.
    pub url: String,
    /// The form fields sent, `verifySign` last.
    pub fields: Vec<(String, String)>,
    /// Which try this was, from 1.
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// Why the try failed, when the receiver did not answer (or its body
    /// could not be read).
    pub error: Option<String>,
    /// The first 200 bytes of the receiver's answer (lossy UTF-8), when it
    /// answered.
    pub answer: Option<String>,
    /// Why this try does not count as received, so the IPN is resent
    /// (while tries remain): ``answered `\"success\"`, expected `success` ``,
    /// `answered HTTP 500 ...`, `no answer (...)`. `None` when received.
    pub resend_reason: Option<String>,
    /// Whether the receiver answered 2xx with the body `success`
    /// (whitespace around it ignored), which ends the tries.
    pub answered_success: bool,
}

impl IpnDelivery {
    /// The value of one of the fields sent.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What both [`Sandbox`] and [`BlockingSandbox`] read the state through.
#[derive(Clone)]
struct View {
    shared: Arc<Shared>,
    addr: SocketAddr,
    base_url: String,
}

impl View {
    fn payouts(&self) -> Vec<PayoutRecord> {
        self.shared
            .lock()
            .payouts
            .iter()
            .map(state::Payout::record)
            .collect()
    }

    fn balance(&self, currency: &str) -> Option<String> {
        self.shared
            .lock()
            .balances
            .get(currency)
            .copied()
            .map(format_cents)
    }

    fn ipn_log(&self) -> Vec<IpnDelivery> {
        self.shared.lock().ipn_log.clone()
    }

    fn resend_ipn(&self, invoice_id: &str) -> bool {
        let state = self.shared.lock();
        state
            .payout_index(invoice_id)
            .is_some_and(|i| lifecycle::resend_ipn(&self.shared, &state.payouts[i]))
    }
}

/// A running sandbox: an HTTP server on the current tokio runtime, with its
/// state. Stop it with [`Sandbox::shutdown`]; dropping it also stops it
/// (without waiting).
///
/// ```
/// use pockyt_sandbox::{Sandbox, SandboxConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let sandbox = Sandbox::start(SandboxConfig::default()).await?;
/// assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(sandbox.balance("USD").as_deref(), Some("1000000.00"));
/// assert!(sandbox.payouts().is_empty());
/// sandbox.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Sandbox {
    view: View,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.view.base_url)
            .field("config", &self.view.shared.config)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Binds `config.host:config.port` (port 0: the OS picks one) and
    /// serves the API on the current tokio runtime.
    ///
    /// Fails when the address cannot be bound, when called outside a tokio
    /// runtime, or (`InvalidInput`) when a configured balance is not a
    /// three-letter currency code with a non-negative decimal amount or
    /// `max_connections` is 0.
    pub async fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        Self::start_inner(config, false).await
    }

    /// Like [`Sandbox::start`], and also writes one line per request and
    /// per IPN try to stderr (method, path, HTTP status, `ret_code`,
    /// fault; never a body or the token). The binary runs this.
    pub async fn start_with_request_log(config: SandboxConfig) -> io::Result<Sandbox> {
        Self::start_inner(config, true).await
    }

    async fn start_inner(config: SandboxConfig, log_requests: bool) -> io::Result<Sandbox> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let balances = parse_balances(&config.balances)?;
        if config.max_connections == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "max_connections must be at least 1",
            ));
        }
        let limits = server::Limits::of(&config);
        let listener = TcpListener::bind(SocketAddr::new(config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, balances, runtime, log_requests)?);
        let router = server::router(Arc::clone(&shared));
        let (shutdown, watch) = watch::channel(false);
        let server = tokio::spawn(server::serve(listener, router, log_requests, limits, watch));
        Ok(Sandbox {
            view: View {
                shared,
                addr,
                base_url: base_url(addr),
            },
            shutdown,
            server: Some(server),
        })
    }

    /// The URL to point an SDK at: `http://127.0.0.1:PORT` (an unspecified
    /// host such as `0.0.0.0` is shown as the loopback address).
    pub fn base_url(&self) -> String {
        self.view.base_url.clone()
    }

    /// The address the sandbox listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.view.addr
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.view.shared.config
    }

    /// Stops accepting connections, lets requests in flight finish (for
    /// up to 5 seconds), and stops the settle timers and IPN deliveries.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        self.view.shared.close();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Every payout, oldest first.
    pub fn payouts(&self) -> Vec<PayoutRecord> {
        self.view.payouts()
    }

    /// The current balance in `currency` (`"999500.00"`), or `None` when
    /// the merchant has no balance in it.
    pub fn balance(&self, currency: &str) -> Option<String> {
        self.view.balance(currency)
    }

    /// Every IPN try so far, oldest first.
    pub fn ipn_log(&self) -> Vec<IpnDelivery> {
        self.view.ipn_log()
    }

    /// Sends the IPN of the payout's current status again, as the API
    /// resends one (a replay, for testing deduplication); `false` when no
    /// payout has this invoiceId or it has no `ipnUrl`.
    pub fn resend_ipn(&self, invoice_id: &str) -> bool {
        self.view.resend_ipn(invoice_id)
    }

    /// Everything the sandbox holds, as `GET /_sandbox/state` answers it.
    pub fn state_json(&self) -> serde_json::Value {
        admin::state_json(&self.view.shared)
    }

    /// Forgets every payee, account, payout, IPN try, fault rule,
    /// idempotency key and request log entry, stops pending settles and
    /// IPN deliveries, and puts the balances back to the configured ones.
    pub fn reset(&self) {
        self.view.shared.reset();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.view.shared.close();
    }
}

/// A [`Sandbox`] with its own tokio runtime (two worker threads), for
/// synchronous callers such as the Python and Node bindings. Stops on
/// [`BlockingSandbox::shutdown`] or when dropped.
///
/// ```
/// let sandbox = pockyt_sandbox::start_blocking(pockyt_sandbox::SandboxConfig::default())?;
/// assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
/// assert_eq!(sandbox.balance("USD").as_deref(), Some("1000000.00"));
/// sandbox.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct BlockingSandbox {
    view: View,
    running: Option<(Sandbox, tokio::runtime::Runtime)>,
}

impl std::fmt::Debug for BlockingSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingSandbox")
            .field("base_url", &self.view.base_url)
            .field("config", &self.view.shared.config)
            .finish_non_exhaustive()
    }
}

/// Starts a [`Sandbox`] on a runtime of its own (a multi-thread tokio
/// runtime with two worker threads) and waits until it listens.
///
/// Meant for synchronous code; it blocks the calling thread while the
/// sandbox starts (briefly), so async code should use [`Sandbox::start`].
pub fn start_blocking(config: SandboxConfig) -> io::Result<BlockingSandbox> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pockyt-sandbox")
        .enable_all()
        .build()?;
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(Sandbox::start(config).await);
    });
    let started = rx.recv().unwrap_or_else(|_| {
        Err(io::Error::other(
            "the sandbox's runtime stopped while starting",
        ))
    });
    let sandbox = match started {
        Ok(sandbox) => sandbox,
        Err(error) => {
            // Dropping a runtime inside another one panics; this never does.
            runtime.shutdown_background();
            return Err(error);
        }
    };
    Ok(BlockingSandbox {
        view: sandbox.view.clone(),
        running: Some((sandbox, runtime)),
    })
}

impl BlockingSandbox {
    /// The URL to point an SDK at: `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.view.base_url.clone()
    }

    /// The address the sandbox listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.view.addr
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &SandboxConfig {
        &self.view.shared.config
    }

    /// Every payout, oldest first.
    pub fn payouts(&self) -> Vec<PayoutRecord> {
        self.view.payouts()
    }

    /// The current balance in `currency`, or `None` when the merchant has
    /// no balance in it.
    pub fn balance(&self, currency: &str) -> Option<String> {
        self.view.balance(currency)
    }

    /// Every IPN try so far, oldest first.
    pub fn ipn_log(&self) -> Vec<IpnDelivery> {
        self.view.ipn_log()
    }

    /// Sends the IPN of the payout's current status again, as the API
    /// resends one (a replay, for testing deduplication); `false` when no
    /// payout has this invoiceId or it has no `ipnUrl`.
    pub fn resend_ipn(&self, invoice_id: &str) -> bool {
        self.view.resend_ipn(invoice_id)
    }

    /// Everything the sandbox holds, as `GET /_sandbox/state` answers it.
    pub fn state_json(&self) -> serde_json::Value {
        admin::state_json(&self.view.shared)
    }

    /// Forgets everything, as [`Sandbox::reset`].
    pub fn reset(&self) {
        self.view.shared.reset();
    }

    /// Stops the sandbox (as [`Sandbox::shutdown`]) and its runtime, and
    /// waits for both.
    pub fn shutdown(mut self) {
        self.close();
    }

    fn close(&mut self) {
        let Some((sandbox, runtime)) = self.running.take() else {
            return;
        };
        // Waiting through a channel rather than `block_on` works from any
        // thread, even one that runs another tokio runtime.
        let (tx, rx) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            sandbox.shutdown().await;
            let _ = tx.send(());
        });
        let _ = rx.recv_timeout(Duration::from_secs(10));
        runtime.shutdown_background();
    }
}

impl Drop for BlockingSandbox {
    fn drop(&mut self) {
        self.close();
    }
}

/// Reads the configured balances into cents.
fn parse_balances(balances: &BTreeMap<String, String>) -> io::Result<BTreeMap<String, i128>> {
    balances
        .iter()
        .map(|(currency, amount)| {
            pockyt_payouts_core::validate::currency("balances", currency)
                .map_err(|v| io::Error::new(io::ErrorKind::InvalidInput, v.to_string()))?;
            let cents = parse_cents(amount).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("balance of {currency} must be a non-negative decimal with at most two fraction digits"),
                )
            })?;
            Ok((currency.clone(), cents))
        })
        .collect()
}

fn base_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

/// Installs the handlers of SIGINT (Ctrl-C) and, on Unix, SIGTERM, and
/// answers a future that ends when one arrives: how the `pockyt-sandbox`
/// binary and the `pockyt-payouts sandbox` command know to shut down.
/// Call it inside a tokio runtime.
pub fn stop_signal() -> std::io::Result<impl std::future::Future<Output = std::io::Result<()>>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => Ok(()),
                _ = terminate.recv() => Ok(()),
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(tokio::signal::ctrl_c())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    /// The bindings keep these in objects shared across threads.
    #[test]
    fn handles_are_send_and_sync() {
        assert_send_sync::<Sandbox>();
        assert_send_sync::<BlockingSandbox>();
        assert_send_sync::<SandboxConfig>();
        assert_send_sync::<PayoutRecord>();
        assert_send_sync::<IpnDelivery>();
    }

    #[test]
    fn base_url_shows_a_connectable_host() {
        let url = |text: &str| base_url(text.parse().unwrap());
        assert_eq!(url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert_eq!(url("[::]:8080"), "http://[::1]:8080");
        assert_eq!(url("[::1]:9"), "http://[::1]:9");
    }

    #[test]
    fn configured_balances_are_checked() {
        let ok = BTreeMap::from([
            ("USD".to_owned(), "10.5".to_owned()),
            ("EUR".to_owned(), "0".to_owned()),
        ]);
        let parsed = parse_balances(&ok).unwrap();
        assert_eq!(parsed["USD"], 1_050);
        assert_eq!(parsed["EUR"], 0);
        for (currency, amount) in [("usd", "1"), ("USD", "-1"), ("USD", "1.001"), ("USD", "")] {
            let bad = BTreeMap::from([(currency.to_owned(), amount.to_owned())]);
            let error = parse_balances(&bad).unwrap_err();
            assert_eq!(
                error.kind(),
                io::ErrorKind::InvalidInput,
                "{currency}={amount}"
            );
        }
    }
}
