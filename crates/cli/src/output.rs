//! What the commands print: JSON or text on stdout, errors on stderr (and
//! as JSON on stdout with `--json`), each failure with a stable code.
//!
//! Nothing here prints configuration: the SDK's messages are already
//! scrubbed of the token and its MD5, and the CLI adds no secret of its own.

use std::io::Write;

use pockyt_payouts::batch::BatchError;
use pockyt_payouts::{Error, IpnError};
use serde_json::{json, Map, Value};

use crate::exit_code;

/// How the command prints.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    /// One JSON document on stdout instead of text.
    pub json: bool,
    /// No progress on stderr.
    pub quiet: bool,
}

/// Writes `text` and a newline to stdout; a closed pipe (`| head`) is not
/// an error worth a panic.
pub(crate) fn say(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    let _ = stdout.flush();
}

/// Writes `text` and a newline to stderr.
pub(crate) fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

impl Output {
    /// Prints `value` as one line of JSON on stdout.
    pub fn json_line(&self, value: &impl serde::Serialize) {
        match serde_json::to_string(value) {
            Ok(text) => say(&text),
            Err(error) => note(&format!("error: cannot write JSON: {error}")),
        }
    }

    /// Prints a failure (stderr; also stdout as JSON with `--json`) and
    /// answers its exit code.
    pub fn fail(&self, failure: &Failure) -> i32 {
        note(&format!("error: {}: {}", failure.code, failure.message));
        if self.json {
            let mut error = Map::new();
            error.insert("code".into(), Value::String(failure.code.clone()));
            error.insert("message".into(), Value::String(failure.message.clone()));
            error.extend(failure.details.as_ref().clone());
            self.json_line(&json!({ "error": error }));
        }
        failure.exit
    }
}

/// Why a command stopped: a stable code, a message, details for `--json`,
/// and the exit code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: String,
    pub message: String,
    /// Boxed: a `Result<_, Failure>` stays small whatever features `serde_json` has.
    pub details: Box<Map<String, Value>>,
    pub exit: i32,
}

impl Failure {
    /// A failure with exit code 3.
    pub fn new(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.to_owned(),
            message: message.into(),
            details: Box::default(),
            exit: exit_code::ERROR,
        }
    }

    /// A bad option value found after parsing (exit code 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            exit: exit_code::USAGE,
            ..Failure::new("USAGE_ERROR", message)
        }
    }

    /// A file that cannot be read or written.
    pub fn io(what: &str, error: &std::io::Error) -> Failure {
        Failure::new("IO_ERROR", format!("{what}: {error}"))
    }

    /// Ctrl-C.
    pub fn interrupted() -> Failure {
        Failure {
            exit: exit_code::INTERRUPTED,
            ..Failure::new(
                "INTERRUPTED",
                "interrupted; a batch run resumes where it stopped when run again (never paying a row twice)",
            )
        }
    }

    /// This failure with one more detail for `--json`.
    pub fn with(mut self, name: &str, value: impl serde::Serialize) -> Failure {
        if let Ok(value) = serde_json::to_value(value) {
            if !value.is_null() {
                self.details.insert(name.to_owned(), value);
            }
        }
        self
    }

    /// This failure with another message.
    pub fn context(mut self, more: &str) -> Failure {
        self.message = format!("{}; {more}", self.message);
        self
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure::client(&error)
    }
}

impl Failure {
    /// A client error, with its stable code and details.
    fn client(error: &Error) -> Failure {
        let details = error.details();
        Failure::new(&details.code, details.message)
            .with("field", details.field)
            .with("retCode", details.ret_code)
            .with("retMsg", details.ret_msg)
            .with("invoiceId", details.invoice_id)
            .with("mayHaveBeenReceived", details.may_have_been_received)
    }
}

impl From<BatchError> for Failure {
    fn from(error: BatchError) -> Failure {
        if let BatchError::Client(inner) = &error {
            return Failure {
                message: error.message(),
                ..Failure::client(inner)
            };
        }
        let mut failure = Failure::new(&error.code(), error.message());
        if let serde_json::Value::Object(details) = error.details() {
            for (name, value) in details {
                failure = failure.with(&name, value);
            }
        }
        failure
    }
}

/// An IPN refusal: exit 1 (the IPN is not genuine), or 3 for a missing
/// token (a configuration error, not a forged IPN).
pub(crate) fn ipn_failure(error: &IpnError) -> Failure {
    let mut failure = Failure::new(error.code(), error.to_string());
    if !error.is_configuration_error() {
        failure.exit = exit_code::PROBLEMS;
    }
    failure
}
