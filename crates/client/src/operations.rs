//! The one runner every operation's method calls ([`Client::run_op`]), and
//! the checks of an answer's payload. The methods themselves are rendered
//! from the spec (`generated.rs`, by `cargo xtask codegen`): which
//! operation, the params, and what of the answer is the result. Every
//! attempt is sent by [`pockyt_payouts_core::send_signed`] to the
//! operation's path, the params signed straight into the body.

use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_core::validate::Validate;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::Client;
use crate::error::Error;
use crate::params::IntoParams;
use crate::transport::Answer;

/// The answer's payload, which a success must carry.
pub(crate) fn payload<T>(value: Option<T>, operation: Operation, field: &str) -> Result<T, Error> {
    value.ok_or_else(|| missing(operation, field))
}

fn missing(operation: Operation, field: &str) -> Error {
    Error::Decode {
        operation: operation.into(),
        status: 200,
        message: format!(
            "POST {} answered ret_code 000100 without `{field}`",
            operation.path()
        ),
        excerpt: String::new(),
    }
}

/// An id a success must carry, non-empty (a payee's `customerNo`, an
/// account's `accountToken`): every later call needs it, and the bindings
/// rely on this to type it as always present.
pub(crate) fn required_id(id: &str, operation: Operation, field: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(missing(operation, field));
    }
    Ok(())
}

/// The params a caller passed, converted, with defaults filled and every
/// rule checked: nothing is sent when this fails.
pub(crate) fn prepared<T: Validate>(params: impl IntoParams<T>) -> Result<T, Error> {
    let mut params = params.into_params()?;
    params.prepare()?;
    Ok(params)
}

impl Client {
    /// The one runner of every operation but `pay`: prepares the params,
    /// makes the call's idempotency key (state-changing calls; see
    /// [`crate::idempotency`]), sends them to the operation's path under
    /// its retry rule, every attempt with the same key and the same
    /// (borrowed) params, and makes the result of the answer with `result`.
    pub(crate) async fn run_op<T, R, Out>(
        &self,
        op: Operation,
        params: impl IntoParams<T>,
        result: impl FnOnce(R) -> Result<Out, Error>,
    ) -> Result<Out, Error>
    where
        T: Validate + Serialize,
        R: Answer + DeserializeOwned,
    {
        let params = &prepared(params)?;
        let deadline = self.start_call()?;
        let key = self.call_key(op.into());
        let key = key.as_deref();
        let core = &self.shared.core;
        let answer = self
            .run(op.into(), &deadline, key.is_some(), || {
                pockyt_payouts_core::send_signed(core, op, params, key)
            })
            .await?;
        result(answer)
    }
}
