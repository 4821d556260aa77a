//! The one error type of the SDK, with a stable [`ErrorCode`].

use std::fmt;

use pockyt_payouts_core::enums::RetCode;

use pockyt_payouts_core::operation::Operation;

use crate::endpoint::Endpoint;

use crate::naming::{camel_case, snake_case};

/// How much of an unexpected answer's body an error keeps.
pub const EXCERPT_LIMIT: usize = 512;

/// A stable code for every error: the API's `ret_code` for API errors, a
/// fixed string for the rest. Bindings expose [`ErrorCode::as_str`] as
/// their errors' `code`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The API answered this `ret_code` (never `000100`).
    Api(RetCode),
    /// `INVALID_REQUEST`: the input broke a rule; nothing was sent.
    InvalidRequest,
    /// `INVALID_CONFIG`: the client's configuration is incomplete or wrong.
    InvalidConfig,
    /// `NETWORK_ERROR`: the connection failed, or no connection slot
    /// (`max_connections`) came free in time.
    Network,
    /// `TIMEOUT`: no complete answer within the timeout.
    Timeout,
    /// `HTTP_ERROR`: the server answered with a non-2xx status.
    Http,
    /// `DECODE_ERROR`: the answer was not the JSON this API sends.
    Decode,
    /// `PAYOUT_OUTCOME_UNKNOWN`: a payout request may have reached the
    /// server and whether it created a payout could not be established.
    PayoutOutcomeUnknown,
}

impl ErrorCode {
    /// The code as a string: `"000040"`, `"INVALID_REQUEST"`, ...
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Api(code) => code.as_str(),
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::Network => "NETWORK_ERROR",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Http => "HTTP_ERROR",
            ErrorCode::Decode => "DECODE_ERROR",
            ErrorCode::PayoutOutcomeUnknown => "PAYOUT_OUTCOME_UNKNOWN",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a failed request may have reached the server. Decides what may
/// be retried (see [`RetryPolicy`](crate::RetryPolicy)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The connection failed before the request was written, or no
    /// connection slot came free: nothing reached the server, so sending
    /// again is always safe.
    NotSent,
    /// The request may have been received and acted on.
    MaybeReceived,
}

/// Everything that can go wrong, each with a stable [`Error::code`].
///
/// Messages name the field and the rule for bad input, and never contain
/// the API token or its digest.
///
/// ```
/// use pockyt_payouts::{Error, ErrorCode, RetCode};
/// let e = Error::Api { operation: pockyt_payouts::Operation::Pay.into(), ret_code: RetCode::InsufficientBalance, ret_msg: "balance not enough".into() };
/// assert_eq!(e.code(), ErrorCode::Api(RetCode::InsufficientBalance));
/// assert_eq!(e.code().as_str(), "000040");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The input broke a rule; nothing was sent.
    InvalidRequest {
        /// The field's wire (camelCase) name.
        field: String,
        /// The rule it broke, in words.
        rule: String,
    },
    /// The client's configuration is incomplete or wrong.
    InvalidConfig {
        /// The setting (or environment variable) at fault.
        field: String,
        /// What is wrong with it.
        rule: String,
    },
    /// The API answered an error `ret_code`.
    Api {
        /// The operation (or raw path) that was refused.
        operation: Endpoint,
        /// The API's code.
        ret_code: RetCode,
        /// The API's message (may be empty).
        ret_msg: String,
    },
    /// The connection failed.
    Network {
        /// The operation (or raw path) whose request failed.
        operation: Endpoint,
        /// What failed.
        message: String,
        /// Whether the request may have reached the server.
        delivery: Delivery,
    },
    /// No complete answer within the timeout (or before the call's
    /// deadline); the request may have been received.
    Timeout {
        /// The operation (or raw path) that timed out.
        operation: Endpoint,
        /// The timeout (or deadline) that expired, in milliseconds.
        after_ms: u64,
    },
    /// The server answered a status other than 200, a redirect included
    /// (redirects are never followed).
    Http {
        /// The HTTP status.
        status: u16,
        /// The start of the body (at most [`EXCERPT_LIMIT`] bytes).
        excerpt: String,
    },
    /// The answer was not the JSON this API sends, or was longer than the
    /// configured `max_response_bytes`.
    Decode {
        /// The operation (or raw path) whose answer could not be decoded.
        operation: Endpoint,
        /// The HTTP status.
        status: u16,
        /// What could not be decoded.
        message: String,
        /// The start of the body (at most [`EXCERPT_LIMIT`] bytes).
        excerpt: String,
    },
    /// A payout request may have reached the server, and whether it created
    /// a payout could not be established. Do not pay again blindly:
    /// reconcile with `inquire_payout(invoice_id)` later.
    PayoutOutcomeUnknown {
        /// The payout's invoiceId, the key to reconcile with.
        invoice_id: String,
        /// The last failure seen.
        cause: Box<Error>,
    },
}

impl Error {
    /// An `INVALID_REQUEST` error for `field` (wire or snake_case name).
    pub fn invalid_request(field: impl AsRef<str>, rule: impl Into<String>) -> Self {
        Error::InvalidRequest {
            field: camel_case(field.as_ref()),
            rule: rule.into(),
        }
    }

    /// An `INVALID_CONFIG` error for the setting `field`.
    pub fn invalid_config(field: &str, rule: &str) -> Self {
        Error::InvalidConfig {
            field: field.to_owned(),
            rule: rule.to_owned(),
        }
    }

