//! `pockyt_payouts._native`: the Python binding of the `pockyt-payouts`
//! Rust client.
//!
//! Every rule (validation, signing, error mapping, retries) lives in the
//! Rust crate; this module only carries calls across: Python parameters
//! (wire names, `str` values) become the JSON object of
//! [`Client::call_json`], its JSON answer becomes an instance of the result
//! class the caller names (built by `results` from the class's generated
//! tables; dicts and lists for the raw `request`), and its errors become
//! the exception classes of `pockyt_payouts.errors`, chosen by the error's
//! stable code. The Python package (`python/pockyt_payouts`) lays keyword
//! arguments out under their wire names (with this module's `snake_case`
//! and `camel_case`, the Rust crate's rule) and names each call's result
//! class; nothing else.

#![forbid(unsafe_code)]

mod batch;
mod bridge;
mod cli;
mod convert;
mod logging;
mod results;
mod runtime;
mod sandbox;
mod webhook;

use std::sync::mpsc;
use std::sync::Mutex;
use std::time::Duration;

use pockyt_payouts::settings::{self, Spelling};
use pockyt_payouts::{CallTarget, Client, Config, Error};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyString, PyType};
use serde_json::Value;

use convert::{json_to_py, params_to_json, to_py_err};

/// How long a blocking call waits between two checks for signals (Ctrl-C).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(50);

/// The native client behind `pockyt_payouts.Client` and `AsyncClient`.
///
/// Holds a `pockyt_payouts::Client` (one connection pool), rebuilt from its
/// configuration when the process has forked since it was built: pooled
/// connections belong to the parent's runtime.
#[pyclass(module = "pockyt_payouts._native", frozen)]
struct NativeClient {
    inner: Mutex<Inner>,
}

/// The client and the runtime generation it was built in.
struct Inner {
    generation: u64,
    /// Always `Some`, but while being dropped.
    client: Option<Client>,
}

impl Inner {
    fn new(client: Client) -> Self {
        Inner {
            generation: runtime::generation(),
            client: Some(client),
        }
    }

    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the client is only taken when dropped")
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.generation != runtime::generation() {
            // Built in the parent before a fork: its connections belong to
            // the parent's runtime, and dropping them here could deregister
            // the parent's sockets from the epoll instance both processes
            // share. Leak it instead.
            std::mem::forget(self.client.take());
        }
    }
}

/// Warns (`DeprecationWarning`, pointing at the code that made the client:
/// the caller of `Client(...)` or `Client.from_env()`) when the
/// configuration was given a deprecated name, as the Rust core decides and
/// words it (today: the environment `sandbox`, renamed `provider-sandbox`).
/// Raises when warnings are turned into errors.
fn warn_deprecation(py: Python<'_>, config: &Config) -> PyResult<()> {
    let Some(deprecation) = config.deprecation() else {
        return Ok(());
    };
    let message = std::ffi::CString::new(deprecation.to_string())
        .unwrap_or_else(|_| c"a deprecated setting was used".to_owned());
    let category = py.get_type::<pyo3::exceptions::PyDeprecationWarning>();
    // 1 is the package's constructor (a Python frame); 2 its caller.
    PyErr::warn(py, category.as_any(), &message, 2)
}

