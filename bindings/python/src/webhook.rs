//! Webhooks (IPN) for `pockyt_payouts.webhooks`: the Rust crate's
//! verification and typing (`pockyt_payouts::webhook`), its deduplication
//! stores and its answers, carried across.
//!
//! Events cross as the result class the Python layer passes (the generated
//! `PayoutEvent`, built by `results`); refusals as `pockyt_payouts.webhooks.WebhookError`
//! with the refusal's stable code; claims as their `Claim::as_str` spelling;
//! answers as `(status, body)` from `Outcome::reply_for`. Python only
//! sequences the calls (claim, run the handler, complete or release).

use std::path::PathBuf;

use pockyt_payouts::webhook::{
    self, Claim, MemoryEventStore as Memory, PayoutEvent, SqliteEventStore as Sqlite, StoreError,
};
use pockyt_payouts::IpnError;
use pyo3::exceptions::{PyOSError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString, PyType};

use crate::results;

/// The Python module whose `_from_native` builds the refusal exception.
const ERRORS_MODULE: &str = "pockyt_payouts._webhook_error";

/// A refusal as `pockyt_payouts.webhooks.WebhookError`: the code, its
/// reason (`IpnError::reason`: `signature_mismatch`) and the Rust message
/// (which never shows the IPN's values or the token).
fn refusal(py: Python<'_>, error: &IpnError) -> PyErr {
    let code = error.code();
    let reason = error.reason();
    let built = py.import(ERRORS_MODULE).and_then(|module| {
        module
            .getattr("_from_native")?
            .call1((error.to_string(), code, reason))
    });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(failed) => failed,
    }
}

/// A store failure, raised as `OSError` with the store's stable code
/// (`IPN_STORE_ERROR`) at the front of its message.
fn store_failed(error: &StoreError) -> PyErr {
    PyOSError::new_err(format!("{}: {error}", error.code()))
}

/// The event as an instance of `result` (`PayoutEvent`).
fn event_result<'py>(
    result: &Bound<'py, PyType>,
    event: &PayoutEvent,
) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(event)
        .map_err(|e| PyValueError::new_err(format!("the event could not be read: {e}")))?;
    results::build(result, &value)
}

/// Verifies a raw IPN body (`bytes`, `bytearray` or `str`, exactly as
/// received) with the API token and answers the event as an instance of
/// `result` (`PayoutEvent`). Raises `WebhookError` when refused.
#[pyfunction]
pub fn construct_event<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    api_token: &str,
    result: &Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyAny>> {
    let bytes: Vec<u8> = if let Ok(b) = body.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if let Ok(b) = body.cast::<PyByteArray>() {
        b.to_vec()
    } else if let Ok(s) = body.cast::<PyString>() {
        s.to_cow()?.as_bytes().to_vec()
    } else {
        return Err(PyTypeError::new_err(
            "the IPN body must be bytes or str, exactly as received",
        ));
    };
    match webhook::construct_event(&bytes, api_token) {
        Ok(event) => event_result(result, &event),
        Err(error) => Err(refusal(py, &error)),
    }
}

/// Verifies an IPN a framework already decoded: `fields` is an iterable of
/// `(name, value)` pairs of `str`, a repeated field as repeated pairs.
/// Answers the event as an instance of `result`; raises `WebhookError` when
/// refused and `TypeError` for a name or value that is not a `str`.
#[pyfunction]
pub fn event_from_fields<'py>(
    py: Python<'py>,
    fields: &Bound<'py, PyAny>,
    api_token: &str,
    result: &Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut pairs = Vec::new();
    for item in fields.try_iter()? {
        let item = item?;
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item
            .extract()
            .map_err(|_| PyTypeError::new_err("each IPN field must be a (name, value) pair"))?;
        let name = name
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err("IPN field names must be str"))?
            .to_cow()?
            .into_owned();
        let value = value
            .cast::<PyString>()
            .map_err(|_| {
                PyTypeError::new_err(format!(
                    "the IPN field {name:?} must be a str (an uploaded file or a number is not an IPN field)"
                ))
            })?
            .to_cow()?
            .into_owned();
        pairs.push((name, value));
    }
    match webhook::event_from_fields(pairs, api_token) {
        Ok(event) => event_result(result, &event),
        Err(error) => Err(refusal(py, &error)),
    }
}

/// Raises `WebhookError` (`IPN_EMPTY_TOKEN`) when `api_token` is empty or
/// only whitespace: a receiver refuses it when built, not at the first IPN.
#[pyfunction]
pub fn check_api_token(py: Python<'_>, api_token: &str) -> PyResult<()> {
    webhook::Webhook::new(api_token)
        .map(drop)
        .map_err(|error| refusal(py, &error))
}

