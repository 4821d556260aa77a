//! Webhooks (IPN): verify, type, deduplicate, answer.
//!
//! The API POSTs every payout status change to the pay call's `ipnUrl`: a
//! signed `application/x-www-form-urlencoded` form, resent (up to 8 times
//! over 2 hours) until the receiver answers the plain text `success`.
//!
//! - [`construct_event`] takes the **raw body** and the API token and
//!   returns a typed [`PayoutEvent`] only when the IPN is genuine and
//!   unambiguous; otherwise an [`IpnError`] with a stable code
//!   (`IPN_EMPTY_TOKEN`, `IPN_MISSING_SIGNATURE`, `IPN_REPEATED_SIGNATURE`,
//!   `IPN_SIGNATURE_MISMATCH`, `IPN_MALFORMED_BODY`). [`event_from_fields`]
//!   does the same for fields a framework already decoded.
//! - [`Webhook`] holds the token and an [`EventStore`], and
//!   [`Webhook::handle`] runs your handler **at most once per
//!   `transactionNo` + `status`** (IPNs carry no nonce), returning the
//!   [`Outcome`] and the [`Reply`] to send: `200 success` only after your
//!   handler succeeded (or had already), non-2xx otherwise so the API
//!   resends.
//! - Stores: [`MemoryEventStore`] (default), `SqliteEventStore` (feature
//!   `sqlite`), or your own [`EventStore`].
//!
//! What "at most once" means: a delivery claims its key in the store for a
//! lease (5 minutes by default) before the handler runs; other deliveries
//! of the same key are answered `409` (resent later) while the claim holds,
//! and `success` without running once it is completed. A handler that
//! fails releases the claim (the resend runs it again). A handler that
//! takes longer than the lease, or whose process dies mid-run, or whose
//! `complete` fails, may run again after the lease: keep handlers short and
//! make their effect idempotent on `transactionNo` + `status` (an upsert
//! of the payout's status, say). IPNs may arrive out of order (a resent
//! `pending` after `success`): never move a payout's status backwards.
//! - axum: `pockyt_payouts::axum` (feature `axum`) has the `PayoutEvent`
//!   extractor and a ready route.
//!
//! ```
//! use pockyt_payouts::webhook::{Outcome, Webhook};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let webhook = Webhook::new("the API token").unwrap();
//! let fields = [("transactionNo", "378265991124154801"), ("status", "success"), ("reference", "inv-1")];
//! let sig = pockyt_payouts::sign(fields, "the API token");
//! let body = format!("transactionNo=378265991124154801&status=success&reference=inv-1&verifySign={sig}");
//!
//! let outcome = webhook
//!     .handle(body.as_bytes(), |event| async move {
//!         assert_eq!(event.invoice_id.as_deref(), Some("inv-1"));
//!         Ok::<_, std::convert::Infallible>(())
//!     })
//!     .await;
//! assert_eq!(outcome, Outcome::Handled);
//! assert_eq!(outcome.reply().body, "success");
//! // The API resends: the handler does not run again, the answer is the same.
//! let again = webhook.handle(body.as_bytes(), |_| async { unreachable!() as Result<(), String> }).await;
//! assert_eq!(again, Outcome::Duplicate);
//! # });
//! ```

mod event;
mod reply;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use pockyt_payouts_sign::{IpnError, MalformedIpn, TokenDigest};

pub use event::WebhookEvent;
pub use pockyt_payouts_core::types::PayoutEvent;
pub use reply::{Outcome, Reply, CONTENT_TYPE, SUCCESS_BODY};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteEventStore;
pub use store::{
    Claim, EventStore, MemoryEventStore, StoreError, StoreFuture, DEFAULT_LEASE,
    DEFAULT_MEMORY_CAPACITY, DEFAULT_RETENTION,
};

/// The largest IPN body a receiver should read; genuine IPNs are a few
/// hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Verifies a raw IPN body (`application/x-www-form-urlencoded`, exactly as
/// received) with the API token and returns the typed event. Refuses,
/// before reading any field, an empty token and anything
/// [`verify_ipn_body_checked`](crate::verify_ipn_body_checked) refuses; then
/// an IPN without `transactionNo` or `status`, or whose `reference` and
/// `invoiceId` disagree (`IPN_MALFORMED_BODY`).
///
/// ```
/// let sig = pockyt_payouts::sign([("transactionNo", "1"), ("status", "failed")], "token");
/// let body = format!("transactionNo=1&status=failed&verifySign={sig}");
/// let event = pockyt_payouts::webhook::construct_event(body.as_bytes(), "token").unwrap();
/// assert_eq!(event.status, pockyt_payouts::PayoutStatus::Failed);
/// let err = pockyt_payouts::webhook::construct_event(body.as_bytes(), "other").unwrap_err();
/// assert_eq!(err.code(), "IPN_SIGNATURE_MISMATCH");
/// ```
pub fn construct_event(body: &[u8], api_token: &str) -> Result<PayoutEvent, IpnError> {
    event::from_body(body, &TokenDigest::from_token(api_token))
}

