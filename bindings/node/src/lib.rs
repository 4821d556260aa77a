//! The native half of the npm package `pockyt-payouts` (napi-rs).
//!
//! Everything here is a thin door onto the Rust crate `pockyt-payouts`:
//! every call goes through [`Client::call_json`], whose parameters are
//! already the wire's camelCase names, so nothing is renamed on the way.
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

mod sandbox;

use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use pockyt_payouts::naming::camel_case;
use pockyt_payouts::{Client, Config, Environment, Error as SdkError, Operation, RetryPolicy};
use serde_json::{Map, Value};

/// The largest `maxRetries` a client accepts.
const MAX_RETRIES_LIMIT: u64 = 10;

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

/// The Node spelling of a configuration setting the Rust crate names.
fn config_field(field: &str) -> String {
    match field {
        "timeout" => "timeoutMs".to_owned(),
        "connect_timeout" => "connectTimeoutMs".to_owned(),
        name if name.starts_with("POCKYT_") => name.to_owned(),
        name => camel_case(name),
    }
}

/// The error's message: the SDK's own, but for configuration settings,
/// which Node spells its own way.
fn message(error: &SdkError) -> String {
    match error {
        SdkError::InvalidConfig { field, rule } => {
            format!("invalid configuration: {} {rule}", config_field(field))
        }
        other => other.to_string(),
    }
}

/// A JavaScript `Error` carrying everything `error` knows.
fn error_object<'env>(env: &'env Env, error: &SdkError) -> Result<Object<'env>> {
    let mut object = env.create_error(napi::Error::new(Status::GenericFailure, message(error)))?;
    object.set("name", "PockytNativeError")?;
    object.set("code", error.code().as_str())?;
    object.set("mayHaveBeenReceived", error.may_have_been_received())?;
    match error {
        SdkError::InvalidRequest { field, .. } => object.set("field", field.as_str())?,
        SdkError::InvalidConfig { field, .. } => object.set("field", config_field(field))?,
        SdkError::Api {
            operation,
            ret_code,
            ret_msg,
        } => {
            object.set("operation", camel_case(operation.name()))?;
            object.set("retCode", ret_code.as_str())?;
            object.set("retMsg", ret_msg.as_str())?;
        }
        SdkError::Timeout {
            operation,
            after_ms,
        } => {
            object.set("operation", camel_case(operation.name()))?;
            object.set("timeoutMs", *after_ms as f64)?;
        }
        SdkError::Http { status, excerpt }
        | SdkError::Decode {
            status, excerpt, ..
        } => {
            object.set("status", u32::from(*status))?;
            object.set("body", excerpt.as_str())?;
        }
        SdkError::PayoutOutcomeUnknown { invoice_id, cause } => {
            object.set("invoiceId", invoice_id.as_str())?;
            let cause = error_object(env, cause)?;
            object.set("cause", cause)?;
        }
        _ => {}
    }
    Ok(object)
}

/// The napi error to throw or reject with for `error`: the JavaScript
/// object of [`error_object`], or (should building it fail) a plain error
/// with the same message.
fn to_napi_error(env: &Env, error: &SdkError) -> napi::Error {
    match error_object(env, error).and_then(|object| object.into_unknown(env)) {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, message(error)),
    }
}

fn config_error(field: &str, rule: &str) -> SdkError {
    SdkError::invalid_config(field, rule)
}

/// A positive, finite number of milliseconds.
fn millis(value: f64) -> Option<Duration> {
    (value.is_finite() && value > 0.0 && value <= 1e12)
        .then(|| Duration::from_secs_f64(value / 1000.0))
}

/// A per-call duration option (`timeoutMs`, `connectTimeoutMs`) as
/// JavaScript passed it: a number, NaN and the infinities included (which
/// `serde_json::Value` cannot hold), or any other value. `undefined` and
/// `null` arrive as `None` (through `Option`). Checked by [`millis`].
pub enum CallMillis {
    Number(f64),
    Other,
}

impl CallMillis {
    /// The duration, when this is a positive, finite number of
    /// milliseconds.
    fn duration(&self) -> Option<Duration> {
        match self {
            CallMillis::Number(ms) => millis(*ms),
            CallMillis::Other => None,
        }
    }
}

impl TypeName for CallMillis {
    fn type_name() -> &'static str {
        "number"
    }

    fn value_type() -> ValueType {
        ValueType::Number
    }
}

impl FromNapiValue for CallMillis {
    unsafe fn from_napi_value(env: sys::napi_env, napi_val: sys::napi_value) -> Result<Self> {
        let value = unsafe { Unknown::from_napi_value(env, napi_val)? };
        Ok(match value.get_type()? {
            ValueType::Number => {
                CallMillis::Number(unsafe { f64::from_napi_value(env, napi_val)? })
            }
            _ => CallMillis::Other,
        })
    }
}

fn option_string(
    options: &Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<String>, SdkError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(config_error(name, "must be a string")),
    }
}

fn option_millis(
    options: &Map<String, Value>,
    name: &str,
) -> std::result::Result<Option<Duration>, SdkError> {
    match options.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_f64()
            .and_then(millis)
            .map(Some)
            .ok_or_else(|| config_error(name, "must be a positive number of milliseconds")),
    }
}

