//! What a receiver answers the API, for every way an IPN can end.

use std::fmt;

use pockyt_payouts_sign::IpnError;

use super::store::StoreError;

/// The plain-text body that tells the API an IPN was received.
pub const SUCCESS_BODY: &str = "success";
/// The content type of every answer.
pub const CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// How one IPN delivery ended at the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Verified, new, and the handler succeeded.
    Handled,
    /// Verified, and the handler had already succeeded for this
    /// `transactionNo` + `status`: not run again.
    Duplicate,
    /// Verified, and another delivery of it is being handled now: not run.
    InProgress,
    /// Not verified: the handler was not run.
    Refused(IpnError),
    /// Verified and new, but the handler failed (the claim is released so
    /// a resend runs it again).
    HandlerFailed,
    /// The deduplication store failed.
    StoreFailed(StoreError),
}

/// An answer to the API: HTTP status and plain-text body
/// ([`CONTENT_TYPE`]). The body never echoes what the IPN carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The plain-text body: exactly `success` when the API should stop
    /// resending.
    pub body: String,
}

impl Reply {
    /// The answer to an IPN body over
    /// [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES), which is not read further:
    /// `413`.
    pub fn too_large() -> Reply {
        Reply {
            status: 413,
            body: format!(
                "refused: the IPN body is over {} bytes",
                super::MAX_BODY_BYTES
            ),
        }
    }

    /// The answer to an IPN body that could not be read (the sender went
    /// away): `400`.
    pub fn unreadable() -> Reply {
        Reply {
            status: 400,
            body: "refused: the IPN body could not be read".to_owned(),
        }
    }
}

impl Outcome {
    /// The stable name of this outcome: `handled`, `duplicate`,
    /// `in_progress`, `refused`, `handler_failed`, `store_failed`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Handled => "handled",
            Outcome::Duplicate => "duplicate",
            Outcome::InProgress => "in_progress",
            Outcome::Refused(_) => "refused",
            Outcome::HandlerFailed => "handler_failed",
            Outcome::StoreFailed(_) => "store_failed",
        }
    }

    /// Whether the API should stop resending (a 2xx `success` answer).
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Handled | Outcome::Duplicate)
    }

    /// The answer to send: `200 success` when handled or a duplicate;
    /// `409` while another delivery is being handled; `400` for a refused
    /// IPN (`500` when the receiver's token is empty: its configuration is
    /// at fault); `500` when the handler or the store failed. Every
    /// non-2xx makes the API resend.
    ///
    /// ```
    /// use pockyt_payouts::webhook::Outcome;
    /// use pockyt_payouts::IpnError;
    /// assert_eq!(Outcome::Duplicate.reply().body, "success");
    /// let refused = Outcome::Refused(IpnError::SignatureMismatch).reply();
    /// assert_eq!((refused.status, refused.body.as_str()), (400, "refused: IPN_SIGNATURE_MISMATCH"));
    /// ```
    pub fn reply(&self) -> Reply {
        let (status, body) = match self {
            Outcome::Handled | Outcome::Duplicate => (200, SUCCESS_BODY.to_owned()),
            Outcome::InProgress => (
                409,
                "in progress: another delivery of this IPN is being handled; resend later"
                    .to_owned(),
            ),
            Outcome::Refused(e) => return refusal(e.code()),
            Outcome::HandlerFailed => (
                500,
                "failed: the handler did not succeed; resend later".to_owned(),
            ),
            Outcome::StoreFailed(e) => (500, format!("failed: {}; resend later", e.code())),
        };
        Reply { status, body }
    }

    /// The outcome named `name` ([`Outcome::name`]) for the bindings, which
    /// report outcomes by name; `refused` needs the refusal's code.
    pub fn reply_for(name: &str, code: Option<&str>) -> Option<Reply> {
        let outcome = match name {
            "handled" => Outcome::Handled,
            "duplicate" => Outcome::Duplicate,
            "in_progress" => Outcome::InProgress,
            "handler_failed" => Outcome::HandlerFailed,
            "store_failed" => Outcome::StoreFailed(StoreError::new("")),
            "refused" => {
                let code = code.filter(|c| IpnError::CODES.contains(c))?;
                return Some(refusal(code));
            }
            _ => return None,
        };
        Some(outcome.reply())
    }
}

/// The answer to an IPN refused with `code` (one of [`IpnError::CODES`]).
fn refusal(code: &str) -> Reply {
    if code == IpnError::EMPTY_TOKEN {
        Reply {
            status: 500,
            body: format!("misconfigured: {code}"),
        }
    } else {
        Reply {
            status: 400,
            body: format!("refused: {code}"),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Refused(e) => write!(f, "refused: {e}"),
            Outcome::StoreFailed(e) => write!(f, "{e}"),
            other => f.write_str(other.name()),
        }
    }
}
