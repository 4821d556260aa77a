//! Serving connections. `axum::serve` cannot close a connection without
//! answering, which the `drop` fault needs, so connections are served here
//! with hyper directly: a response carrying [`DropConnection`] becomes an
//! error of the service, and hyper closes the connection on a service
//! error without writing anything.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::api::{DropConnection, FaultNote, RetCodeNote};
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
            let body = json!({ "ret_code": "000000", "ret_msg": format!("no such path: {}", uri.path()) });
            let mut response = (StatusCode::NOT_FOUND, Json(body)).into_response();
            response.extensions_mut().insert(RetCodeNote("000000"));
            response
        })
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            let body = json!({ "ret_code": "000000", "ret_msg": format!("method {method} is not allowed here; the API answers POST only") });
            let mut response = (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response();
            response.extensions_mut().insert(RetCodeNote("000000"));
            response
        })
        .with_state(shared)
}

/// Accepts connections until `shutdown` changes (or its sender is gone),
/// then lets requests in flight finish for up to [`GRACE`].
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    log: bool,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(_) => {
                // Out of file descriptors or a connection reset before
                // accept: wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            async move { answer(router, request, log).await }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            // A connection error (a dropped fault, a client that went
            // away) concerns that connection only.
            let _ = connection.await;
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(GRACE) => {}
    }
    connections.abort_all();
}

async fn answer(
    router: Router,
    request: Request<Incoming>,
    log: bool,
) -> Result<Response<Body>, Dropped> {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
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
