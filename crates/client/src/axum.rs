//! axum integration (feature `axum`): the [`PayoutEvent`] extractor and a
//! ready IPN route, [`payout_webhook`].
//!
//! Both read the raw body themselves (never a `Form` extractor's
//! re-encoding), at most [`MAX_BODY_BYTES`],
//! and answer a refused IPN with the plain-text [`Reply`] of
//! [`Outcome::Refused`]. The [`Webhook`] (token and store) comes from the
//! router's state through `FromRef`.
//!
//! ```no_run
//! use axum::Router;
//! use pockyt_payouts::webhook::Webhook;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let webhook = Webhook::from_env()?;
//! let app: Router = Router::new().route(
//!     "/pockyt/ipn",
//!     pockyt_payouts::axum::payout_webhook(webhook, |event| async move {
//!         println!("payout {} is {}", event.transaction_no, event.status);
//!         Ok::<_, std::convert::Infallible>(())
//!     }),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::ops::Deref;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, FromRef, FromRequest, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};

use crate::webhook::{self, Outcome, Reply, Webhook, CONTENT_TYPE, MAX_BODY_BYTES};

/// Extracts a verified [`webhook::PayoutEvent`] from the raw body with the
/// state's [`Webhook`]; a refused IPN is answered (`400`, plain text) and
/// the handler is not called. It does not deduplicate: use
/// [`payout_webhook`] or [`Webhook::run_once`] for that.
///
/// ```no_run
/// use axum::{routing::post, Router};
/// use pockyt_payouts::axum::PayoutEvent;
/// use pockyt_payouts::webhook::Webhook;
///
/// async fn ipn(PayoutEvent(event): PayoutEvent) -> &'static str {
///     println!("{} is now {}", event.transaction_no, event.status);
///     "success"
/// }
/// # fn app(webhook: Webhook) -> Router {
/// Router::new().route("/ipn", post(ipn)).with_state(webhook)
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PayoutEvent(pub webhook::PayoutEvent);

impl PayoutEvent {
    /// The event.
    pub fn into_inner(self) -> webhook::PayoutEvent {
        self.0
    }
}

impl Deref for PayoutEvent {
    type Target = webhook::PayoutEvent;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// A plain-text answer.
fn respond(reply: &Reply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        reply.body.clone(),
    )
        .into_response()
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        respond(&self.reply())
    }
}

/// Reads the body, at most [`MAX_BODY_BYTES`]: `413` past it, `400` when
/// the body could not be read (the sender went away).
async fn raw_body(request: Request) -> Result<Bytes, Response> {
    axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|error| {
            let too_long = error
                .into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            respond(&if too_long {
                Reply::too_large()
            } else {
                Reply::unreadable()
            })
        })
}

impl<S> FromRequest<S> for PayoutEvent
where
    S: Send + Sync,
    Webhook: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let webhook = Webhook::from_ref(state);
        let body = raw_body(request).await?;
        webhook
            .construct_event(&body)
            .map(PayoutEvent)
            .map_err(|error| Outcome::Refused(error).into_response())
    }
}

/// A ready `POST` route for IPNs: verifies the raw body, runs `handler`
/// at most once per `transactionNo` + `status` ([`Webhook::run_once`]), and
/// answers the plain text `success` after it succeeded (or had already),
/// non-2xx otherwise so the API resends.
///
/// The handler runs on its own task: a sender that hangs up does not
/// cancel it halfway (its claim is completed or released all the same). A
/// handler that panics is answered `500`; its claim lapses after the
/// store's lease.
pub fn payout_webhook<S, F, Fut, E>(webhook: Webhook, handler: F) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    F: Fn(webhook::PayoutEvent) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
{
    post(move |request: Request<Body>| {
        let webhook = webhook.clone();
        let handler = handler.clone();
        async move {
            let body = match raw_body(request).await {
                Ok(body) => body,
                Err(refused) => return refused,
            };
            let handled = tokio::spawn(async move { webhook.handle(&body, handler).await });
            match handled.await {
                Ok(outcome) => outcome.into_response(),
                Err(_) => Outcome::HandlerFailed.into_response(),
            }
        }
    })
    .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}
