//! One description of an error, the same in every language.
//!
//! The Python and Node packages raise their own error classes; what those
//! carry is decided here, once: every error has the same fields (those
//! that do not apply are `None`), and the bindings only rename them
//! (`may_have_been_received` / `mayHaveBeenReceived`) and convert units.

use std::time::Duration;

use pockyt_payouts_core::operation::Operation;

use crate::error::Error;

/// Everything an [`Error`] says, field by field.
///
/// ```
/// use pockyt_payouts::{Error, Operation, RetCode};
/// let error = Error::Api { operation: Operation::Pay.into(), ret_code: RetCode::InsufficientBalance, ret_msg: "no funds".into() };
/// let details = error.details();
/// assert_eq!(details.code, "000040");
/// assert_eq!(details.ret_code.as_deref(), Some("000040"));
/// assert_eq!(details.operation, Some(Operation::Pay));
/// assert!(details.may_have_been_received);
/// assert_eq!(details.field, None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The stable code ([`Error::code`]).
    pub code: String,
    /// The message (never contains the token or its digest).
    pub message: String,
    /// The API's `ret_code`, for errors the API answered.
    pub ret_code: Option<String>,
    /// The API's message, for errors the API answered.
    pub ret_msg: Option<String>,
    /// The operation that failed, where known.
    pub operation: Option<Operation>,
    /// The field or setting at fault (wire / setting spelling).
    pub field: Option<String>,
    /// Whether the failed request may have reached the server.
    pub may_have_been_received: bool,
    /// The HTTP status, when the error came from an answer.
    pub status: Option<u16>,
    /// The time limit that expired, for `TIMEOUT`.
    pub timeout: Option<Duration>,
    /// The payout's invoiceId, for `PAYOUT_OUTCOME_UNKNOWN`.
    pub invoice_id: Option<String>,
    /// The start of an unexpected answer (redacted, bounded).
    pub body: Option<String>,
    /// The last failure behind a `PAYOUT_OUTCOME_UNKNOWN`.
    pub cause: Option<Box<ErrorDetails>>,
}

impl Error {
    /// This error, field by field: what every language's error carries.
    pub fn details(&self) -> ErrorDetails {
        let body = match self {
            Error::Http { excerpt, .. } | Error::Decode { excerpt, .. } => Some(excerpt.clone()),
            _ => None,
        };
        let cause = match self {
            Error::PayoutOutcomeUnknown { cause, .. } => Some(Box::new(cause.details())),
            _ => None,
        };
        ErrorDetails {
            code: self.code().as_str().to_owned(),
            message: self.to_string(),
            ret_code: self.ret_code().map(|c| c.as_str().to_owned()),
            ret_msg: self.ret_msg().map(str::to_owned),
            operation: self.operation(),
            field: self.field().map(str::to_owned),
            may_have_been_received: self.may_have_been_received(),
            status: self.http_status(),
            timeout: self.timeout_ms().map(Duration::from_millis),
            invoice_id: self.invoice_id().map(str::to_owned),
            body,
            cause,
        }
    }
}
