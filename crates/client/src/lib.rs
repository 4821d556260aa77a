//! # pockyt-payouts
//!
//! Pay affiliates, sellers and gig workers through the Pockyt (formerly
//! Yuansfer) **Payouts v3** API: register a payee, attach a bank account,
//! pay it, look the payout up, read the balance, and verify the payout
//! webhooks (IPN) the API sends back.
//!
//! Every call is signed for you (`merchantNo`, `storeNo`, `timestamp`,
//! `verifySign` are never yours to pass), validated before anything is sent,
//! and answered with a typed result or an [`Error`] with a stable
//! [`code`](Error::code). Answers keep fields this SDK does not know (in each
//! type's `extra` map), and enumerations accept values it does not know
//! (`Unknown(..)`).
//!
//! ```no_run
//! use pockyt_payouts::{Client, Config, ProfileType, BankAccountPurpose, types::*};
//!
//! # async fn run() -> Result<(), pockyt_payouts::Error> {
//! let client = Client::new(Config::new("202333", "301854", "your-api-token"))?;
//! let payee = client
//!     .register_payee(
//!         RegisterPayeeParams::builder()
//!             .profile_type(ProfileType::Individual)
//!             .date_of_birth("1990-05-17")
//!             .first_name(Some("Ada".to_string()))
//!             .last_name(Some("Lovelace".to_string()))
//!             .email(Some("ada@example.com".to_string())),
//!     )
//!     .await?;
//! let customer_no = payee.customer_no;
//! let account = client
//!     .add_bank_account(
//!         AddBankAccountParams::builder()
//!             .customer_no(customer_no.clone())
//!             .bank_account_id("7861053298")
//!             .branch_id("101089292")
//!             .bank_account_purpose(BankAccountPurpose::Checking),
//!     )
//!     .await?;
//! let payout = client
//!     .pay(
//!         PayParams::builder()
//!             .customer_no(customer_no)
//!             .account_token(account.account_token)
//!             .amount("25.00")
//!             .currency("USD")
//!             .invoice_id("inv-0001"),
//!     )
//!     .await?;
//! println!("payout {:?} is {:?}", payout.transaction_no, payout.status);
//! # Ok(()) }
//! ```
//!
//! ## Retries and safety
//!
//! A [`RetryPolicy`] (default: 2 retries, exponential backoff with full
//! jitter from 200 ms, capped at 5 s) decides what is sent again:
//!
//! - **Any call** is sent again when the connection failed before the
//!   request was written: nothing reached the server.
//! - **Every state-changing call** (`register_payee`, `update_payee`,
//!   `add_bank_account`, `delete_payout_account`, `pay`, and raw requests
//!   to other paths) sends a `Pockyt-Request-ID`, made once per call and
//!   sent with every attempt of it: the API answers a repeat of a completed
//!   request with the first answer, without acting twice. `pay`'s key is
//!   derived from the merchant, store, invoiceId and the payout's details
//!   (so a process that crashes and repeats the payout sends the same key);
//!   the others are a random UUID v4; [`Client::with_idempotency_key`] sets
//!   your own.
//! - **Read-only calls** and **state-changing calls with their key** are
//!   also sent again on connection errors, timeouts, HTTP 5xx and ret_code
//!   000000 / 000080. A definite refusal is never resent.
//! - **`pay` keeps its inquiry cross-check.** When an attempt may have
//!   reached the server, the client asks `inquire_payout(invoice_id)`: a
//!   payout found is the result of `pay`. When the attempt may still land
//!   (a timeout, a broken connection, a gateway's 502/504), the client
//!   first keeps inquiring for up to twice the per-attempt timeout and
//!   sends nothing meanwhile. When there is no payout, the pay is sent
//!   again with the same key and invoiceId; when the inquiry cannot say,
//!   only after an attempt the server answered. When every attempt was
//!   answered and no payout exists, the last failure is returned as it is
//!   (nothing was paid). If the outcome still cannot be established the
//!   call fails with `PAYOUT_OUTCOME_UNKNOWN`
//!   ([`Error::PayoutOutcomeUnknown`]), carrying the invoiceId: reconcile
//!   later with `inquire_payout`, never pay again under a new invoiceId.
//!
//! Timeouts: a connect timeout (default 10 s), a total timeout per
//! attempt (default 30 s) and an overall deadline per call (default 60 s)
//! that bounds attempts, waits between them and `pay`'s reconciliation
//! together (each attempt gets the smaller of its timeout and the time
//! left); set in [`Config`], overridable per call with
//! [`Client::with_timeout`], [`Client::with_deadline`] and
//! [`Client::with_connect_timeout`]. Every range is [`Config`]'s
//! (`Config::DURATION_RANGE`, `Config::MAX_RETRIES_RANGE`,
//! `Config::MAX_RESPONSE_BYTES_RANGE`, `Config::MAX_CONNECTIONS_RANGE`),
//! refused with `INVALID_CONFIG` naming the setting.
//!
//! ## Hostile answers
//!
//! Redirects are never followed (a 3xx is `HTTP_ERROR`). An answer is read
//! up to `max_response_bytes` (default 1 MiB) and no further: a longer one
//! fails with `DECODE_ERROR`. The token, its MD5 and credentials in the
//! base URL are scrubbed from every message, `ret_msg`, excerpt and
//! `Debug` output; tokens shorter than eight characters are refused.
//!
//! ## Webhooks (IPN)
//!
//! The API POSTs payout status changes to your `ipnUrl` as a URL-encoded,
//! signed form, resent until answered `success`. The [`webhook`] module
//! verifies the raw body and types it ([`webhook::construct_event`] →
//! [`PayoutEvent`]), runs your handler at most once per `transactionNo` +
//! `status` ([`webhook::Webhook::handle`], with a memory, SQLite (feature
//! `sqlite`) or your own store), and tells you what to answer; the `axum`
//! module (feature `axum`) is the same as an extractor and a ready route.
//! The lower-level checks remain: [`verify_ipn_body_checked`] (or
//! [`verify_ipn_body`] for a `bool`; [`verify_ipn_checked`] /
//! [`verify_ipn`] for decoded fields) and [`parse_ipn_body_checked`].
//!
//! The signing rule escapes nothing, so verification refuses what it cannot
//! read unambiguously, each refusal an [`IpnError`] with a stable code:
//! `IPN_EMPTY_TOKEN` (an empty or whitespace-only token: a configuration
//! error, never a forged IPN accepted with `md5("")`),
//! `IPN_MISSING_SIGNATURE`, `IPN_REPEATED_SIGNATURE`,
//! `IPN_SIGNATURE_MISMATCH` and `IPN_MALFORMED_BODY` (see [`MalformedIpn`]:
//! names with `=` or `&`, values with `&`, invalid UTF-8, bad
//! percent-encoding, a repeated field). Genuine IPNs are never refused:
//! the request fields echoed into them (`invoiceId`, `customerNo`) are
//! refused with `&` before a payout is sent.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod client;
mod config;
mod details;
mod endpoint;
mod error;
pub mod events;
#[rustfmt::skip]
#[allow(clippy::all)]
mod generated;
mod idempotency;
mod json;
/// Name spelling between the wire (camelCase) and Rust / Python (snake_case).
pub use pockyt_payouts_core::naming;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "batch")]
pub mod batch;
mod operations;
mod params;
mod raw;
mod reconcile;
mod redact;
mod retry;
pub mod settings;
mod transport;
pub mod webhook;

