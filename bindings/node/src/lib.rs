//! The native half of the npm package `pockyt-payouts` (napi-rs).
//!
//! Everything here is a thin door onto the Rust crate `pockyt-payouts`:
//! every call goes through the crate's JSON door ([`CallTarget::call`],
//! answering JSON text as [`Client::call_json_text`] does), whose
//! parameters are already the wire's camelCase names, so nothing is
//! renamed on the way.
//! The package's JavaScript wrapper (`index.js`) gives each operation its
//! own method and turns the errors thrown here into its Error classes.
//!
//! **Errors.** Every SDK error crosses the boundary as a JavaScript `Error`
//! named `PockytNativeError` whose properties carry what the Rust error
//! knows: `code` (the API's ret_code or a fixed code), `field`, `retCode`,
//! `retMsg`, `operation`, `status`, `body`, `timeoutMs`, `invoiceId`,
//! `mayHaveBeenReceived` and, for an unknown payout outcome, a `cause` of
//! the same shape. napi's async functions reject with a plain napi status
//! code, so an error is built on the JavaScript thread when the result is
//! converted ([`Outcome`]'s `ToNapiValue`) and handed to napi as the value
//! to reject (or throw) with.
//!
//! **Runtime.** `async` methods run on napi's one tokio runtime (feature
//! `tokio_rt`), created once per process; the event loop never waits.

#![deny(clippy::all)]
// `cargo clippy --all-targets` also checks this library's test build, in
// which napi-derive registers nothing, so the exported functions look
// unused there. They are used: by Node, through the registrations.
#![cfg_attr(test, allow(dead_code))]

mod batch;
mod calls;
mod cli;
mod sandbox;
mod webhook;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pockyt_payouts::naming::camel_case;
use pockyt_payouts::settings::{self, Spelling};
use pockyt_payouts::{CallTarget, Client, Error as SdkError, ErrorDetails};
use serde_json::{Map, Value};

/// The result of an SDK call on its way to JavaScript: the value, or an SDK
/// error that becomes a thrown (or rejected) `PockytNativeError`.
pub struct Outcome<T>(std::result::Result<T, SdkError>);

impl<T: TypeName> TypeName for Outcome<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }

    fn value_type() -> ValueType {
        T::value_type()
    }
}

impl<T: ToNapiValue> ToNapiValue for Outcome<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val.0 {
            Ok(value) => unsafe { T::to_napi_value(env, value) },
            // napi rejects a promise (or throws) with the JavaScript value an
            // `Error` built from an `Unknown` refers to, as it is.
            Err(error) => Err(to_napi_error(&Env::from_raw(env), &error)),
        }
    }
}

/// A JavaScript `Error` carrying everything `error` knows: the Rust core's
/// one description of it ([`SdkError::details`]), with Node's names
/// (`field` and `operation` in camelCase, `timeoutMs`).
fn error_object<'env>(env: &'env Env, error: &SdkError) -> Result<Object<'env>> {
    details_object(env, &error.details())
}

fn details_object<'env>(env: &'env Env, details: &ErrorDetails) -> Result<Object<'env>> {
    let mut object = env.create_error(napi::Error::new(
        Status::GenericFailure,
        details.message.clone(),
    ))?;
    object.set("name", "PockytNativeError")?;
    object.set("code", details.code.as_str())?;
    object.set("mayHaveBeenReceived", details.may_have_been_received)?;
    if let Some(ret_code) = &details.ret_code {
        object.set("retCode", ret_code.as_str())?;
    }
    if let Some(ret_msg) = &details.ret_msg {
        object.set("retMsg", ret_msg.as_str())?;
    }
    if let Some(operation) = details.operation {
        object.set("operation", operation.camel_name())?;
    }
    if let Some(field) = &details.field {
        let field = if details.code == "INVALID_REQUEST" {
            camel_case(field)
        } else {
            field.clone()
        };
        object.set("field", field)?;
    }
    if let Some(status) = details.status {
        object.set("status", u32::from(status))?;
    }
    if let Some(timeout) = details.timeout {
        object.set("timeoutMs", timeout.as_secs_f64() * 1000.0)?;
    }
    if let Some(invoice_id) = &details.invoice_id {
        object.set("invoiceId", invoice_id.as_str())?;
    }
    if let Some(body) = &details.body {
        object.set("body", body.as_str())?;
    }
    if let Some(cause) = &details.cause {
        let cause = details_object(env, cause)?;
        object.set("cause", cause)?;
    }
    Ok(object)
}

