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
//!   ([`pockyt_payouts_sign::Signer`]) before it is sent, and reads every
//!   answer itself, bounded ([`read_bounded`]): progenitor's generated code
//!   would read any body whole;
//! - [`send_signed`], which the `pockyt-payouts` client sends every call
//!   with: it signs the typed params straight into the body
//!   ([`pockyt_payouts_sign::Signer::signed_body`]) rather than letting the
//!   builder write JSON for the hook to parse, sign and write again.
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
#![deny(missing_docs)]

pub mod enums;
pub mod money;
pub mod naming;
pub mod operation;
pub mod validate;
#[allow(missing_docs, clippy::all, clippy::pedantic)]
#[rustfmt::skip]
pub mod generated;

pub use generated::*;
pub use pockyt_payouts_sign as sign;

use progenitor_client::{ClientHooks, OperationInfo};

/// Signs every request sent through the generated builders: parses the
/// JSON body the generated code built from the operation's parameters, adds
/// the envelope and `verifySign`, and puts the signed body back
/// ([`Signer::sign_json_body`](pockyt_payouts_sign::Signer::sign_json_body),
/// the same rule and encoding as [`send_signed`], which the
/// `pockyt-payouts` client uses instead). Also drops the `api-version` header progenitor adds
/// from the spec's `info.version`, which this API does not define, and
/// reads every answer bounded.
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

    /// Sends the request and reads the answer bounded (see
    /// [`read_bounded`]), so that the generated code's own whole-body read
    /// only ever sees the bytes already read.
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let limit = RESPONSE_LIMIT
            .try_with(|limit| *limit)
            .unwrap_or(DEFAULT_MAX_RESPONSE_BYTES);
        let response = self.client().execute(request).await?;
        read_bounded(response, limit).await
    }
}

/// How many bytes of an answer are read when no limit was set with
/// [`with_response_limit`]: 1 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1 << 20;

/// The status a response over the limit is handed back with (the real one
/// is in its [`BodyTooLong`] marker). Not 200, so the generated code never
/// decodes a cut body as an answer; nonstandard, so nothing mistakes it for
/// a real status should the marker be ignored.
pub const BODY_TOO_LONG_STATUS: u16 = 599;

tokio::task_local! {
    static RESPONSE_LIMIT: usize;
}

/// Runs `call` (a generated operation's `send()`) reading answers of at
/// most `limit` bytes. The limit is per call, not per core client, because
/// the core client's inner type is the signer (set by the xtask); a task
/// local carries it to [`ClientHooks::exec`]. Outside such a scope the
/// limit is [`DEFAULT_MAX_RESPONSE_BYTES`].
pub async fn with_response_limit<F: std::future::Future>(limit: usize, call: F) -> F::Output {
    RESPONSE_LIMIT.scope(limit, call).await
}

/// The marker in the extensions of a response whose body was longer than
/// the limit. Such a response has status [`BODY_TOO_LONG_STATUS`] and as
/// its body only the bytes read before the limit was passed (none when the
/// `Content-Length` announced too many).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyTooLong {
    /// The status the server answered.
    pub status: u16,
    /// The limit that was passed, in bytes.
    pub limit: usize,
}