pub use client::Client;
/// The old name of [`PROVIDER_SANDBOX_BASE_URL`] (deprecated).
#[allow(deprecated)]
pub use config::SANDBOX_BASE_URL;
pub use config::{
    ApiToken, Config, Deprecation, Environment, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DEADLINE,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, MIN_API_TOKEN_LEN,
    PRODUCTION_BASE_URL, PROVIDER_SANDBOX_BASE_URL,
};
pub use details::ErrorDetails;
pub use endpoint::{CallTarget, Endpoint};
pub use error::{Delivery, Error, ErrorCode, EXCERPT_LIMIT};
pub use json::JsonAnswer;
pub use params::{IntoParams, RequiredFields};
pub use pockyt_payouts_core::operation::Operation;
pub use pockyt_payouts_sign::{IpnError, MalformedIpn};
pub use retry::RetryPolicy;

/// The input rules every call is checked against before it is sent.
pub use pockyt_payouts_core::validate;

pub use pockyt_payouts_core::enums::{
    AccountStatus, AccountType, BankAccountPurpose, GovernmentIdType, PayeeStatus, PayoutStatus,
    ProcessingChannel, ProfileType, RetCode,
};
/// The request and answer types, generated from `spec/payouts.yaml`.
/// Each params type has a `builder()`.
pub use pockyt_payouts_core::types;
pub use pockyt_payouts_core::types::{
    AddBankAccountParams, Balance, BalanceParams, BankAccount, Customer, InquirePayoutParams,
    ListPayoutAccountsParams, ListPayoutAccountsResponse, PayParams, PayeeSummary, Payout,
    PayoutAccount, PayoutEvent, RegisterPayeeParams, RetrievePayeeParams, UpdatePayeeParams,
    UpdatePayeeResponse,
};