/// The napi error to throw or reject with for `error`: the JavaScript
/// object of [`error_object`], or (should building it fail) a plain error
/// with the same message.
fn to_napi_error(env: &Env, error: &SdkError) -> napi::Error {
    match error_object(env, error).and_then(|object| object.into_unknown(env)) {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, error.to_string()),
    }
}

/// With `DEBUG=pockyt-payouts` (or `DEBUG=*`, or a comma-separated list
/// naming it) in the environment, the core's events (request sent,
/// answered, retried, reconciled) are written to stderr, one line each:
/// `pockyt-payouts debug sending operation=pay path=/v3/payouts/pay retry=0`.
/// They never carry the API token, its digest or a body. Checked once, when
/// the first client is made.
fn debug_events_from_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let wanted = std::env::var("DEBUG").unwrap_or_default();
        let on = wanted
            .split(|c: char| c == ',' || c.is_whitespace())
            .any(|name| name == "*" || name == "pockyt-payouts" || name == "pockyt-payouts:*");
        if on {
            pockyt_payouts::events::set_level("debug");
            pockyt_payouts::events::install(std::sync::Arc::new(|event| {
                eprintln!("pockyt-payouts {} {event}", event.level);
            }));
        }
    });
}

/// An `INVALID_CONFIG` error naming an option.
fn config_error(field: &str, rule: &str) -> SdkError {
    SdkError::invalid_config(field, rule)
}

/// An options object as JSON, for the Rust core's one rule to check: a
/// number that JSON cannot hold (NaN, the infinities) becomes text, which
/// no option accepts.
fn options_map(value: Option<Unknown<'_>>) -> std::result::Result<Map<String, Value>, SdkError> {
    let Some(value) = value else {
        return Ok(Map::new());
    };
    let not_object = || SdkError::invalid_config("options", "must be an object");
    match value.get_type().map_err(|_| not_object())? {
        ValueType::Undefined | ValueType::Null => return Ok(Map::new()),
        ValueType::Object => {}
        _ => return Err(not_object()),
    }
    let object = Object::from_unknown(value).map_err(|_| not_object())?;
    let mut map = Map::new();
    for name in Object::keys(&object).map_err(|_| not_object())? {
        let item: Unknown = object.get_named_property(&name).map_err(|_| not_object())?;
        let json = match item.get_type().map_err(|_| not_object())? {
            ValueType::Undefined | ValueType::Null => Value::Null,
            ValueType::Number => {
                let n = item
                    .coerce_to_number()
                    .and_then(|n| n.get_double())
                    .unwrap_or(f64::NAN);
                serde_json::Number::from_f64(n)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(n.to_string()))
            }
            ValueType::String => Value::String(
                item.coerce_to_string()
                    .and_then(|s| s.into_utf8())
                    .and_then(|s| s.into_owned())
                    .unwrap_or_default(),
            ),
            ValueType::Boolean => Value::Bool(item.coerce_to_bool().unwrap_or(false)),
            _ => Value::Array(Vec::new()),
        };
        map.insert(name, json);
    }
    Ok(map)
}

/// The fields of `params` as (name, value) pairs; an array value gives its
/// name once per element when `repeat` allows it.
fn string_pairs(
    params: Option<Value>,
    repeat: bool,
) -> std::result::Result<Vec<(String, String)>, SdkError> {
    let Some(Value::Object(fields)) = params else {
        return Err(SdkError::invalid_request(
            "params",
            "must be an object of named string values",
        ));
    };
    let mut pairs = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        match value {
            Value::String(text) => pairs.push((name, text)),
            Value::Null => {}
            Value::Array(items) if repeat && items.iter().all(Value::is_string) => {
                for item in items {
                    if let Value::String(text) = item {
                        pairs.push((name.clone(), text));
                    }
                }
            }
            _ => return Err(SdkError::invalid_request(&name, "must be a string")),
        }
    }
    Ok(pairs)
}

