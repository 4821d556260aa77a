//! Webhooks (IPN) of `pockyt-payouts/webhooks`: the Rust crate's
//! `pockyt_payouts::webhook` for JavaScript. Verification, typing (the
//! `reference` → `invoiceId` alias included), the dedup key, the claim rule
//! and the reply to each outcome all come from Rust; the JavaScript side
//! only sequences claim → handler → complete / release and writes the reply.
//!
//! A refused IPN is thrown as a `PockytNativeError` whose `code` is the
//! Rust `IpnError` code (`IPN_EMPTY_TOKEN`, `IPN_MISSING_SIGNATURE`,
//! `IPN_REPEATED_SIGNATURE`, `IPN_SIGNATURE_MISMATCH`, `IPN_MALFORMED_BODY`)
//! and whose `reason` is that code's Node spelling (`signature_mismatch`);
//! the package turns it into a `WebhookError`. No message carries the
//! token, a signature or a field's value.

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::JsValue;
use napi_derive::napi;
use pockyt_payouts::webhook::{self, Claim, MemoryEventStore, Outcome as WebhookOutcome, Webhook};
use pockyt_payouts::{Error as SdkError, IpnError};
use serde_json::Value;

use crate::{config_error, to_napi_error};

/// The plain-text body that tells the API an IPN was received: `success`.
#[napi]
pub const SUCCESS_BODY: &str = webhook::SUCCESS_BODY;

/// The content type of every answer to an IPN.
#[napi]
pub const CONTENT_TYPE: &str = webhook::CONTENT_TYPE;

/// The largest IPN body a receiver reads, in bytes (genuine IPNs are a few
/// hundred bytes).
#[napi]
pub const MAX_BODY_BYTES: u32 = webhook::MAX_BODY_BYTES as u32;

/// A thrown `PockytNativeError` for an IPN refused with `code` (one of
/// `IpnError::CODES`), described by `message`.
fn refusal(env: &Env, code: &str, message: String) -> napi::Error {
    let built = env
        .create_error(napi::Error::new(Status::GenericFailure, message.clone()))
        .and_then(|mut object| {
            object.set("name", "PockytNativeError")?;
            object.set("code", code)?;
            object.set("reason", IpnError::reason_of(code).unwrap_or_default())?;
            object.into_unknown(env)
        });
    match built {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, message),
    }
}

fn refused(env: &Env, error: &IpnError) -> napi::Error {
    refusal(env, error.code(), error.to_string())
}

/// A body the caller got wrong before verification could start: reported
/// as a malformed IPN whose message names the classic mistake.
fn wrong_body(env: &Env, why: &str) -> napi::Error {
    refusal(
        env,
        IpnError::MALFORMED_BODY,
        format!("malformed IPN: {why}"),
    )
}

/// The raw body of an IPN as bytes: a string, a Buffer or a Uint8Array.
/// Anything else is one of the classic mistakes, answered by name.
fn raw_body(env: &Env, body: &Unknown) -> Result<Vec<u8>> {
    match body.get_type()? {
        ValueType::String => {
            let text = String::from_unknown(*body)?;
            Ok(text.into_bytes())
        }
        ValueType::Undefined | ValueType::Null => Err(wrong_body(
            env,
            "the body is undefined (or null): no raw body reached constructEvent; \
             express.raw() did not match the request's content type (IPNs are \
             application/x-www-form-urlencoded: use express.raw({ type: '*/*' })) or no body \
             parser ran. Pass the raw body (a Buffer or string), or use the middleware of \
             pockyt-payouts/express",
        )),
        ValueType::Object if body.is_typedarray()? => {
            let bytes = Uint8Array::from_unknown(*body).map_err(|_| {
                wrong_body(env, "the body must be a Buffer, a Uint8Array or a string")
            })?;
            Ok(bytes.to_vec())
        }
        ValueType::Object => Err(wrong_body(
            env,
            "the body was already parsed: pass the raw body (express.raw / the \
             middleware of this package) or use eventFromFields(req.body)",
        )),
        _ => Err(wrong_body(
            env,
            "the body must be the raw IPN body: a Buffer, a Uint8Array or a string",
        )),
    }
}

