//! The signed raw request, for operations the SDK does not model yet (like
//! Stripe's `raw_request`): the provider documents
//! `/v3/payee/account/create/crypto` (a crypto wallet as a payout account)
//! and `/v3/payee/account/configurations` (which fields a country, currency
//! and method need) without full field lists, so the SDK reaches them here
//! rather than through guessed models.
//!
//! The envelope is filled and signed as for every call; a path that is not
//! a read-only operation of the spec is treated as state-changing (an
//! idempotency key, resends only with it); the answer is bounded and
//! mapped to the same typed errors; a success answers the whole JSON
//! object.

use pockyt_payouts_core::enums::RetCode;
use pockyt_payouts_sign::ENVELOPE_FIELDS;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::transport::Answer;

/// Any answer: its ret_code and message, and everything else it carries.
#[derive(Deserialize)]
struct RawAnswer {
    ret_code: RetCode,
    ret_msg: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

impl Answer for RawAnswer {
    fn ret_code(&self) -> &RetCode {
        &self.ret_code
    }
    fn ret_msg(&self) -> Option<&str> {
        self.ret_msg.as_deref()
    }
}

/// A raw request's path: `/v3/` then letters, digits and `/ - _ .`, no
/// `..`, at most 200 characters.
fn check_path(path: &str) -> Result<(), Error> {
    let ok = path.starts_with("/v3/")
        && path.len() <= 200
        && !path.contains("..")
        && !path.contains("//")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_request(
            "path",
            "must start with /v3/ and hold only letters, digits, '/', '-', '_' and '.' (at most 200 characters, no '..')",
        ))
    }
}

/// The parameters: a JSON object of string values (`null` counts as
/// absent); the signing envelope's fields are refused.
fn check_params(params: Value) -> Result<Map<String, Value>, Error> {
    let Value::Object(mut fields) = params else {
        return Err(Error::invalid_request(
            "params",
            "must be an object of named string values",
        ));
    };
    fields.retain(|_, v| !v.is_null());
    for (name, value) in &fields {
        if name.is_empty() {
            return Err(Error::invalid_request(
                "params",
                "has a field with an empty name",
            ));
        }
        if ENVELOPE_FIELDS.contains(&name.as_str()) {
            return Err(Error::invalid_request(
                name,
                "is set by the SDK's signing layer and must not be passed",
            ));
        }
        if !value.is_string() {
            return Err(Error::invalid_request(name, "must be a string"));
        }
    }
    Ok(fields)
}

impl Client {
    /// Sends a signed request to an operation the SDK does not model:
    /// `path` must start with `/v3/`; `params` is a JSON object of the
    /// operation's parameters (wire names, string values), without the
    /// envelope (`merchantNo`, `storeNo`, `timestamp`, `verifySign`), which
    /// is filled in and signed. Answers the whole JSON object of a success
    /// (`ret_code` 000100); any other `ret_code`, and every failure, is the
    /// same typed [`Error`] as the modelled calls'.
    ///
    /// Unless `path` is a read-only operation of the spec, the call is taken
    /// to change state: it carries a `Pockyt-Request-ID` (a random UUID, or
    /// [`Client::with_idempotency_key`]'s) and is resent after a
    /// possibly-received attempt only with it, within `max_retries` and the
    /// deadline.
    ///
    /// ```no_run
    /// # async fn run(client: pockyt_payouts::Client) -> Result<(), pockyt_payouts::Error> {
    /// let fields = client
    ///     .request(
    ///         "/v3/payee/account/configurations",
    ///         serde_json::json!({ "country": "US", "currency": "USD" }),
    ///     )
    ///     .await?;
    /// println!("{fields:?}");
    /// # Ok(()) }
    /// ```
    pub async fn request(&self, path: &str, params: Value) -> Result<Map<String, Value>, Error> {
        check_path(path)?;
        let params = check_params(params)?;
        let endpoint = Endpoint::raw(path)?;
        // A state-changing operation the SDK models has its own rules (pay's
        // reconciliation, its derived key): use its method.
        if let Some(op) = endpoint.operation() {
            if !op.is_read_only() {
                return Err(Error::invalid_request(
                    "path",
                    format!(
                        "is the path of {}: call that method, which applies its own rules",
                        op.name()
                    ),
                ));
            }
        }
        let deadline = self.start_call()?;
        let key = self.call_key(endpoint);
        let core = &self.shared.core;
        let answer: RawAnswer = self
            .run(endpoint, &deadline, key.is_some(), || {
                pockyt_payouts_core::send_raw(core, path, &params, key.as_deref())
            })
            .await?;
        let mut fields = answer.rest;
        fields.insert(
            "ret_code".into(),
            Value::String(answer.ret_code.as_str().to_owned()),
        );
        if let Some(message) = answer.ret_msg {
            fields.insert("ret_msg".into(), Value::String(message));
        }
        Ok(fields)
    }
}