/// Reads `response`'s body, at most `limit` bytes of it, and hands back a
/// response holding the bytes read: whole when the body fits, otherwise cut
/// and marked with [`BodyTooLong`]. Reading stops at the limit (or before
/// reading anything when `Content-Length` is over it), so memory stays
/// bounded whatever the server sends; the caller's timeout bounds the time.
pub async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> reqwest::Result<reqwest::Response> {
    let status = response.status();
    let version = response.version();
    let headers = std::mem::take(response.headers_mut());
    let rebuild = |status: reqwest::StatusCode, body: Vec<u8>, marker: Option<BodyTooLong>| {
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers.clone();
        if let Some(marker) = marker {
            rebuilt.extensions_mut().insert(marker);
        }
        reqwest::Response::from(rebuilt)
    };
    let too_long = |body: Vec<u8>| {
        let marker = BodyTooLong {
            status: status.as_u16(),
            limit,
        };
        let synthesized = reqwest::StatusCode::from_u16(BODY_TOO_LONG_STATUS)
            .unwrap_or(reqwest::StatusCode::BAD_GATEWAY);
        rebuild(synthesized, body, Some(marker))
    };
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limit as u64) {
        return Ok(too_long(Vec::new()));
    }
    let capacity = announced.map_or(0, |n| usize::try_from(n).unwrap_or(limit));
    let mut body = Vec::with_capacity(capacity.min(limit).min(64 * 1024));
    while let Some(chunk) = response.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok(too_long(body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(rebuild(status, body, None))
}

/// Sends `params` (the parameters of `operation`, without the envelope),
/// signed, the way every method of `pockyt-payouts` sends its call: the
/// body is written straight from the typed params by
/// [`Signer::signed_body`](pockyt_payouts_sign::Signer::signed_body) (no
/// JSON tree in between), with the headers the generated builders send
/// (`Accept` and `Content-Type: application/json`, and `Pockyt-Request-ID`
/// when `request_id` is given); the answer is read bounded by the exec hook
/// and a 200 answer decoded as `T`, anything else handed back as
/// [`Error::UnexpectedResponse`].
///
/// The `pre` hook is not run: the body is already signed. Params that
/// cannot be signed (a value that is not a string) and a `request_id` that
/// is no valid header value are [`Error::InvalidRequest`], as with the
/// builders.
pub async fn send_signed<P, T>(
    client: &Client,
    operation: operation::Operation,
    params: &P,
    request_id: Option<&str>,
) -> Result<ResponseValue<T>, Error<()>>
where
    P: serde::Serialize + ?Sized,
    T: serde::de::DeserializeOwned,
{
    send(
        client,
        operation.path(),
        operation.name(),
        params,
        request_id,
    )
    .await
}

/// Sends `params` (a JSON object of the operation's parameters, without the
/// envelope, every value a string) to `path` as [`send_signed`] does. The
/// signed raw request of `pockyt-payouts` (`Client::request`) calls it for
/// operations the spec does not model.
pub async fn send_raw<T: serde::de::DeserializeOwned>(
    client: &Client,
    path: &str,
    params: &serde_json::Map<String, serde_json::Value>,
    request_id: Option<&str>,
) -> Result<ResponseValue<T>, Error<()>> {
    send(client, path, "raw_request", params, request_id).await
}

/// [`send_signed`] and [`send_raw`]: `operation_id` is what the hooks are
/// told the call is.
async fn send<P, T>(
    client: &Client,
    path: &str,
    operation_id: &'static str,
    params: &P,
    request_id: Option<&str>,
) -> Result<ResponseValue<T>, Error<()>>
where
    P: serde::Serialize + ?Sized,
    T: serde::de::DeserializeOwned,
{
    let body = client
        .inner()
        .signed_body(params, std::time::SystemTime::now())
        .map_err(|e| Error::InvalidRequest(e.to_string()))?;
    let json = reqwest::header::HeaderValue::from_static("application/json");
    let mut builder = client
        .client()
        .post(format!("{}{}", client.baseurl(), path))
        .header(reqwest::header::ACCEPT, json.clone())
        .header(reqwest::header::CONTENT_TYPE, json)
        .body(body);
    if let Some(key) = request_id {
        builder = builder.header(
            "Pockyt-Request-ID",
            reqwest::header::HeaderValue::try_from(key)?,
        );
    }
    let request = builder.build()?;
    let info = OperationInfo { operation_id };
    let result = client.exec(request, &info).await;
    client.post(&result, &info).await?;
    let response = result?;
    match response.status().as_u16() {
        200 => ResponseValue::from_response(response).await,
        _ => Err(Error::UnexpectedResponse(response)),
    }
}