/// A deprecated setting a client was given: what `process.emitWarning`
/// reports, as a `DeprecationWarning`.
#[napi(object)]
pub struct DeprecationNote {
    /// A stable code (`DEPRECATED_ENVIRONMENT_NAME`).
    pub code: String,
    /// What was deprecated and what to use instead.
    pub message: String,
}

/// The native client: one `pockyt_payouts::Client` (one connection pool),
/// shared by every concurrent call made through it.
#[napi]
pub struct NativeClient {
    inner: Client,
}

#[napi]
impl NativeClient {
    /// A client from `{ merchantNo, storeNo, apiToken, environment, baseUrl,
    /// timeoutMs, connectTimeoutMs, deadlineMs, maxRetries, maxResponseBytes,
    /// maxConnections }`,
    /// checked by the Rust core's one rule (`pockyt_payouts::settings`).
    /// Throws a `PockytNativeError` with code `INVALID_CONFIG` naming the
    /// option.
    #[napi(constructor, ts_args_type = "options: Record<string, unknown>")]
    pub fn new(env: Env, options: Option<Unknown>) -> Result<Self> {
        debug_events_from_env();
        let built = match options.as_ref().map(|o| o.get_type()) {
            Some(Ok(ValueType::Object)) => options_map(options)
                .and_then(|map| settings::client_config(Spelling::Node, &map))
                .and_then(Client::new),
            _ => Err(SdkError::invalid_config("options", "must be an object")),
        };
        built
            .map(|inner| NativeClient { inner })
            .map_err(|error| to_napi_error(&env, &error))
    }

    /// A client configured from the `POCKYT_*` environment variables and
    /// `options` (the settings the environment does not give).
    #[napi(factory, ts_args_type = "options?: Record<string, unknown> | null")]
    pub fn from_env(env: Env, options: Option<Unknown>) -> Result<Self> {
        debug_events_from_env();
        options_map(options)
            .and_then(|map| settings::client_config_from_env(Spelling::Node, &map))
            .and_then(Client::new)
            .map(|inner| NativeClient { inner })
            .map_err(|error| to_napi_error(&env, &error))
    }

    /// The base URL requests go to.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.inner.redacted_base_url()
    }

    /// The merchant number.
    #[napi(getter)]
    pub fn merchant_no(&self) -> String {
        self.inner.config().merchant_no().to_owned()
    }

    /// The store number.
    #[napi(getter)]
    pub fn store_no(&self) -> String {
        self.inner.config().store_no().to_owned()
    }

    /// The total time allowed for one attempt of a call, in milliseconds.
    #[napi(getter)]
    pub fn timeout_ms(&self) -> f64 {
        self.inner.timeout().as_secs_f64() * 1000.0
    }

    /// The deprecated name this client's configuration was given (today:
    /// the environment `sandbox`, renamed `provider-sandbox`, as an option
    /// or in `POCKYT_ENV`), for the wrapper to report with
    /// `process.emitWarning`; null when none.
    #[napi(getter)]
    pub fn deprecation(&self) -> Option<DeprecationNote> {
        self.inner
            .config()
            .deprecation()
            .map(|deprecation| DeprecationNote {
                code: deprecation.code.to_owned(),
                message: deprecation.to_string(),
            })
    }

    /// Starts call `id` of `registration` (see `calls`): `operation`
    /// (`"pay"`, `"registerPayee"`, ..., or a `/v3/...` path for the signed
    /// raw request) with its camelCase string parameters, given as the JSON
    /// text of `JSON.stringify` (`paramsJson`: one string to copy, read off
    /// the JavaScript thread, cheaper than walking the object through
    /// Node-API property by property), or as the value itself
    /// (`params`, when JSON cannot represent it, so that the conversion
    /// names what it refused). It finishes through `takeFinished` (see
    /// `calls`): the answer as JSON text, or the error. `options`
    /// (`timeoutMs`, `connectTimeoutMs`, `deadlineMs`) override the
    /// client's settings for this call; unknown options are refused.
    #[napi(
        ts_args_type = "operation: string, paramsJson: string | undefined, params: unknown, options: Record<string, unknown> | null | undefined, registration: number, id: number"
    )]
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        &self,
        env: Env,
        operation: String,
        params_json: Option<String>,
        params: Option<Value>,
        options: Option<Unknown>,
        registration: u32,
        id: u32,
    ) -> Result<()> {
        let calls = calls::Calls::of(&env, registration)?;
        // The options are read here, on the JavaScript thread; the call runs
        // on the runtime.
        let prepared = options_map(options)
            .and_then(|map| settings::call_options(Spelling::Node, &map))
            .and_then(|options| self.inner.with_options(&options))
            .and_then(|client| Ok((client, operation.parse::<CallTarget>()?)));
        // The call's future is made on the runtime's thread, boxed
        // (`CallTarget::call`): the task spawned from the JavaScript thread
        // stays small.
        let work = async move {
            let params = match params_json {
                Some(text) => serde_json::from_str(&text).map_err(|error| {
                    SdkError::invalid_request("params", format!("cannot be read: {error}"))
                }),
                None => Ok(params.unwrap_or(Value::Null)),
            };
            // As JSON text, serialized from the typed result, which
            // `JSON.parse` turns into objects faster than building them
            // property by property through napi.
            let answer = match prepared.and_then(|prepared| Ok((prepared, params?))) {
                Ok(((client, target), params)) => target.call::<String>(&client, params).await,
                Err(error) => Err(error),
            };
            calls.finish(id, answer);
        };
        napi::bindgen_prelude::spawn(work);
        Ok(())
    }
}