impl NativeClient {
    fn from_config(py: Python<'_>, config: Config) -> PyResult<Self> {
        let client = Client::new(config).map_err(|e| to_py_err(py, &e))?;
        warn_deprecation(py, client.config())?;
        Ok(NativeClient {
            inner: Mutex::new(Inner::new(client)),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The client to make one call with: rebuilt after a fork, with the
    /// call's own settings (checked by the Rust core's one rule,
    /// `pockyt_payouts::settings`) when given. A connect timeout other than
    /// the client's uses the connection pool the Rust client keeps for that
    /// value (built the first time it is asked for).
    fn client_for(
        &self,
        py: Python<'_>,
        options: &[(&str, Option<Bound<'_, PyAny>>)],
    ) -> PyResult<Client> {
        let mut given = serde_json::Map::new();
        for (name, value) in options {
            if let Some(value) = value {
                given.insert((*name).to_owned(), setting_value(value));
            }
        }
        let options = if given.is_empty() {
            None
        } else {
            Some(settings::call_options(Spelling::Python, &given).map_err(|e| to_py_err(py, &e))?)
        };
        let client = {
            let mut inner = self.lock();
            if inner.generation != runtime::generation() {
                let old = inner.client();
                let rebuilt = Client::new(old.config().clone()).map_err(|e| to_py_err(py, &e))?;
                // The stale `Inner` is dropped here, which leaks its client.
                *inner = Inner::new(rebuilt.with_timeout(old.timeout()));
            }
            inner.client().clone()
        };
        match options {
            Some(options) => client.with_options(&options).map_err(|e| to_py_err(py, &e)),
            None => Ok(client),
        }
    }

    fn prepare(
        &self,
        py: Python<'_>,
        operation: &str,
        params: &Bound<'_, PyDict>,
        options: [(&str, Option<Bound<'_, PyAny>>); 4],
    ) -> PyResult<(Client, CallTarget, Value)> {
        let op = operation
            .parse::<CallTarget>()
            .map_err(|e| to_py_err(py, &e))?;
        let json = params_to_json(params).map_err(|e| e.into_py_err(py))?;
        let client = self.client_for(py, &options)?;
        Ok((client, op, json))
    }
}

#[pymethods]
impl NativeClient {
    /// A client from its settings, by name (`merchant_no`, `api_token`,
    /// `timeout`, ...): checked, defaulted and refused by the Rust core's
    /// one rule (`pockyt_payouts::settings`). `None` values take the
    /// defaults.
    #[new]
    fn new(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let options = settings_map(options)?;
        let config =
            settings::client_config(Spelling::Python, &options).map_err(|e| to_py_err(py, &e))?;
        NativeClient::from_config(py, config)
    }

    /// A client configured from the `POCKYT_*` environment variables and
    /// the other settings given by name.
    #[staticmethod]
    fn from_env(py: Python<'_>, options: &Bound<'_, PyDict>) -> PyResult<Self> {
        let options = settings_map(options)?;
        let config = settings::client_config_from_env(Spelling::Python, &options)
            .map_err(|e| to_py_err(py, &e))?;
        NativeClient::from_config(py, config)
    }

    /// The base URL requests go to.
    #[getter]
    fn base_url(&self) -> String {
        self.lock().client().redacted_base_url()
    }

    /// The merchant number.
    #[getter]
    fn merchant_no(&self) -> String {
        self.lock().client().config().merchant_no().to_owned()
    }

    /// The store number.
    #[getter]
    fn store_no(&self) -> String {
        self.lock().client().config().store_no().to_owned()
    }

    /// The total time allowed for one attempt of a call, in seconds.
    #[getter]
    fn timeout(&self) -> f64 {
        self.lock().client().timeout().as_secs_f64()
    }

    /// The time allowed to establish a connection, in seconds.
    #[getter]
    fn connect_timeout(&self) -> f64 {
        self.lock().client().connect_timeout().as_secs_f64()
    }

    /// Calls `operation` (its snake_case name, or a `/v3/...` path for the
    /// signed raw request) with `params` (wire names to
    /// `str` or `None`) and waits for the answer with the GIL released.
    /// `timeout`, `connect_timeout` and `deadline` (seconds) override the
    /// client's for this call; `idempotency_key` is the call's
    /// `Pockyt-Request-ID` (state-changing calls). Answers an instance of
    /// `result` (a result class of `pockyt_payouts._models`, see
    /// `results`), or the answer's JSON as a dict when `result` is `None`.
    /// Signals are checked while waiting: Ctrl-C raises
    /// `KeyboardInterrupt` and abandons the call.
    #[pyo3(signature = (operation, params, timeout=None, connect_timeout=None, deadline=None, idempotency_key=None, result=None))]
    #[allow(clippy::too_many_arguments)]
    fn call<'py>(
        &self,
        py: Python<'py>,
        operation: &str,
        params: &Bound<'py, PyDict>,
        timeout: Option<Bound<'py, PyAny>>,
        connect_timeout: Option<Bound<'py, PyAny>>,
        deadline: Option<Bound<'py, PyAny>>,
        idempotency_key: Option<Bound<'py, PyAny>>,
        result: Option<Bound<'py, PyType>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = [
            ("timeout", timeout),
            ("connect_timeout", connect_timeout),
            ("deadline", deadline),
            ("idempotency_key", idempotency_key),
        ];
        let (client, op, json) = self.prepare(py, operation, params, options)?;
        let handle = runtime::handle(py)?;
        let (tx, rx) = mpsc::sync_channel(1);
        let task = handle.spawn(async move {
            let _ = tx.send(op.call(&client, json).await);
        });
        let mut rx = rx;
        loop {
            // The receiver is moved into the GIL-free closure and back out
            // (it is `Send`, not `Sync`).
            let (received, returned) =
                py.detach(move || (rx.recv_timeout(SIGNAL_CHECK_INTERVAL), rx));
            rx = returned;
            match received {
                Ok(Ok(value)) => return answer(py, &value, result.as_ref()),
                Ok(Err(error)) => return Err(to_py_err(py, &error)),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Err(interrupted) = py.check_signals() {
                        task.abort();
                        return Err(interrupted);
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(pyo3::exceptions::PyRuntimeError::new_err(
                        "the call was dropped before it answered (the runtime is shutting down)",
                    ));
                }
            }
        }
    }

    /// Like `call`, as an asyncio future of the running event loop: the
    /// call runs on the tokio runtime and the loop completes the future
    /// (see `bridge`); it never blocks the loop. Cancelling the future
    /// abandons the call. Raises `RuntimeError` when no loop is running.
    #[pyo3(signature = (operation, params, timeout=None, connect_timeout=None, deadline=None, idempotency_key=None, result=None))]
    #[allow(clippy::too_many_arguments)]
    fn call_async<'py>(
        &self,
        py: Python<'py>,
        operation: &str,
        params: &Bound<'py, PyDict>,
        timeout: Option<Bound<'py, PyAny>>,
        connect_timeout: Option<Bound<'py, PyAny>>,
        deadline: Option<Bound<'py, PyAny>>,
        idempotency_key: Option<Bound<'py, PyAny>>,
        result: Option<Bound<'py, PyType>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = [
            ("timeout", timeout),
            ("connect_timeout", connect_timeout),
            ("deadline", deadline),
            ("idempotency_key", idempotency_key),
        ];
        let (client, op, json) = self.prepare(py, operation, params, options)?;
        let handle = runtime::handle(py)?;
        let result = result.map(Bound::unbind);
        bridge::spawn(
            py,
            &handle,
            result,
            async move { op.call(&client, json).await },
        )
    }

    fn __repr__(&self) -> String {
        let inner = self.lock();
        let config = inner.client().config();
        format!(
            "NativeClient(base_url={:?}, merchant_no={:?}, store_no={:?})",
            inner.client().redacted_base_url(),
            config.merchant_no(),
            config.store_no()
        )
    }
}

/// A call's answer as Python objects: an instance of `result` when given,
/// else the JSON as dicts and lists.
pub(crate) fn answer<'py>(
    py: Python<'py>,
    value: &Value,
    result: Option<&Bound<'py, PyType>>,
) -> PyResult<Bound<'py, PyAny>> {
    match result {
        Some(class) => results::build(class, value),
        None => json_to_py(py, value),
    }
}

/// A settings dict (names to Python values) as JSON, for the Rust core's
/// one rule to check.
pub(crate) fn settings_map(
    options: &Bound<'_, PyDict>,
) -> PyResult<serde_json::Map<String, Value>> {
    let mut map = serde_json::Map::new();
    for (name, value) in options.iter() {
        let name: String = name
            .extract()
            .map_err(|_| PyTypeError::new_err("setting names must be str"))?;
        map.insert(name, setting_value(&value));
    }
    Ok(map)
}

/// A setting's value as JSON: `None` as null, `str` as a string, `int` and
/// `float` as numbers (a non-finite float as text, which no setting
/// accepts), `dict` and `list` as objects and arrays, anything else as a
/// value of the wrong type (`bool` as JSON `true`/`false`, which no number
/// setting accepts).
fn setting_value(value: &Bound<'_, PyAny>) -> Value {
    if value.is_none() {
        return Value::Null;
    }
    if value.is_instance_of::<pyo3::types::PyBool>() {
        return Value::Bool(value.is_truthy().unwrap_or(false));
    }
    if let Ok(text) = value.cast::<PyString>() {
        return text
            .to_cow()
            .map(|t| Value::String(t.into_owned()))
            .unwrap_or(Value::Array(Vec::new()));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (name, item) in dict.iter() {
            let Ok(name) = name.extract::<String>() else {
                return Value::Array(Vec::new());
            };
            map.insert(name, setting_value(&item));
        }
        return Value::Object(map);
    }
    if let Ok(list) = value.cast::<pyo3::types::PyList>() {
        return Value::Array(list.iter().map(|item| setting_value(&item)).collect());
    }
    if value.is_instance_of::<pyo3::types::PyInt>() {
        if let Ok(n) = value.extract::<i64>() {
            return Value::from(n);
        }
    }
    if let Ok(n) = value.extract::<f64>() {
        return serde_json::Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(n.to_string()));
    }
    Value::Array(Vec::new())
}