/// The (name, value) pairs of an object of decoded fields: a string value
/// is one field, an array of strings the field repeated, an undefined value
/// no field. A nested object (what `express.urlencoded({ extended: true })`
/// makes of `a[b]=c`) and any other value are refused as malformed.
fn field_pairs(env: &Env, fields: &Unknown) -> Result<Vec<(String, String)>> {
    let not_fields = |what: &str| {
        wrong_body(
            env,
            &format!(
                "eventFromFields takes the decoded fields as an object of strings, not {what}; \
                 pass a raw body to constructEvent"
            ),
        )
    };
    match fields.get_type()? {
        ValueType::Object if fields.is_typedarray()? => return Err(not_fields("a Buffer")),
        ValueType::Object if fields.is_array()? => return Err(not_fields("an array")),
        ValueType::Object => {}
        ValueType::String => return Err(not_fields("a string")),
        ValueType::Undefined | ValueType::Null => {
            return Err(not_fields(
                "undefined: no body parser decoded the request (req.body is unset)",
            ))
        }
        _ => return Err(not_fields("this value")),
    }
    let object = Object::from_unknown(*fields)?;
    let mut pairs = Vec::new();
    for name in Object::keys(&object)? {
        let value: Unknown = object.get_named_property(&name)?;
        let not_string = || {
            wrong_body(
                env,
                &format!(
                    "the field {:?} is not a string (or an array of strings, for a repeated field)",
                    shown(&name)
                ),
            )
        };
        match value.get_type()? {
            ValueType::String => pairs.push((name, String::from_unknown(value)?)),
            ValueType::Undefined => {}
            ValueType::Object if value.is_array()? => {
                let items = Array::from_unknown(value)?;
                for i in 0..items.len() {
                    let item: Unknown = items.get(i)?.ok_or_else(not_string)?;
                    if item.get_type()? != ValueType::String {
                        return Err(not_string());
                    }
                    pairs.push((name.clone(), String::from_unknown(item)?));
                }
            }
            ValueType::Object if !value.is_typedarray()? => {
                return Err(wrong_body(
                    env,
                    &format!(
                        "the field {:?} was decoded as a nested object (express.urlencoded({{ \
                         extended: true }}) makes one of a[b]=c): the IPN cannot be verified \
                         from it; pass the raw body to constructEvent",
                        shown(&name)
                    ),
                ))
            }
            _ => return Err(not_string()),
        }
    }
    Ok(pairs)
}

/// A received field name for a message: at most 40 characters.
fn shown(name: &str) -> String {
    name.chars().take(40).collect()
}

/// The event as a plain object with the wire's (camelCase) names.
fn event_object(event: &webhook::PayoutEvent) -> Result<Value> {
    serde_json::to_value(event).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// Verifies a raw IPN body (exactly as received) with the API token and
/// returns the typed event (wire names), or throws the refusal.
#[napi(
    ts_args_type = "body: Buffer | Uint8Array | string, apiToken: string",
    ts_return_type = "Record<string, unknown>"
)]
pub fn construct_event(env: Env, body: Unknown, api_token: String) -> Result<Value> {
    let bytes = raw_body(&env, &body)?;
    let event = webhook::construct_event(&bytes, &api_token).map_err(|e| refused(&env, &e))?;
    event_object(&event)
}

/// Verifies the fields a framework already decoded (an array value is the
/// field repeated) and returns the typed event, or throws the refusal.
#[napi(
    ts_args_type = "fields: Record<string, unknown>, apiToken: string",
    ts_return_type = "Record<string, unknown>"
)]
pub fn event_from_fields(env: Env, fields: Unknown, api_token: String) -> Result<Value> {
    let pairs = field_pairs(&env, &fields)?;
    let event = webhook::event_from_fields(pairs, &api_token).map_err(|e| refused(&env, &e))?;
    event_object(&event)
}

/// The key an event is deduplicated by: `transactionNo:status`.
#[napi(ts_args_type = "event: Record<string, unknown>")]
pub fn dedup_key(event: Value) -> Result<String> {
    let event: webhook::PayoutEvent = serde_json::from_value(event).map_err(|_| {
        napi::Error::new(
            Status::InvalidArg,
            "the event must be one constructEvent or eventFromFields returned",
        )
    })?;
    Ok(webhook::dedup_key(&event))
}

/// The outcome a store's claim answer leads to: `null` for `new` (run the
/// handler), `duplicate` for `done`, `in_progress` for `in_progress`, and
/// `store_failed` for anything else (a store must answer one of the three).
#[napi(ts_args_type = "claim: unknown", ts_return_type = "string | null")]
pub fn outcome_for_claim(claim: Unknown) -> Option<String> {
    let text = match claim.get_type() {
        Ok(ValueType::String) => String::from_unknown(claim).ok(),
        _ => None,
    };
    // A non-string answer is no spelling of a claim: a failed store.
    Claim::decided_by_answer(text.as_deref().unwrap_or("")).map(str::to_owned)
}