    /// An `INVALID_CONFIG` error for the setting `field`, from owned text.
    pub fn invalid_config_owned(field: String, rule: String) -> Self {
        Error::InvalidConfig { field, rule }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidRequest { .. } => ErrorCode::InvalidRequest,
            Error::InvalidConfig { .. } => ErrorCode::InvalidConfig,
            Error::Api { ret_code, .. } => ErrorCode::Api(ret_code.clone()),
            Error::Network { .. } => ErrorCode::Network,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Http { .. } => ErrorCode::Http,
            Error::Decode { .. } => ErrorCode::Decode,
            Error::PayoutOutcomeUnknown { .. } => ErrorCode::PayoutOutcomeUnknown,
        }
    }

    /// The API's `ret_code`, for API errors.
    pub fn ret_code(&self) -> Option<&RetCode> {
        match self {
            Error::Api { ret_code, .. } => Some(ret_code),
            _ => None,
        }
    }

    /// The field at fault, in wire (camelCase) spelling, for invalid input.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::InvalidRequest { field, .. } | Error::InvalidConfig { field, .. } => Some(field),
            _ => None,
        }
    }

    /// The HTTP status, when the error came from an answer.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } | Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The operation or raw path the error is about, where known.
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self {
            Error::Api { operation, .. }
            | Error::Network { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Decode { operation, .. } => Some(*operation),
            _ => None,
        }
    }

    /// The operation the error is about, where known: every error but
    /// invalid input, invalid configuration and (for now) HTTP errors. A
    /// payout whose outcome is unknown is about `pay`.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::Api { operation, .. }
            | Error::Network { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Decode { operation, .. } => operation.operation(),
            Error::PayoutOutcomeUnknown { .. } => Some(Operation::Pay),
            Error::InvalidRequest { .. } | Error::InvalidConfig { .. } | Error::Http { .. } => None,
        }
    }

    /// The API's message, for API errors (redacted; may be empty).
    pub fn ret_msg(&self) -> Option<&str> {
        match self {
            Error::Api { ret_msg, .. } => Some(ret_msg),
            _ => None,
        }
    }

    /// The timeout or deadline that expired, in milliseconds, for timeouts.
    pub fn timeout_ms(&self) -> Option<u64> {
        match self {
            Error::Timeout { after_ms, .. } => Some(*after_ms),
            _ => None,
        }
    }

    /// The invoiceId of a payout whose outcome is unknown.
    pub fn invoice_id(&self) -> Option<&str> {
        match self {
            Error::PayoutOutcomeUnknown { invoice_id, .. } => Some(invoice_id),
            _ => None,
        }
    }

    /// Whether the request that failed may have reached the server (and so
    /// may have been acted on). `false` for input refused before sending
    /// and for connections that failed before the request was written.
    pub fn may_have_been_received(&self) -> bool {
        match self {
            Error::InvalidRequest { .. } | Error::InvalidConfig { .. } => false,
            Error::Network { delivery, .. } => *delivery == Delivery::MaybeReceived,
            _ => true,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidRequest { field, rule } => {
                let snake = snake_case(field);
                if snake == *field {
                    write!(f, "invalid request: {field} {rule}")
                } else {
                    write!(f, "invalid request: {field} ({snake}) {rule}")
                }
            }
            Error::InvalidConfig { field, rule } => write!(f, "invalid configuration: {field} {rule}"),
            Error::Api {
                operation,
                ret_code,
                ret_msg,
            } => {
                write!(
                    f,
                    "POST {} refused with ret_code {} ({})",
                    operation.path(),
                    ret_code,
                    ret_code.description()
                )?;
                if !ret_msg.is_empty() {
                    write!(f, ": {ret_msg}")?;
                }
                Ok(())
            }
            Error::Network {
                message, delivery, ..
            } => match delivery {
                Delivery::NotSent => write!(f, "network error before the request was sent: {message}"),
                Delivery::MaybeReceived => write!(f, "network error (the request may have been received): {message}"),
            },
            Error::Timeout { operation, after_ms } => write!(
                f,
                "POST {} timed out after {after_ms} ms (the request may have been received)",
                operation.path()
            ),
            Error::Http { status, excerpt } => write!(f, "unexpected HTTP status {status}; body: {excerpt:?}"),
            Error::Decode {
                status,
                message,
                excerpt,
                ..
            } => write!(f, "could not decode the answer (HTTP {status}): {message}; body: {excerpt:?}"),
            Error::PayoutOutcomeUnknown { invoice_id, cause } => write!(
                f,
                "the outcome of the payout with invoiceId {invoice_id:?} is unknown: the pay request may have \
                 been received and the inquiry could not establish whether a payout exists; do not pay again \
                 under a new invoiceId, look the payout up later by invoiceId {invoice_id:?}; last failure: {cause}"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::PayoutOutcomeUnknown { cause, .. } => Some(cause.as_ref()),
            _ => None,
        }
    }
}

impl From<pockyt_payouts_core::validate::Violation> for Error {
    fn from(v: pockyt_payouts_core::validate::Violation) -> Self {
        Error::InvalidRequest {
            field: v.field,
            rule: v.rule,
        }
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// A builder's conversion error becomes `INVALID_REQUEST` quoting it.
/// The typed methods name a missing required field themselves (see
/// [`IntoParams`](crate::IntoParams)); this conversion reads nothing out of
/// the text.
impl From<pockyt_payouts_core::types::error::ConversionError> for Error {
    fn from(e: pockyt_payouts_core::types::error::ConversionError) -> Self {
        Error::invalid_request("params", e.to_string())
    }
}