/// The Result of this crate's calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Computes `verifySign` over `params` (name, value pairs; a `verifySign`
/// among them is left out) with the API token: the lowercase hex MD5 of the
/// pairs sorted by name, joined `name=value` with `&`, then `&` and the
/// lowercase hex MD5 of the token.
///
/// ```
/// // From the provider's published signing example.
/// let sig = pockyt_payouts::sign(
///     [("amount", "1.00"), ("currency", "USD"), ("merchantNo", "200043")],
///     "5cbfb079f15b150122261c8537086d77a",
/// );
/// assert_eq!(sig.len(), 32);
/// ```
pub fn sign<I, K, V>(params: I, api_token: &str) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    pockyt_payouts_sign::sign(params, api_token)
}

/// Whether a received IPN, given as its decoded fields (exactly as
/// received, `verifySign` among them), is genuine: [`verify_ipn_checked`]
/// as a `bool`. `false` for every refusal, an empty or whitespace-only
/// token included; use [`verify_ipn_checked`] to know why.
///
/// ```
/// let fields = [("status", "success"), ("reference", "inv-0001")];
/// let sig = pockyt_payouts::sign(fields, "token");
/// let mut received = fields.to_vec();
/// received.push(("verifySign", &sig));
/// assert!(pockyt_payouts::verify_ipn(received, "token"));
/// ```
pub fn verify_ipn<I, K, V>(params: I, api_token: &str) -> bool
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    verify_ipn_checked(params, api_token).is_ok()
}

/// Verifies a received IPN given as its decoded fields (exactly as
/// received, `verifySign` among them): refuses an empty or whitespace-only
/// token ([`IpnError::EmptyToken`], a configuration error), ambiguous
/// fields ([`IpnError::MalformedBody`]), a missing or repeated
/// `verifySign`, then compares the signature in constant time. Prefer
/// [`verify_ipn_body_checked`] on the raw body.
///
/// ```
/// use pockyt_payouts::IpnError;
/// let fields = [("status", "success"), ("reference", "inv-0001")];
/// let sig = pockyt_payouts::sign(fields, "token");
/// let mut received = fields.to_vec();
/// received.push(("verifySign", &sig));
/// assert_eq!(pockyt_payouts::verify_ipn_checked(received.clone(), "token"), Ok(()));
/// let err = pockyt_payouts::verify_ipn_checked(received, "").unwrap_err();
/// assert_eq!(err.code(), "IPN_EMPTY_TOKEN");
/// assert!(err.is_configuration_error());
/// ```
pub fn verify_ipn_checked<I, K, V>(params: I, api_token: &str) -> Result<(), IpnError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    pockyt_payouts_sign::verify_ipn(params, api_token)
}