/// The Rust configuration for `new Client(options)`.
fn config_from_options(options: Option<Value>) -> std::result::Result<Config, SdkError> {
    const KNOWN: [&str; 8] = [
        "merchantNo",
        "storeNo",
        "apiToken",
        "environment",
        "baseUrl",
        "timeoutMs",
        "connectTimeoutMs",
        "maxRetries",
    ];
    let options = match options {
        Some(Value::Object(map)) => map,
        _ => return Err(config_error("options", "must be an object")),
    };
    if let Some(unknown) = options.keys().find(|key| !KNOWN.contains(&key.as_str())) {
        return Err(config_error(
            unknown,
            &format!("is not an option (options are {})", KNOWN.join(", ")),
        ));
    }
    let required = |name: &str| option_string(&options, name).map(Option::unwrap_or_default);
    let mut config = Config::new(
        required("merchantNo")?,
        required("storeNo")?,
        required("apiToken")?,
    );
    if let Some(environment) = option_string(&options, "environment")? {
        config = config.environment(environment.parse::<Environment>()?);
    }
    if let Some(base_url) = option_string(&options, "baseUrl")? {
        config = config.with_base_url(base_url);
    }
    if let Some(timeout) = option_millis(&options, "timeoutMs")? {
        config = config.timeout(timeout);
    }
    if let Some(timeout) = option_millis(&options, "connectTimeoutMs")? {
        config = config.connect_timeout(timeout);
    }
    match options.get("maxRetries") {
        None | Some(Value::Null) => {}
        Some(value) => {
            let retries = value
                .as_u64()
                .filter(|n| *n <= MAX_RETRIES_LIMIT)
                .ok_or_else(|| {
                    config_error(
                        "maxRetries",
                        &format!("must be a whole number from 0 to {MAX_RETRIES_LIMIT}"),
                    )
                })?;
            config = config.retry_policy(RetryPolicy::default().max_retries(retries as u32));
        }
    }
    Ok(config)
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

/// The native client: one `pockyt_payouts::Client` (one connection pool),
/// shared by every concurrent call made through it.
#[napi]
pub struct NativeClient {
    inner: Client,
}

#[napi]
impl NativeClient {
    /// A client from `{ merchantNo, storeNo, apiToken, environment, baseUrl,
    /// timeoutMs, connectTimeoutMs, maxRetries }`. Throws a
    /// `PockytNativeError` with code `INVALID_CONFIG` naming the option.
    #[napi(constructor, ts_args_type = "options: Record<string, unknown>")]
    pub fn new(env: Env, options: Option<Value>) -> Result<Self> {
        config_from_options(options)
            .and_then(Client::new)
            .map(|inner| NativeClient { inner })
            .map_err(|error| to_napi_error(&env, &error))
    }

    /// A client configured from the `POCKYT_*` environment variables.
    #[napi(factory)]
    pub fn from_env(env: Env) -> Result<Self> {
        Client::from_env()
            .map(|inner| NativeClient { inner })
            .map_err(|error| to_napi_error(&env, &error))
    }

    /// The base URL requests go to.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.inner.base_url().to_owned()
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

    /// Calls `operation` (`"pay"`, `"registerPayee"`, ...) with its
    /// camelCase string parameters and resolves to the answer as a plain
    /// object. `timeoutMs` and `connectTimeoutMs` override the client's
    /// timeout and connect timeout for this call.
    #[napi(
        ts_args_type = "operation: string, params?: Record<string, unknown> | null, timeoutMs?: number | null, connectTimeoutMs?: number | null",
        ts_return_type = "Promise<Record<string, unknown>>"
    )]
    pub async fn call(
        &self,
        operation: String,
        params: Option<Value>,
        timeout_ms: Option<CallMillis>,
        connect_timeout_ms: Option<CallMillis>,
    ) -> Outcome<Value> {
        Outcome(
            self.call_inner(&operation, params, timeout_ms, connect_timeout_ms)
                .await,
        )
    }
}

impl NativeClient {
    async fn call_inner(
        &self,
        operation: &str,
        params: Option<Value>,
        timeout_ms: Option<CallMillis>,
        connect_timeout_ms: Option<CallMillis>,
    ) -> std::result::Result<Value, SdkError> {
        let operation: Operation = operation.parse()?;
        let client = self.client_for(timeout_ms, connect_timeout_ms)?;
        client
            .call_json(operation, params.unwrap_or(Value::Null))
            .await
    }

    /// The client to make one call with: this one, with the call's own
    /// timeout and connect timeout when given. A connect timeout other than
    /// the client's uses the connection pool the Rust client keeps for that
    /// value (built the first time it is asked for).
    fn client_for(
        &self,
        timeout_ms: Option<CallMillis>,
        connect_timeout_ms: Option<CallMillis>,
    ) -> std::result::Result<Client, SdkError> {
        let timeout = match timeout_ms {
            None => None,
            Some(ms) => Some(ms.duration().ok_or_else(|| {
                SdkError::invalid_request("timeoutMs", "must be a positive number of milliseconds")
            })?),
        };
        let connect_timeout = match connect_timeout_ms {
            None => None,
            Some(ms) => Some(ms.duration().ok_or_else(|| {
                config_error(
                    "connectTimeoutMs",
                    "must be a positive number of milliseconds",
                )
            })?),
        };
        let client = match connect_timeout {
            Some(t) => self.inner.with_connect_timeout(t)?,
            None => self.inner.clone(),
        };
        Ok(match timeout {
            Some(t) => client.with_timeout(t),
            None => client,
        })
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