/// What a receiver answers the API.
#[napi(object)]
pub struct WebhookReply {
    /// The HTTP status.
    pub status: u32,
    /// The plain-text body: exactly `success` when the API should stop
    /// resending.
    pub body: String,
    /// The content type: `text/plain; charset=utf-8`.
    pub content_type: String,
}

/// The answer to an outcome (`handled`, `duplicate`, `in_progress`,
/// `refused` with the refusal's `code`, `handler_failed`, `store_failed`).
#[napi]
pub fn webhook_reply(outcome: String, code: Option<String>) -> Result<WebhookReply> {
    let reply = WebhookOutcome::reply_for(&outcome, code.as_deref()).ok_or_else(|| {
        napi::Error::new(
            Status::InvalidArg,
            format!("no reply for the outcome {:?}", shown(&outcome)),
        )
    })?;
    Ok(reply.into())
}

impl From<webhook::Reply> for WebhookReply {
    fn from(reply: webhook::Reply) -> Self {
        WebhookReply {
            status: u32::from(reply.status),
            body: reply.body,
            content_type: CONTENT_TYPE.to_owned(),
        }
    }
}

/// The answer to an IPN body over [`MAX_BODY_BYTES`] (`413`, as the Rust
/// crate's axum route answers it).
#[napi]
pub fn too_large_reply() -> WebhookReply {
    webhook::Reply::too_large().into()
}

/// Throws the `IPN_EMPTY_TOKEN` refusal unless `apiToken` can verify IPNs
/// (a receiver checks its token when it is made, not at the first IPN).
#[napi]
pub fn check_webhook_token(env: Env, api_token: String) -> Result<()> {
    Webhook::new(&api_token)
        .map(drop)
        .map_err(|e| refused(&env, &e))
}

/// Options of the in-memory store.
#[napi(object)]
pub struct MemoryEventStoreOptions {
    /// How long a claim holds before another delivery may take it over
    /// (default 5 minutes).
    pub lease_ms: Option<f64>,
    /// How long handled keys are remembered (default 7 days).
    pub retention_ms: Option<f64>,
    /// How many keys are kept at most (default 100000).
    pub capacity: Option<f64>,
}

fn duration(name: &str, ms: f64) -> std::result::Result<Duration, SdkError> {
    if ms.is_finite() && ms >= 0.0 {
        Ok(Duration::from_secs_f64(ms / 1000.0))
    } else {
        Err(config_error(
            name,
            "must be a finite number of milliseconds, 0 or more",
        ))
    }
}

fn memory_store(
    options: Option<MemoryEventStoreOptions>,
) -> std::result::Result<MemoryEventStore, SdkError> {
    let mut inner = MemoryEventStore::new();
    let Some(options) = options else {
        return Ok(inner);
    };
    if let Some(ms) = options.lease_ms {
        inner = inner.with_lease(duration("leaseMs", ms)?);
    }
    if let Some(ms) = options.retention_ms {
        inner = inner.with_retention(duration("retentionMs", ms)?);
    }
    if let Some(capacity) = options.capacity {
        if !(capacity.is_finite() && capacity >= 1.0) {
            return Err(config_error("capacity", "must be a number, 1 or more"));
        }
        inner = inner.with_capacity(capacity as usize);
    }
    Ok(inner)
}

/// The in-process dedup store of the Rust crate (`MemoryEventStore`):
/// bounded, forgotten at restart.
#[napi]
pub struct NativeMemoryEventStore {
    inner: MemoryEventStore,
}

#[napi]
impl NativeMemoryEventStore {
    /// A store with the given lease, retention and capacity. Throws `INVALID_CONFIG` naming a bad option.
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<MemoryEventStoreOptions>) -> Result<Self> {
        memory_store(options)
            .map(|inner| NativeMemoryEventStore { inner })
            .map_err(|error| to_napi_error(&env, &error))
    }

    /// Claims `key`: `new`, `done` or `in_progress`.
    #[napi(ts_return_type = "'new' | 'done' | 'in_progress'")]
    pub fn claim(&self, key: String) -> &'static str {
        self.inner.claim_now(&key).as_str()
    }

    /// Marks a claimed `key` done.
    #[napi]
    pub fn complete(&self, key: String) {
        self.inner.complete_now(&key);
    }

    /// Forgets an uncompleted claim of `key`.
    #[napi]
    pub fn release(&self, key: String) {
        self.inner.release_now(&key);
    }

    /// How many keys the store remembers now.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        u32::try_from(self.inner.len()).unwrap_or(u32::MAX)
    }
}
