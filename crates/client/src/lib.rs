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
//! let customer_no = payee.customer_no.expect("register answers customerNo");
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
//!             .account_token(account.account_token.expect("answered"))
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
//! - **Read-only calls** (`retrieve_payee`, `list_payout_accounts`,
//!   `inquire_payout`, `balance`) are also sent again on connection errors,
//!   timeouts, HTTP 5xx and ret_code 000000 / 000080.
//! - **`pay` is never sent again once it may have reached the server.** The
//!   client asks `inquire_payout(invoice_id)` instead: a payout found is the
//!   result of `pay`; only when the API answers that no payout has that
//!   invoiceId is the request sent again, with the same invoiceId. When
//!   that cannot be established the call fails with
//!   `PAYOUT_OUTCOME_UNKNOWN` ([`Error::PayoutOutcomeUnknown`]), carrying
//!   the invoiceId: reconcile later with `inquire_payout`, never pay again
//!   under a new invoiceId.
//! - **`register_payee`, `update_payee`, `add_bank_account`** are not sent
//!   again once they may have been received (a second register would create
//!   a second payee; a second bank account a duplicate account). The error
//!   says so ([`Error::may_have_been_received`]); reconcile with
//!   `retrieve_payee` / `list_payout_accounts`.
//!
//! Timeouts: a connect timeout (default 10 s) and a total timeout per
//! attempt (default 30 s), set in [`Config`], overridable per call with
//! [`Client::with_timeout`] and [`Client::with_connect_timeout`].
//!
//! ## Webhooks (IPN)
//!
//! The API POSTs payout status changes to your `ipnUrl` as a URL-encoded,
//! signed form. Verify the raw body with [`verify_ipn_body`] (or the decoded
//! fields with [`verify_ipn`]), answer the plain text `success`, and
//! deduplicate by `transactionNo` + `status` (IPNs are resent until
//! answered).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod error;
pub mod naming;
mod retry;

pub use client::Client;
pub use config::{
    ApiToken, Config, Environment, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, PRODUCTION_BASE_URL,
    SANDBOX_BASE_URL,
};
pub use error::{Delivery, Error, ErrorCode, EXCERPT_LIMIT};
pub use pockyt_payouts_core::operation::Operation;
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
    PayoutAccount, RegisterPayeeParams, RetrievePayeeParams, UpdatePayeeParams,
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

/// Checks a received IPN's `verifySign` (found among `params`, the fields
/// exactly as received) in constant time. `false` when it is missing,
/// repeated or wrong.
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
    pockyt_payouts_sign::verify(params, api_token)
}

/// Checks a raw `application/x-www-form-urlencoded` IPN body, exactly as
/// received, in constant time.
///
/// ```
/// let sig = pockyt_payouts::sign([("status", "success")], "token");
/// let body = format!("status=success&verifySign={sig}");
/// assert!(pockyt_payouts::verify_ipn_body(body.as_bytes(), "token"));
/// assert!(!pockyt_payouts::verify_ipn_body(b"status=failed&verifySign=00", "token"));
/// ```
pub fn verify_ipn_body(body: &[u8], api_token: &str) -> bool {
    pockyt_payouts_sign::verify_urlencoded(body, api_token)
}

/// Splits a URL-encoded IPN body into its fields (decoded once, in order).
pub fn parse_ipn_body(body: &[u8]) -> Vec<(String, String)> {
    pockyt_payouts_sign::parse_urlencoded(body)
}

/// The project README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
