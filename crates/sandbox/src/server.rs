//! Serving connections. `axum::serve` cannot close a connection without
//! answering, which the `drop` fault needs, so connections are served here
//! with hyper directly: a response carrying [`DropConnection`] becomes an
//! error of the service, and hyper closes the connection on a service
//! error without writing anything.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use axum::Router;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use pockyt_payouts_core::enums::RetCode;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::api::{DropConnection, FaultNote, RetCodeNote};
use crate::config::SandboxConfig;
use crate::shared::Shared;

/// How long shutdown waits for requests in flight.
const GRACE: Duration = Duration::from_secs(5);

/// The service error that makes hyper close the connection.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the sandbox's drop fault")
    }
}

impl std::error::Error for Dropped {}

/// The whole application: the operations, the admin endpoints, and JSON
/// answers for unknown paths (404) and methods (405).
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    crate::api::routes()
        .merge(crate::admin::routes())
        .fallback(|uri: axum::http::Uri| async move {
            let code = RetCode::SystemError;
            let body = json!({ "ret_code": code.as_str(), "ret_msg": format!("no such path: {}", uri.path()) });
            let mut response = (StatusCode::NOT_FOUND, Json(body)).into_response();
            response.extensions_mut().insert(RetCodeNote(code));
            response
        })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            let code = RetCode::SystemError;
            let body = json!({ "ret_code": code.as_str(), "ret_msg": format!("method {method} is not allowed here; the API answers POST only") });
            let mut response = (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response();
            response.extensions_mut().insert(RetCodeNote(code));
            response
        })
        // Bodies are read (bounded in size and time) before routing; the
        // extractors need no limit of their own.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

/// The bounds the server puts on every connection and request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_body_bytes: usize,
}

impl Limits {
    pub fn of(config: &SandboxConfig) -> Limits {
        Limits {
            max_connections: config.max_connections.max(1),
            header_read_timeout: config.header_read_timeout,
            body_read_timeout: config.body_read_timeout,
            max_body_bytes: config.max_body_bytes,
        }
    }
}

/// hyper's read buffer per connection: request lines and headers larger
/// than this are refused (hyper's default is about 400 KiB).
const MAX_READ_BUFFER: usize = 64 * 1024;

/// How long the accept loop waits after a failed accept (out of file
/// descriptors, say) before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts connections until `shutdown` changes (or its sender is gone),
/// then lets requests in flight finish for up to [`GRACE`].
///
/// At most `limits.max_connections` connections are served at once: the
/// loop takes a permit before it accepts, so beyond the cap connections
/// wait in the OS's listen queue, using no descriptor of this process,
/// until one closes. A failed accept (EMFILE, a connection reset before it
/// was accepted) never ends the loop.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    log: bool,
    limits: Limits,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_READ_BUFFER);
    loop {
        let permit = tokio::select! {
            _ = shutdown.changed() => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_closed) => break,
            },
        };
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                if log {
                    eprintln!("pockyt-sandbox: accept failed ({error}); retrying");
                }
                // Out of file descriptors or a connection reset before
                // accept: wait a little rather than spin.
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            async move { answer(router, request, log, limits).await }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            // A connection error (a dropped fault, a client that went
            // away, a header read timeout) concerns that connection only.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => {}
    }
    connections.abort_all();
}

/// Why a request's body could not be read.
enum BodyRefusal {
    /// Larger than the limit: HTTP 413.
    TooLarge,
    /// Not complete within the body read timeout: HTTP 408.
    TooSlow,
    /// The connection failed while reading it.
    Broken,
}

/// How much of a too-large body is read and thrown away before the 413 is
/// sent, so that a client that sends a moderately oversized body sees the
/// answer rather than a connection reset (closing a socket with unread
/// data resets it). Never kept in memory; still within the body timeout.
const MAX_DISCARDED: usize = 4 * 1024 * 1024;

/// Reads the whole body, at most `limits.max_body_bytes` of it, within
/// `limits.body_read_timeout`, before the request reaches the router: no
/// handler ever waits on a client.
async fn read_body(
    request: Request<Incoming>,
    limits: Limits,
) -> Result<Request<Body>, BodyRefusal> {
    let (parts, mut incoming) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut too_large = declared.is_some_and(|n| n > limits.max_body_bytes as u64);
    if declared.is_some_and(|n| n > (limits.max_body_bytes + MAX_DISCARDED) as u64) {
        return Err(BodyRefusal::TooLarge);
    }
    let read = async {
        let mut kept: Vec<u8> = Vec::new();
        let mut discarded = 0usize;
        while let Some(frame) = incoming.frame().await {
            let Ok(data) = frame.map_err(|_| BodyRefusal::Broken)?.into_data() else {
                continue; // trailers
            };
            if !too_large && kept.len() + data.len() > limits.max_body_bytes {
                too_large = true;
                discarded = kept.len();
                kept = Vec::new();
            }
            if too_large {
                discarded += data.len();
                if discarded > MAX_DISCARDED {
                    break;
                }
            } else {
                kept.extend_from_slice(&data);
            }
        }
        if too_large {
            Err(BodyRefusal::TooLarge)
        } else {
            Ok(kept)
        }
    };
    let kept = tokio::time::timeout(limits.body_read_timeout, read)
        .await
        .map_err(|_elapsed| BodyRefusal::TooSlow)??;
    Ok(Request::from_parts(parts, Body::from(kept)))
}

/// The answer to a body that could not be read; it closes the connection
/// (what is left of the body is not read).
fn refuse_body(refusal: &BodyRefusal, limits: Limits) -> Response<Body> {
    let (status, message) = match refusal {
        BodyRefusal::TooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} bytes",
                limits.max_body_bytes
            ),
        ),
        BodyRefusal::TooSlow => (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} ms",
                limits.body_read_timeout.as_millis()
            ),
        ),
        BodyRefusal::Broken => (
            StatusCode::BAD_REQUEST,
            "the request body could not be read".to_owned(),
        ),
    };
    let code = RetCode::ParameterValueError;
    let body = json!({ "ret_code": code.as_str(), "ret_msg": message });
    let mut response = (
        status,
        [(header::CONNECTION, HeaderValue::from_static("close"))],
        Json(body),
    )
        .into_response();
    response.extensions_mut().insert(RetCodeNote(code));
    response
}

async fn answer(
    router: Router,
    request: Request<Incoming>,
    log: bool,
    limits: Limits,
) -> Result<Response<Body>, Dropped> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = match read_body(request, limits).await {
        Ok(request) => match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        Err(refusal) => refuse_body(&refusal, limits),
    };
    let dropped = response.extensions().get::<DropConnection>().is_some();
    if log {
        let ret_code = response
            .extensions()
            .get::<RetCodeNote>()
            .map(|note| format!(" ret_code={}", note.0))
            .unwrap_or_default();
        let fault = response
            .extensions()
            .get::<FaultNote>()
            .map(|note| format!(" fault={}", note.0))
            .unwrap_or_default();
        let outcome = if dropped {
            "connection dropped".to_owned()
        } else {
            response.status().as_u16().to_string()
        };
        eprintln!(
            "pockyt-sandbox: {method} {path} -> {outcome}{ret_code}{fault} ({} ms)",
            started.elapsed().as_millis()
        );
    }
    if dropped {
        Err(Dropped)
    } else {
        Ok(response)
    }
}