/// Verifies an IPN whose body a framework already decoded into fields
/// (name, value pairs, `verifySign` among them) and returns the typed
/// event, as [`construct_event`] does. Prefer the raw body: a decoder can
/// hide what verification must see (a repeated field, invalid UTF-8).
pub fn event_from_fields<I, K, V>(fields: I, api_token: &str) -> Result<PayoutEvent, IpnError>
where
    I: IntoIterator<Item = (K, V)>,
    K: Into<String>,
    V: Into<String>,
{
    event::from_fields(fields, &TokenDigest::from_token(api_token))
}

/// The key an event is deduplicated by: `transactionNo:status` (the API
/// resends an IPN until answered, and carries no nonce).
///
/// ```
/// # let sig = pockyt_payouts::sign([("transactionNo", "7"), ("status", "success")], "t");
/// # let body = format!("transactionNo=7&status=success&verifySign={sig}");
/// # let event = pockyt_payouts::webhook::construct_event(body.as_bytes(), "t").unwrap();
/// assert_eq!(pockyt_payouts::webhook::dedup_key(&event), "7:success");
/// ```
pub fn dedup_key(event: &PayoutEvent) -> String {
    format!("{}:{}", event.transaction_no, event.status.as_str())
}

/// An IPN receiver: the API token to verify with and the store that
/// remembers handled events. Cheap to clone (clones share the store).
#[derive(Clone)]
pub struct Webhook {
    digest: TokenDigest,
    store: Arc<dyn EventStore>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("api_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// A receiver verifying with `api_token` and deduplicating in a
    /// [`MemoryEventStore`]. An empty or whitespace-only token is refused
    /// here ([`IpnError::EmptyToken`]), not at the first IPN.
    pub fn new(api_token: &str) -> Result<Self, IpnError> {
        let digest = TokenDigest::from_token(api_token);
        if digest.is_blank() {
            return Err(IpnError::EmptyToken);
        }
        Ok(Webhook {
            digest,
            store: Arc::new(MemoryEventStore::new()),
        })
    }

    /// A receiver with the token of `POCKYT_API_TOKEN`.
    pub fn from_env() -> Result<Self, IpnError> {
        Self::new(&std::env::var("POCKYT_API_TOKEN").unwrap_or_default())
    }

    /// Deduplicates in `store` instead.
    pub fn with_store(mut self, store: impl EventStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Deduplicates in a store shared with other receivers.
    pub fn with_shared_store(mut self, store: Arc<dyn EventStore>) -> Self {
        self.store = store;
        self
    }

    /// [`construct_event`] with this receiver's token.
    pub fn construct_event(&self, body: &[u8]) -> Result<PayoutEvent, IpnError> {
        event::from_body(body, &self.digest)
    }

    /// [`event_from_fields`] with this receiver's token.
    pub fn event_from_fields<I, K, V>(&self, fields: I) -> Result<PayoutEvent, IpnError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        event::from_fields(fields, &self.digest)
    }

    /// Verifies the raw body, then runs `handler` at most once for the
    /// event ([`Webhook::run_once`]). Send [`Outcome::reply`] back.
    pub async fn handle<F, Fut, E>(&self, body: &[u8], handler: F) -> Outcome
    where
        F: FnOnce(PayoutEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        match self.construct_event(body) {
            Ok(event) => self.run_once(event, handler).await,
            Err(error) => {
                if let IpnError::MalformedBody(
                    MalformedIpn::MissingField { .. }
                    | MalformedIpn::ConflictingFields { .. }
                    | MalformedIpn::InvalidField { .. },
                ) = &error
                {
                    // Signed by the API, yet not an event this SDK can type:
                    // refused and resent, but worth a person's attention.
                    tracing::error!(code = error.code(), %error, "a genuine IPN could not be typed");
                } else {
                    tracing::warn!(code = error.code(), %error, "IPN refused");
                }
                Outcome::Refused(error)
            }
        }
    }

    /// Runs `handler` for a verified event unless it already succeeded for
    /// the same `transactionNo` + `status` (or is running now, elsewhere):
    /// claims the key, runs, then completes the key on success or releases
    /// it on failure so the API's resend runs it again.
    pub async fn run_once<F, Fut, E>(&self, event: PayoutEvent, handler: F) -> Outcome
    where
        F: FnOnce(PayoutEvent) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        let key = dedup_key(&event);
        match self.store.claim(&key).await {
            Ok(claim) => {
                if let Some(outcome) = claim.decided_outcome() {
                    tracing::debug!(key, outcome = outcome.name(), "IPN not run again");
                    return outcome;
                }
            }
            Err(error) => return Outcome::StoreFailed(error),
        }
        match handler(event).await {
            Ok(()) => match self.store.complete(&key).await {
                Ok(()) => Outcome::Handled,
                Err(error) => Outcome::StoreFailed(error),
            },
            Err(error) => {
                tracing::warn!(key, %error, "IPN handler failed");
                drop(error);
                if let Err(error) = self.store.release(&key).await {
                    return Outcome::StoreFailed(error);
                }
                Outcome::HandlerFailed
            }
        }
    }
}
