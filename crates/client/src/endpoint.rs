//! What a call is addressed to: an operation of the spec, or a path the
//! signed raw request ([`Client::request`](crate::Client::request)) reaches.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Mutex, OnceLock};

use pockyt_payouts_core::operation::Operation;

use crate::error::Error;

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