/// The key an event is deduplicated by (`transactionNo:status`), from the
/// event's `transactionNo` and `status` wire values.
#[pyfunction]
pub fn dedup_key(transaction_no: &str, status: &str) -> PyResult<String> {
    let event: PayoutEvent = serde_json::from_value(serde_json::json!({
        "transactionNo": transaction_no,
        "status": status,
    }))
    .map_err(|e| PyValueError::new_err(format!("not an event: {e}")))?;
    Ok(webhook::dedup_key(&event))
}

/// The answer `(status, body)` for the outcome named `name` (`handled`,
/// `duplicate`, `in_progress`, `refused`, `handler_failed`,
/// `store_failed`); `refused` needs the refusal's `code`.
#[pyfunction]
#[pyo3(signature = (name, code=None))]
pub fn reply_for(name: &str, code: Option<&str>) -> PyResult<(u16, String)> {
    webhook::Outcome::reply_for(name, code)
        .map(|reply| (reply.status, reply.body))
        .ok_or_else(|| PyValueError::new_err(format!("no IPN outcome {name:?} (code {code:?})")))
}

/// The outcome a store's claim answer decides: `None` for `"new"` (run the
/// handler), `"duplicate"` for `"done"`, `"in_progress"` for
/// `"in_progress"`, `"store_failed"` for anything else.
#[pyfunction]
pub fn outcome_for_claim(claim: &Bound<'_, PyAny>) -> Option<&'static str> {
    // A non-str answer is no spelling of a claim: a failed store.
    let answer: Option<String> = claim.extract().ok();
    Claim::decided_by_answer(answer.as_deref().unwrap_or(""))
}

/// Deduplication in this process's memory (`MemoryEventStore`).
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct NativeMemoryEventStore {
    inner: Memory,
}

#[pymethods]
impl NativeMemoryEventStore {
    /// An empty store with the Rust defaults (lease, retention, capacity).
    #[new]
    fn new() -> Self {
        NativeMemoryEventStore {
            inner: Memory::new(),
        }
    }

    /// Claims `key`: `new`, `done` or `in_progress`.
    fn claim(&self, key: &str) -> &'static str {
        self.inner.claim_now(key).as_str()
    }

    /// Marks a claimed `key` done.
    fn complete(&self, key: &str) {
        self.inner.complete_now(key);
    }

    /// Forgets an uncompleted claim of `key`.
    fn release(&self, key: &str) {
        self.inner.release_now(key);
    }

    /// How many keys the store holds.
    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

/// Deduplication in a SQLite file (`SqliteEventStore`), shared by every
/// store object and process that opens the same file. Every call releases
/// the GIL while SQLite works (it may wait for another writer).
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct NativeSqliteEventStore {
    inner: Sqlite,
}

#[pymethods]
impl NativeSqliteEventStore {
    /// Opens (creating it if needed) the store at `path`.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py
            .detach(|| Sqlite::open(&path))
            .map_err(|e| store_failed(&e))?;
        Ok(NativeSqliteEventStore { inner })
    }

    /// The file the store lives in.
    #[getter]
    fn path(&self) -> String {
        self.inner.path().to_string_lossy().into_owned()
    }

    /// Claims `key`: `new`, `done` or `in_progress`.
    fn claim(&self, py: Python<'_>, key: &str) -> PyResult<&'static str> {
        py.detach(|| self.inner.claim_now(key))
            .map(Claim::as_str)
            .map_err(|e| store_failed(&e))
    }

    /// Marks a claimed `key` done.
    fn complete(&self, py: Python<'_>, key: &str) -> PyResult<()> {
        py.detach(|| self.inner.complete_now(key))
            .map_err(|e| store_failed(&e))
    }

    /// Forgets an uncompleted claim of `key`.
    fn release(&self, py: Python<'_>, key: &str) -> PyResult<()> {
        py.detach(|| self.inner.release_now(key))
            .map_err(|e| store_failed(&e))
    }
}

/// Adds the webhook functions and classes to the native module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(construct_event, m)?)?;
    m.add_function(wrap_pyfunction!(event_from_fields, m)?)?;
    m.add_function(wrap_pyfunction!(check_api_token, m)?)?;
    m.add_function(wrap_pyfunction!(dedup_key, m)?)?;
    m.add_function(wrap_pyfunction!(reply_for, m)?)?;
    m.add_function(wrap_pyfunction!(outcome_for_claim, m)?)?;
    m.add_class::<NativeMemoryEventStore>()?;
    m.add_class::<NativeSqliteEventStore>()?;
    m.add("IPN_ERROR_CODES", IpnError::CODES.to_vec())?;
    m.add("IPN_MAX_BODY_BYTES", webhook::MAX_BODY_BYTES)?;
    m.add("IPN_SUCCESS_BODY", webhook::SUCCESS_BODY)?;
    m.add("IPN_CONTENT_TYPE", webhook::CONTENT_TYPE)?;
    Ok(())
}
