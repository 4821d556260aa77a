//! Low-level client for the Pockyt (formerly Yuansfer) Payouts v3 API.
//!
//! [`generated`] is written by `cargo xtask codegen` (progenitor, used as a
//! library) from `spec/payouts.yaml`; never edit it by hand. What is written
//! by hand lives beside it:
//!
//! - [`validate`]: the input rules, shared by the client (which refuses bad
//!   input before sending) and the sandbox (which answers 000023);
//! - [`enums`]: the open enumerations the generator is told to use in place
//!   of closed ones (an answer with a value this SDK does not know must come
//!   through, not fail);
//! - the [`progenitor_client::ClientHooks`] implementation below, which
//!   hands every request body to the signing layer
//!   ([`pockyt_payouts_sign::Signer`]) before it is sent.
//!
//! The generator sees request bodies without the signing envelope
//! (`merchantNo`, `storeNo`, `timestamp`, `verifySign`): the xtask rewrites
//! each `allOf[SignedEnvelope, XParams]` body to `XParams` before generating,
//! so users never supply envelope fields and the builders never demand them.
//! The hook adds them. A pre-hook (rather than a patched generator) keeps the
//! generated code stock progenitor output, and the `ClientHooks` impl lives
//! here because the orphan rule allows it only in the crate that owns
//! `Client`.
//!
//! Applications should use the `pockyt-payouts` crate.

#![forbid(unsafe_code)]

pub mod enums;
pub mod money;
pub mod operation;
pub mod validate;
#[allow(missing_docs, clippy::all, clippy::pedantic)]
#[rustfmt::skip]
pub mod generated;

pub use generated::*;
pub use pockyt_payouts_sign as sign;

use progenitor_client::{ClientHooks, OperationInfo};

/// Signs every request: parses the JSON body the generated code built from
/// the operation's parameters, adds the envelope and `verifySign`, and puts
/// the signed body back. Also drops the `api-version` header progenitor adds
/// from the spec's `info.version`, which this API does not define.
impl ClientHooks<pockyt_payouts_sign::Signer> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        request.headers_mut().remove("api-version");
        let body = request
            .body()
            .and_then(reqwest::Body::as_bytes)
            .unwrap_or(b"{}");
        let signed = self
            .inner()
            .sign_json_body(body, std::time::SystemTime::now())
            .map_err(|e| progenitor_client::Error::InvalidRequest(e.to_string()))?;
        *request.body_mut() = Some(reqwest::Body::from(signed));
        Ok(())
    }
}
