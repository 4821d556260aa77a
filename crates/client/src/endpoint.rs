//! What a call is addressed to: an operation of the spec, or a path the
//! signed raw request ([`Client::request`](crate::Client::request)) reaches.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};

use pockyt_payouts_core::operation::Operation;
use serde_json::Value;

use crate::error::Error;
use crate::json::JsonAnswer;
use crate::Client;

/// How many distinct raw-request paths a process keeps names for.
pub const MAX_RAW_PATHS: usize = 256;

/// An operation of the spec, or a path reached by a raw request.
///
/// ```
/// use pockyt_payouts::{Endpoint, Operation};
/// let endpoint = Endpoint::from(Operation::Pay);
/// assert_eq!(endpoint.path(), "/v3/payouts/pay");
/// assert_eq!(endpoint.operation(), Some(Operation::Pay));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// An operation of the spec.
    Operation(Operation),
    /// A path reached by a raw request (an operation the SDK does not model).
    Raw(&'static str),
}

impl Endpoint {
    /// The operation's snake_case name, or the raw path.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Operation(op) => op.name(),
            Endpoint::Raw(path) => path,
        }
    }

    /// The request path.
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Operation(op) => op.path(),
            Endpoint::Raw(path) => path,
        }
    }

    /// The operation, for an operation of the spec.
    pub fn operation(self) -> Option<Operation> {
        match self {
            Endpoint::Operation(op) => Some(op),
            Endpoint::Raw(_) => None,
        }
    }

    /// Whether the call changes nothing on the server. A raw path is taken
    /// to change state (the safe assumption).
    pub fn is_read_only(self) -> bool {
        self.operation().is_some_and(Operation::is_read_only)
    }

    /// Whether a call to it sends a `Pockyt-Request-ID`: an operation when
    /// the spec says it takes one, a raw path always (read-only or not is
    /// [`Endpoint::is_read_only`]'s to say).
    pub fn takes_request_id(self) -> bool {
        self.operation().is_none_or(Operation::takes_request_id)
    }

    /// The endpoint of a raw request to `path`: an operation of the spec
    /// when the path is one, else the path itself (kept for the process;
    /// at most [`MAX_RAW_PATHS`] distinct ones).
    pub(crate) fn raw(path: &str) -> Result<Endpoint, Error> {
        if let Some(op) = Operation::ALL.iter().find(|op| op.path() == path) {
            return Ok(Endpoint::Operation(*op));
        }
        static PATHS: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
        let mut paths = PATHS
            .get_or_init(|| Mutex::new(HashSet::new()))
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = paths.get(path) {
            return Ok(Endpoint::Raw(known));
        }
        if paths.len() >= MAX_RAW_PATHS {
            return Err(Error::invalid_request(
                "path",
                format!("is one more distinct raw-request path than the {MAX_RAW_PATHS} a process may use"),
            ));
        }
        let kept: &'static str = Box::leak(path.to_owned().into_boxed_str());
        paths.insert(kept);
        Ok(Endpoint::Raw(kept))
    }
}

impl From<Operation> for Endpoint {
    fn from(op: Operation) -> Self {
        Endpoint::Operation(op)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A call as the Python and Node bindings name it: an operation of the
/// spec by name (`pay`, `inquirePayout`, `inquire_payout`), or a path
/// starting with `/` for the signed raw request ([`Client::request`]).
///
/// ```
/// use pockyt_payouts::{CallTarget, Operation};
/// let pay: CallTarget = "pay".parse().unwrap();
/// assert!(matches!(pay, CallTarget::Operation(Operation::Pay)));
/// let raw: CallTarget = "/v3/payee/account/configurations".parse().unwrap();
/// assert!(matches!(raw, CallTarget::Raw(_)));
/// assert!("refund".parse::<CallTarget>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallTarget {
    /// An operation of the spec, called through the JSON door
    /// ([`Client::call_json`], [`Client::call_json_text`]).
    Operation(Operation),
    /// A path for the signed raw request.
    Raw(String),
}

impl FromStr for CallTarget {
    type Err = Error;

    /// An operation by name, or a raw path (which starts with `/`);
    /// `INVALID_REQUEST` naming `operation` for anything else.
    fn from_str(name: &str) -> Result<Self, Error> {
        if name.starts_with('/') {
            return Ok(CallTarget::Raw(name.to_owned()));
        }
        Operation::from_str(name)
            .map(CallTarget::Operation)
            .map_err(Error::from)
    }
}

impl CallTarget {
    /// Calls it through `client` with JSON `params`; answers the result as
    /// JSON, a [`Value`] or its text (see [`JsonAnswer`]). The call's own
    /// future (6.8 KB for the largest operation) is boxed, so a task a
    /// binding spawns around this from its own thread (the JavaScript
    /// thread, or Python's with the GIL held) stays a few hundred bytes,
    /// and the call's future is made on the runtime's thread.
    pub async fn call<A: JsonAnswer>(self, client: &Client, params: Value) -> Result<A, Error> {
        match self {
            CallTarget::Operation(op) => Box::pin(client.call_json_as(op, params)).await,
            CallTarget::Raw(path) => Box::pin(client.request(&path, params))
                .await
                .map(A::from_object),
        }
    }
}
