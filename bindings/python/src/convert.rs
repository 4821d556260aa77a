//! Python objects <-> JSON, and SDK errors -> the Python exceptions defined
//! in `pockyt_payouts.errors`.

use pockyt_payouts::{Error, ErrorCode, RetCode};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyList, PyString};
use serde_json::{Map, Value};

/// The Python module whose exception classes the native layer raises.
const ERRORS_MODULE: &str = "pockyt_payouts.errors";

/// A JSON value as Python objects: objects become dicts, arrays lists.
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
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
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(fields) => {
            let dict = PyDict::new(py);
            for (name, item) in fields {
                dict.set_item(name, json_to_py(py, item)?)?;
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

/// The name of the class in `pockyt_payouts.errors` for an API ret_code.
fn api_class(ret_code: &RetCode) -> &'static str {
    match ret_code {
        RetCode::SystemError => "ApiSystemError",
        RetCode::ParameterNull => "ParameterNullError",
        RetCode::NoRelatedInformation => "NoRelatedInformationError",
        RetCode::ParametersDoNotMatch => "ParametersMismatchError",
        RetCode::ParameterValueError => "ParameterValueError",
        RetCode::AccessDenied => "AccessDeniedError",
        RetCode::InsufficientBalance => "InsufficientBalanceError",
        RetCode::SupplierSystemError => "SupplierSystemError",
        _ => "ApiError",
    }
}

/// Builds the exception instance: the class chosen by the error's code,
/// its message (the SDK's `Display`, which never contains the token), and
/// the attributes of that class. A payout whose outcome is unknown gets the
/// last failure as `__cause__`.
fn exception<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    let module = py.import(ERRORS_MODULE)?;
    let kwargs = PyDict::new(py);
    let class = match error.code() {
        ErrorCode::Api(ret_code) => {
            let class = api_class(&ret_code);
            if class == "ApiError" {
                kwargs.set_item("code", ret_code.as_str())?;
            }
            let ret_msg = match error {
                Error::Api { ret_msg, .. } => ret_msg.as_str(),
                _ => "",
            };
            kwargs.set_item("ret_msg", ret_msg)?;
            class
        }
        ErrorCode::InvalidRequest => {
            kwargs.set_item(
                "field",
                error.field().map(pockyt_payouts::naming::snake_case),
            )?;
            "InvalidRequestError"
        }
        ErrorCode::InvalidConfig => {
            kwargs.set_item("field", error.field())?;
            "ConfigurationError"
        }
        ErrorCode::Network => "NetworkError",
        ErrorCode::Timeout => "PockytTimeoutError",
        ErrorCode::Http => {
            kwargs.set_item("status", error.http_status())?;
            "HttpError"
        }
        ErrorCode::Decode => {
            kwargs.set_item("status", error.http_status())?;
            "DecodeError"
        }
        ErrorCode::PayoutOutcomeUnknown => {
            kwargs.set_item("invoice_id", error.invoice_id())?;
            "PayoutOutcomeUnknownError"
        }
        other => {
            kwargs.set_item("code", other.as_str())?;
            "PockytError"
        }
    };
    let exc = module
        .getattr(class)?
        .call((error.to_string(),), Some(&kwargs))?;
    if let Some(cause) = std::error::Error::source(error).and_then(|c| c.downcast_ref::<Error>()) {
        exc.setattr("__cause__", exception(py, cause)?)?;
    }
    Ok(exc)
}