/// (name, value) pairs of a mapping whose names and values are all `str`.
fn str_pairs(params: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<(String, String)>> {
    let items = params
        .call_method0("items")
        .map_err(|_| PyTypeError::new_err(format!("{what} must be a mapping of str to str")))?;
    let mut pairs = Vec::new();
    for item in items.try_iter()? {
        let (name, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
        let name = name
            .cast::<PyString>()
            .map_err(|_| PyTypeError::new_err(format!("{what} must have str names")))?
            .to_cow()?
            .into_owned();
        let value = value
            .cast::<PyString>()
            .map_err(|_| {
                PyTypeError::new_err(format!("the value of {name:?} in {what} must be a str"))
            })?
            .to_cow()?
            .into_owned();
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Computes `verifySign` over `params` (a `verifySign` among them is left
/// out) with the API token: the lowercase hex MD5 of the fields sorted by
/// name, joined `name=value` with `&`, then `&` and the lowercase hex MD5 of
/// the token.
#[pyfunction]
fn sign(params: &Bound<'_, PyAny>, api_token: &str) -> PyResult<String> {
    let pairs = str_pairs(params, "params")?;
    Ok(pockyt_payouts::sign(pairs, api_token))
}

/// Checks a received IPN with the Rust crate's one implementation
/// (`pockyt_payouts::verify_ipn_body_checked` / `verify_ipn_checked`).
/// `params` is either the decoded fields (a mapping of str to str) or the
/// raw URL-encoded body (`bytes` or `str`), verified exactly as received.
/// `False` when the IPN is refused: `verifySign` missing, repeated or
/// wrong, or fields the signing rule cannot read unambiguously (a name with
/// `=` or `&`, a value with `&`, invalid UTF-8, bad percent-encoding).
/// Raises `ConfigurationError` (`INVALID_CONFIG`, field `api_token`) when
/// `api_token` is empty or only whitespace: nothing can be verified with it.
#[pyfunction]
fn verify_ipn(params: &Bound<'_, PyAny>, api_token: &str) -> PyResult<bool> {
    let checked = if let Ok(body) = params.cast::<PyBytes>() {
        pockyt_payouts::verify_ipn_body_checked(body.as_bytes(), api_token)
    } else if let Ok(body) = params.cast::<PyByteArray>() {
        pockyt_payouts::verify_ipn_body_checked(&body.to_vec(), api_token)
    } else if let Ok(body) = params.cast::<PyString>() {
        pockyt_payouts::verify_ipn_body_checked(body.to_cow()?.as_bytes(), api_token)
    } else {
        let pairs = str_pairs(params, "params")?;
        pockyt_payouts::verify_ipn_checked(pairs, api_token)
    };
    match checked {
        Ok(()) => Ok(true),
        Err(refused) if refused.is_configuration_error() => Err(to_py_err(
            params.py(),
            &Error::invalid_config("api_token", pockyt_payouts::IpnError::EMPTY_TOKEN_RULE),
        )),
        Err(_) => Ok(false),
    }
}

/// `camelCase` to `snake_case`: the SDK's one rule
/// (`pockyt_payouts::naming::snake_case`; ASCII letters only).
#[pyfunction]
fn snake_case(name: &str) -> String {
    pockyt_payouts::naming::snake_case(name)
}

/// `snake_case` to `camelCase` (the wire spelling): the SDK's one rule
/// (`pockyt_payouts::naming::camel_case`; ASCII letters only).
#[pyfunction]
fn camel_case(name: &str) -> String {
    pockyt_payouts::naming::camel_case(name)
}

/// The native layer of the `pockyt_payouts` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install();
    m.add_class::<NativeClient>()?;
    m.add_class::<sandbox::NativeSandbox>()?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(verify_ipn, m)?)?;
    m.add_function(wrap_pyfunction!(snake_case, m)?)?;
    m.add_function(wrap_pyfunction!(camel_case, m)?)?;
    webhook::register(m)?;
    batch::register(m)?;
    cli::register(m)?;
    m.add_function(wrap_pyfunction!(runtime::_shutdown_runtime, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_reset_after_fork, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::_runtime_started, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
