//! `startSandbox()` of `pockyt-payouts/testing`: the Rust sandbox
//! (`pockyt-sandbox`) served in this process, on napi's tokio runtime.

use std::sync::Mutex;

use napi_derive::napi;
use pockyt_payouts::naming::Spelling;
use pockyt_payouts::Error as SdkError;
use pockyt_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Map, Value};

use crate::{config_error, Outcome};

/// The sandbox configuration for `startSandbox(options)`: the sandbox
/// crate's one rule for options given by name, Node's spelling.
fn config_from_options(options: Option<Value>) -> std::result::Result<SandboxConfig, SdkError> {
    let options: Map<String, Value> = match options {
        None | Some(Value::Null) => return Ok(SandboxConfig::default()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(config_error("options", "must be an object")),
    };
    pockyt_sandbox::options::sandbox_config(Spelling::Node, &options)
        .map_err(|v| config_error(&v.field, &v.rule))
}

/// A payout the sandbox holds.
#[napi(object)]
pub struct SandboxPayout {
    /// The merchant's invoiceId.
    pub invoice_id: String,
    /// The sandbox's number for the payout.
    pub transaction_no: String,
    /// The payee paid.
    pub customer_no: String,
    /// The payout account paid.
    pub account_token: String,
    /// The amount, with two fraction digits.
    pub amount: String,
    /// The currency.
    pub currency: String,
    /// pending, success, failed or returned.
    pub status: String,
    /// When the payout was created, UTC.
    pub created_time: String,
}

/// One try of an IPN (webhook) delivery.
#[napi(object)]
pub struct SandboxIpnDelivery {
    /// Where the IPN was sent.
    pub url: String,
    /// The fields sent, in order, as [name, value] pairs.
    pub fields: Vec<Vec<String>>,
    /// Which try this was (1 for the first).
    pub attempt: u32,
    /// The receiver's HTTP status, when it answered.
    pub http_status: Option<u32>,
    /// Why the try failed to get an answer, when it did.
    pub error: Option<String>,
    /// The first 200 bytes of the receiver's answer (lossy UTF-8), when it
    /// answered.
    pub answer: Option<String>,
    /// Why this try does not count as received, so the IPN is resent while
    /// tries remain (`answered HTTP 500 ...`, `no answer (...)`); null when
    /// received.
    pub resend_reason: Option<String>,
    /// Whether the receiver answered the plain text `success`.
    pub answered_success: bool,
}

/// A sandbox served in this process. `stop()` shuts it down.
#[napi]
pub struct NativeSandbox {
    base_url: String,
    merchant_no: String,
    store_no: String,
    api_token: String,
    inner: Mutex<Option<Sandbox>>,
}

impl NativeSandbox {
    fn with<T>(&self, read: impl FnOnce(&Sandbox) -> T) -> std::result::Result<T, SdkError> {
        let guard = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard
            .as_ref()
            .map(read)
            .ok_or_else(|| config_error("sandbox", "is stopped"))
    }
}

#[napi]
impl NativeSandbox {
    /// The base URL to give a client (`http://127.0.0.1:<port>`).
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The merchant number the sandbox expects.
    #[napi(getter)]
    pub fn merchant_no(&self) -> String {
        self.merchant_no.clone()
    }

    /// The store number the sandbox expects.
    #[napi(getter)]
    pub fn store_no(&self) -> String {
        self.store_no.clone()
    }

    /// The API token the sandbox verifies requests and signs IPNs with.
    #[napi(getter)]
    pub fn api_token(&self) -> String {
        self.api_token.clone()
    }

    /// Every payout, in the order they were created.
    #[napi(ts_return_type = "Array<SandboxPayout>")]
    pub fn payouts(&self) -> Outcome<Vec<SandboxPayout>> {
        Outcome(self.with(|sandbox| {
            sandbox
                .payouts()
                .into_iter()
                .map(|p| SandboxPayout {
                    invoice_id: p.invoice_id,
                    transaction_no: p.transaction_no,
                    customer_no: p.customer_no,
                    account_token: p.account_token,
                    amount: p.amount,
                    currency: p.currency,
                    status: p.status,
                    created_time: p.created_time,
                })
                .collect()
        }))
    }

    /// The balance available in `currency` (null when it has none).
    #[napi(ts_return_type = "string | null")]
    pub fn balance(&self, currency: String) -> Outcome<Option<String>> {
        Outcome(self.with(|sandbox| sandbox.balance(&currency)))
    }

    /// Every IPN try made so far, in order.
    #[napi(ts_return_type = "Array<SandboxIpnDelivery>")]
    pub fn ipn_log(&self) -> Outcome<Vec<SandboxIpnDelivery>> {
        Outcome(self.with(|sandbox| {
            sandbox
                .ipn_log()
                .into_iter()
                .map(|d| SandboxIpnDelivery {
                    url: d.url,
                    fields: d
                        .fields
                        .into_iter()
                        .map(|(name, value)| vec![name, value])
                        .collect(),
                    attempt: d.attempt,
                    http_status: d.http_status.map(u32::from),
                    error: d.error,
                    answer: d.answer,
                    resend_reason: d.resend_reason,
                    answered_success: d.answered_success,
                })
                .collect()
        }))
    }

    /// Sends the IPN of the payout's current status again (a new delivery,
    /// with its own tries), as the API does when it resends. False when no
    /// payout has this invoiceId or it has no `ipnUrl`.
    #[napi(ts_return_type = "boolean")]
    pub fn resend_ipn(&self, invoice_id: String) -> Outcome<bool> {
        Outcome(self.with(|sandbox| sandbox.resend_ipn(&invoice_id)))
    }

    /// Forgets every payee, account, payout, IPN try and fault rule, and
    /// puts the balances back to the configured ones.
    #[napi(ts_return_type = "void")]
    pub fn reset(&self) -> Outcome<()> {
        Outcome(self.with(Sandbox::reset))
    }

    /// Everything the sandbox holds, as `GET /_sandbox/state` answers it.
    #[napi(ts_return_type = "Record<string, unknown>")]
    pub fn state(&self) -> Outcome<Value> {
        Outcome(self.with(Sandbox::state_json))
    }

    /// Stops serving and ends the sandbox's background tasks. Stopping a
    /// stopped sandbox does nothing.
    #[napi]
    pub async fn stop(&self) {
        let sandbox = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(sandbox) = sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// Starts a sandbox on `host:port` (default `127.0.0.1:0`, a free port)
/// with `{ merchantNo, storeNo, apiToken, balances, settleDelayMs,
/// ipnRetryDelaysMs, timestampToleranceMs }` (defaults: 202333, 301854,
/// sandbox-api-token, USD 1000000.00, 2000, 0/250/500/1000/2000/4000/8000/16000,
/// 600000).
#[napi(
    ts_args_type = "options?: Record<string, unknown> | null",
    ts_return_type = "Promise<NativeSandbox>"
)]
pub async fn start_sandbox(options: Option<Value>) -> Outcome<NativeSandbox> {
    let config = match config_from_options(options) {
        Ok(config) => config,
        Err(error) => return Outcome(Err(error)),
    };
    let (merchant_no, store_no, api_token) = (
        config.merchant_no.clone(),
        config.store_no.clone(),
        config.api_token.clone(),
    );
    Outcome(
        Sandbox::start(config)
            .await
            .map(|sandbox| NativeSandbox {
                base_url: sandbox.base_url().to_string(),
                merchant_no,
                store_no,
                api_token,
                inner: Mutex::new(Some(sandbox)),
            })
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::InvalidInput => config_error("balances", &error.to_string()),
                _ => config_error("port", &format!("could not be listened on: {error}")),
            }),
    )
}
