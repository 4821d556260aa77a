//! Python objects <-> JSON, and SDK errors -> the Python exceptions defined
//! in `pockyt_payouts.errors`.

use std::borrow::Cow;

use pockyt_payouts::{Error, ErrorDetails};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use serde_json::{Map, Value};

/// The Python module whose exception classes the native layer raises.
const ERRORS_MODULE: &str = "pockyt_payouts.errors";

/// A JSON value as Python objects: objects become dicts, arrays lists.
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    json_to_py_named(py, value, &as_is)
}

/// A name as it is.
fn as_is(name: &str) -> Cow<'_, str> {
    Cow::Borrowed(name)
}

/// Like [`json_to_py`], every object's names passed through `name` (the
/// `extra` of a result: `pockyt_payouts::naming::snake_case`).
pub fn json_to_py_named<'py, F>(
    py: Python<'py>,
    value: &Value,
    name: &F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: for<'a> Fn(&'a str) -> Cow<'a, str>,
{
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py_named(py, item, name)?)?;
            }
            list.into_any()
        }
        Value::Object(fields) => {
            let dict = PyDict::new(py);
            for (key, item) in fields {
                dict.set_item(name(key), json_to_py_named(py, item, name)?)?;
            }
            dict.into_any()
        }
    })
}

/// A call's parameters (wire names -> `str` or `None`) as a JSON object.
/// `None` is kept as `null` (absent). Any other value is refused with the
/// SDK's own `INVALID_REQUEST` error naming the field, as the Rust client
/// refuses non-string values.
pub fn params_to_json(params: &Bound<'_, PyDict>) -> Result<Value, ParamsError> {
    let mut fields = Map::new();
    for (name, value) in params.iter() {
        let name: String = name.extract().map_err(|_| {
            ParamsError::Python(PyTypeError::new_err("parameter names must be str"))
        })?;
        let value = if value.is_none() {
            Value::Null
        } else if let Ok(text) = value.cast::<PyString>() {
            Value::String(text.to_cow().map_err(ParamsError::Python)?.into_owned())
        } else {
            return Err(ParamsError::Sdk(Error::invalid_request(
                &name,
                "must be a string",
            )));
        };
        fields.insert(name, value);
    }
    Ok(Value::Object(fields))
}

/// Why parameters could not be turned into JSON.
pub enum ParamsError {
    /// Not a str (an SDK `INVALID_REQUEST`, raised as `InvalidRequestError`).
    Sdk(Error),
    /// A Python-level failure (a name that is not a str, bad UTF-8).
    Python(PyErr),
}

impl ParamsError {
    pub fn into_py_err(self, py: Python<'_>) -> PyErr {
        match self {
            ParamsError::Sdk(error) => to_py_err(py, &error),
            ParamsError::Python(error) => error,
        }
    }
}

/// The exception an SDK error is raised as.
pub fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    match exception(py, error) {
        Ok(exc) => PyErr::from_value(exc),
        Err(failed) => failed,
    }
}

/// Builds the exception instance: `pockyt_payouts.errors._from_native`
/// picks the class for the error's code and sets every attribute, from the
/// Rust core's one description of the error ([`Error::details`]); only the
/// names are Python's (`field` in snake_case, `timeout` in seconds).
fn exception<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    let details = error.details();
    let module = py.import(ERRORS_MODULE)?;
    module
        .getattr("_from_native")?
        .call1((details.message.as_str(), details_dict(py, &details)?))
}

/// The details as the dict `_from_native` reads.
fn details_dict<'py>(py: Python<'py>, details: &ErrorDetails) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("code", details.code.as_str())?;
    dict.set_item("message", details.message.as_str())?;
    dict.set_item("ret_code", details.ret_code.as_deref())?;
    dict.set_item("ret_msg", details.ret_msg.as_deref())?;
    dict.set_item("operation", details.operation.map(|op| op.name()))?;
    let field = details.field.as_deref().map(|f| {
        if details.code == "INVALID_REQUEST" {
            pockyt_payouts::naming::snake_case(f)
        } else {
            f.to_owned()
        }
    });
    dict.set_item("field", field)?;
    dict.set_item("may_have_been_received", details.may_have_been_received)?;
    dict.set_item("status", details.status)?;
    dict.set_item("timeout", details.timeout.map(|t| t.as_secs_f64()))?;
    dict.set_item("invoice_id", details.invoice_id.as_deref())?;
    dict.set_item("body", details.body.as_deref())?;
    if let Some(cause) = &details.cause {
        dict.set_item("cause", details_dict(py, cause)?)?;
    }
    Ok(dict)
}