/// `verifySign` over `params` (an object of string values; a `verifySign`
/// among them is left out) with the API token.
#[napi(
    ts_args_type = "params: Record<string, string>, apiToken: string",
    ts_return_type = "string"
)]
pub fn sign(params: Option<Value>, api_token: String) -> Outcome<String> {
    Outcome(string_pairs(params, false).map(|pairs| pockyt_payouts::sign(pairs, &api_token)))
}

/// An IPN check of the Rust crate's one implementation, for JavaScript:
/// `true`; `false` for a refused IPN (`verifySign` missing, repeated or
/// wrong, or fields the signing rule cannot read unambiguously); an
/// `INVALID_CONFIG` error (field `apiToken`) for an empty or
/// whitespace-only token, with which nothing can be verified.
fn ipn_outcome(
    checked: std::result::Result<(), pockyt_payouts::IpnError>,
) -> std::result::Result<bool, SdkError> {
    match checked {
        Ok(()) => Ok(true),
        Err(refused) if refused.is_configuration_error() => Err(SdkError::invalid_config(
            "apiToken",
            pockyt_payouts::IpnError::EMPTY_TOKEN_RULE,
        )),
        Err(_) => Ok(false),
    }
}

/// Whether the decoded fields of an IPN carry a valid `verifySign`. An
/// array value counts as the field repeated (a repeated `verifySign` fails).
/// Throws `INVALID_CONFIG` for an empty or whitespace-only token.
#[napi(
    ts_args_type = "params: Record<string, string | string[]>, apiToken: string",
    ts_return_type = "boolean"
)]
pub fn verify_ipn_fields(params: Option<Value>, api_token: String) -> Outcome<bool> {
    Outcome(
        string_pairs(params, true)
            .and_then(|pairs| ipn_outcome(pockyt_payouts::verify_ipn_checked(pairs, &api_token))),
    )
}

/// Whether a raw `application/x-www-form-urlencoded` IPN body, exactly as
/// received, carries a valid `verifySign` (decoded strictly: invalid UTF-8
/// or bad percent-encoding is `false`). Throws `INVALID_CONFIG` for an
/// empty or whitespace-only token.
#[napi(ts_return_type = "boolean")]
pub fn verify_ipn_body(body: Either<String, Uint8Array>, api_token: String) -> Outcome<bool> {
    let checked = match body {
        Either::A(text) => pockyt_payouts::verify_ipn_body_checked(text.as_bytes(), &api_token),
        Either::B(bytes) => pockyt_payouts::verify_ipn_body_checked(&bytes, &api_token),
    };
    Outcome(ipn_outcome(checked))
}