/// Whether a raw `application/x-www-form-urlencoded` IPN body, exactly as
/// received, is genuine: [`verify_ipn_body_checked`] as a `bool`. `false`
/// for every refusal, an empty or whitespace-only token included.
///
/// ```
/// let sig = pockyt_payouts::sign([("status", "success")], "token");
/// let body = format!("status=success&verifySign={sig}");
/// assert!(pockyt_payouts::verify_ipn_body(body.as_bytes(), "token"));
/// assert!(!pockyt_payouts::verify_ipn_body(b"status=failed&verifySign=00", "token"));
/// assert!(!pockyt_payouts::verify_ipn_body(body.as_bytes(), ""));
/// ```
pub fn verify_ipn_body(body: &[u8], api_token: &str) -> bool {
    verify_ipn_body_checked(body, api_token).is_ok()
}

/// Verifies a raw `application/x-www-form-urlencoded` IPN body, exactly as
/// received: decodes it strictly ([`parse_ipn_body_checked`]), then checks
/// it as [`verify_ipn_checked`] does. An empty or whitespace-only token is
/// [`IpnError::EmptyToken`] whatever the body.
///
/// ```
/// use pockyt_payouts::{IpnError, MalformedIpn};
/// let sig = pockyt_payouts::sign([("settleCurrency", "USD"), ("status", "pending")], "token");
/// let body = format!("settleCurrency=USD&status=pending&verifySign={sig}");
/// assert_eq!(pockyt_payouts::verify_ipn_body_checked(body.as_bytes(), "token"), Ok(()));
/// // The same signature, with the status smuggled into another value.
/// let forged = format!("settleCurrency=USD%26status%3Dpending&verifySign={sig}");
/// let err = pockyt_payouts::verify_ipn_body_checked(forged.as_bytes(), "token").unwrap_err();
/// assert_eq!(err.code(), "IPN_MALFORMED_BODY");
/// assert!(matches!(err, IpnError::MalformedBody(MalformedIpn::ValueWithAmpersand { .. })));
/// ```
pub fn verify_ipn_body_checked(body: &[u8], api_token: &str) -> Result<(), IpnError> {
    pockyt_payouts_sign::verify_ipn_body(body, api_token)
}

/// Splits a URL-encoded IPN body into its fields (decoded once, in order),
/// leniently: invalid UTF-8 becomes U+FFFD and nothing is refused. Only
/// for a body [`verify_ipn_body`] accepted (for which it gives the same
/// fields as [`parse_ipn_body_checked`]); otherwise use
/// [`parse_ipn_body_checked`].
pub fn parse_ipn_body(body: &[u8]) -> Vec<(String, String)> {
    pockyt_payouts_sign::parse_urlencoded(body)
}

/// Splits a URL-encoded IPN body into its fields (decoded once, in order,
/// empty values kept), strictly: [`IpnError::MalformedBody`] for bad
/// percent-encoding, invalid UTF-8, an empty name, a name with `=` or `&`,
/// a value with `&`, or a field other than `verifySign` repeated. Does not
/// check the signature.
///
/// ```
/// let fields = pockyt_payouts::parse_ipn_body_checked(b"status=success&reference=inv+1").unwrap();
/// assert_eq!(fields[1], ("reference".to_string(), "inv 1".to_string()));
/// assert!(pockyt_payouts::parse_ipn_body_checked(b"reference=%FF").is_err());
/// ```
pub fn parse_ipn_body_checked(body: &[u8]) -> Result<Vec<(String, String)>, IpnError> {
    pockyt_payouts_sign::parse_ipn_body(body)
}

/// The project README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
