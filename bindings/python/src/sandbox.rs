//! The in-process `pockyt-sandbox` server behind
//! `pockyt_payouts.testing.Sandbox`.

use std::sync::Mutex;

use pockyt_payouts::naming::Spelling;
use pockyt_payouts::Error;
use pockyt_sandbox::{start_blocking, BlockingSandbox, IpnDelivery, PayoutRecord};
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use serde_json::{json, Map, Value};

use crate::convert::{json_to_py, to_py_err};
use crate::results;

/// A payout as `pay` and `inquire_payout` answer it (wire names, from the
/// record's own serialization), so that it becomes the same `Payout` type.
fn payout_json(record: &PayoutRecord) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// One IPN try, snake_case keys; `fields` keeps the wire names and order
/// (they are what `verify_ipn` checks).
fn ipn_json(delivery: &IpnDelivery) -> Value {
    let fields: Map<String, Value> = delivery
        .fields
        .iter()
        .map(|(name, value)| (name.clone(), Value::String(value.clone())))
        .collect();
    json!({
        "url": delivery.url,
        "fields": fields,
        "attempt": delivery.attempt,
        "http_status": delivery.http_status,
        "error": delivery.error,
        "answer": delivery.answer,
        "resend_reason": delivery.resend_reason,
        "answered_success": delivery.answered_success,
    })
}

/// A running sandbox server on 127.0.0.1 (port chosen by the system).
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct NativeSandbox {
    server: Mutex<Option<BlockingSandbox>>,
    /// The process that started the server. A forked child does not own
    /// it: the server's threads are the parent's.
    owner_pid: u32,
    base_url: String,
    merchant_no: String,
    store_no: String,
    api_token: String,
}

impl NativeSandbox {
    fn with_server<T>(&self, f: impl FnOnce(&BlockingSandbox) -> T) -> PyResult<T> {
        let server = self
            .server
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match server.as_ref() {
            Some(server) => Ok(f(server)),
            None => Err(PyRuntimeError::new_err("the sandbox has been stopped")),
        }
    }
}

#[pymethods]
impl NativeSandbox {
    /// Starts a sandbox from its options by name (`port`, `api_token`,
    /// `settle_delay` in seconds, ...), checked by the sandbox crate's one
    /// rule (`pockyt_sandbox::options`); `None` values take the defaults.
    /// A refused option raises `ConfigurationError` naming it.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let options = crate::settings_map(options)?;
        let config = pockyt_sandbox::options::sandbox_config(Spelling::Python, &options)
            .map_err(|v| to_py_err(py, &Error::invalid_config(&v.field, &v.rule)))?;
        let merchant_no = config.merchant_no.clone();
        let store_no = config.store_no.clone();
        let api_token = config.api_token.clone();
        let server = py
            .detach(move || start_blocking(config))
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::InvalidInput => {
                    to_py_err(py, &Error::invalid_config("balances", &e.to_string()))
                }
                _ => PyOSError::new_err(format!("could not start the sandbox: {e}")),
            })?;
        Ok(NativeSandbox {
            base_url: server.base_url(),
            server: Mutex::new(Some(server)),
            owner_pid: std::process::id(),
            merchant_no,
            store_no,
            api_token,
        })
    }

    /// The sandbox's base URL, `http://127.0.0.1:<port>`.
    #[getter]
    fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The merchant number the sandbox accepts.
    #[getter]
    fn merchant_no(&self) -> String {
        self.merchant_no.clone()
    }

    /// The store number the sandbox accepts.
    #[getter]
    fn store_no(&self) -> String {
        self.store_no.clone()
    }

    /// The API token the sandbox signs and verifies with (a test value).
    #[getter]
    fn api_token(&self) -> String {
        self.api_token.clone()
    }

    /// Whether the server is running.
    #[getter]
    fn running(&self) -> bool {
        self.server
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_some()
    }

    /// Every payout the sandbox holds, each an instance of `result` (the
    /// `Payout` that `pay` answers).
    fn payouts<'py>(
        &self,
        py: Python<'py>,
        result: &Bound<'py, PyType>,
    ) -> PyResult<Bound<'py, PyList>> {
        let payouts =
            self.with_server(|s| s.payouts().iter().map(payout_json).collect::<Vec<_>>())?;
        let list = PyList::empty(py);
        for payout in &payouts {
            list.append(results::build(result, payout)?)?;
        }
        Ok(list)
    }

    /// The merchant's balance in `currency`, or `None`.
    fn balance(&self, currency: &str) -> PyResult<Option<String>> {
        self.with_server(|s| s.balance(currency))
    }

    /// Every IPN delivery attempt the sandbox made, as dicts.
    fn ipn_log<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value =
            self.with_server(|s| Value::Array(s.ipn_log().iter().map(ipn_json).collect()))?;
        json_to_py(py, &value)
    }

    /// Sends the IPN of the payout's current status again, as the API
    /// resends one (a replay); `False` when no payout has this invoiceId or
    /// it has no `ipnUrl`. Only queues the try: it returns at once.
    fn resend_ipn(&self, invoice_id: &str) -> PyResult<bool> {
        self.with_server(|s| s.resend_ipn(invoice_id))
    }

    /// Everything the sandbox holds, as `GET /_sandbox/state` answers it.
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value = self.with_server(BlockingSandbox::state_json)?;
        json_to_py(py, &value)
    }

    /// Forgets every payee, account, payout, IPN try and fault rule, and
    /// puts the balances back to the configured ones.
    fn reset(&self) -> PyResult<()> {
        self.with_server(BlockingSandbox::reset)
    }

    /// Stops the server (idempotent), with the GIL released. In a forked
    /// child it only lets go of the parent's server.
    fn shutdown(&self, py: Python<'_>) {
        let server = self
            .server
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(server) = server {
            if std::process::id() == self.owner_pid {
                py.detach(move || server.shutdown());
            } else {
                forget_parents(server);
            }
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeSandbox(base_url={:?}, running={})",
            self.base_url,
            self.running()
        )
    }
}

/// Lets go of a server started by the parent process without stopping it:
/// stopping would wait on the parent's runtime threads (absent here) and
/// close sockets registered in the epoll instance both processes share.
fn forget_parents(server: BlockingSandbox) {
    std::mem::forget(server);
}

impl Drop for NativeSandbox {
    fn drop(&mut self) {
        let server = self
            .server
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(server) = server {
            if std::process::id() == self.owner_pid {
                drop(server);
            } else {
                forget_parents(server);
            }
        }
    }
}
