//! One attempt of a call: send through the generated core client (which
//! signs) within the per-attempt timeout, then map what came back — an
//! answer's `ret_code`, or a core / reqwest failure — to an [`Error`],
//! quoting at most a bounded, redacted excerpt of an unexpected body.

use std::future::Future;
use std::time::{Duration, Instant};

use pockyt_payouts_core::enums::RetCode;
use pockyt_payouts_core::{BodyTooLong, ResponseValue};

use crate::client::{Client, Deadline};
use crate::endpoint::Endpoint;
use crate::error::{Delivery, Error, EXCERPT_LIMIT};

/// What the generated core client fails with.
pub(crate) type CoreError = pockyt_payouts_core::Error<()>;

/// Every answer carries `ret_code` and `ret_msg`.
pub(crate) trait Answer {
    fn ret_code(&self) -> &RetCode;
    fn ret_msg(&self) -> Option<&str>;
}

/// Implements [`Answer`] for response types: every answer of the spec has
/// `ret_code` and `ret_msg`. The generated code (`generated.rs`) calls it for
/// each operation's response.
macro_rules! answers {
    ($($ty:ty),+ $(,)?) => {$(
        impl $crate::transport::Answer for $ty {
            fn ret_code(&self) -> &pockyt_payouts_core::enums::RetCode { &self.ret_code }
            fn ret_msg(&self) -> Option<&str> { self.ret_msg.as_deref() }
        }
    )+};
}

pub(crate) use answers;

impl Client {
    /// One attempt: send within the smaller of the per-attempt timeout and
    /// the time left before the call's deadline, reading an answer of at
    /// most `max_response_bytes`, then map it.
    pub(crate) async fn attempt<R, F, Fut>(
        &self,
        op: Endpoint,
        retry: u32,
        deadline: &Deadline,
        send: &F,
    ) -> Result<R, Error>
    where
        R: Answer,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<R>, CoreError>>,
    {
        // A free slot first (`max_connections`). The wait counts against
        // the call's deadline, not the attempt's timeout: a call that got
        // its slot late still has its whole timeout on the wire.
        let waiting = deadline.remaining().min(self.timeout);
        if waiting.is_zero() {
            return Err(timed_out(op, deadline.total()));
        }
        let slots = &self.shared.wire_slots;
        // A free slot is taken at once, without arming a timer.
        let _slot = match slots.try_acquire() {
            Ok(slot) => slot,
            Err(_) => match tokio::time::timeout(waiting, slots.acquire()).await {
                Ok(Ok(slot)) => slot,
                // Timed out waiting (the semaphore is never closed): nothing sent.
                _ => return Err(self.no_free_slot(op, waiting)),
            },
        };
        let left = deadline.remaining();
        // The timeout this attempt fails with: its own, or the call's
        // deadline when that ends first.
        let (allowed, expired) = if left < self.timeout {
            (left, deadline.total())
        } else {
            (self.timeout, self.timeout)
        };
        if allowed.is_zero() {
            // The deadline passed while waiting: still nothing sent.
            return Err(self.no_free_slot(op, waiting));
        }
        let started = Instant::now();
        tracing::debug!(operation = op.name(), path = op.path(), retry, "sending");
        let limit = self.shared.config.max_response_bytes;
        let result = tokio::time::timeout(allowed, async {
            match pockyt_payouts_core::with_response_limit(limit, send()).await {
                Ok(answer) => Ok(answer.into_inner()),
                Err(error) => Err(self.map_core_error(op, error, expired).await),
            }
        })
        .await
        .unwrap_or_else(|_| Err(timed_out(op, expired)));
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok(answer) if answer.ret_code().is_success() => {
                tracing::debug!(
                    operation = op.name(),
                    elapsed_ms,
                    ret_code = "000100",
                    "answered"
                );
                Ok(answer)
            }
            Ok(answer) => {
                tracing::debug!(operation = op.name(), elapsed_ms, ret_code = %answer.ret_code(), "refused");
                Err(Error::Api {
                    operation: op,
                    ret_code: answer.ret_code().clone(),
                    ret_msg: self
                        .shared
                        .redactor
                        .text(answer.ret_msg().unwrap_or_default()),
                })
            }
            Err(error) => {
                tracing::debug!(operation = op.name(), elapsed_ms, error_code = %error.code(), "failed");
                Err(error)
            }
        }
    }

    /// `NETWORK_ERROR`, nothing sent: every one of the client's
    /// `max_connections` slots stayed busy until the attempt's time ran out.
    fn no_free_slot(&self, op: Endpoint, waited: Duration) -> Error {
        tracing::debug!(operation = op.name(), "no free connection slot");
        Error::Network {
            operation: op,
            message: format!(
                "all {} slots of max_connections stayed busy for {} ms",
                self.shared.config.max_connections,
                waited.as_millis()
            ),
            delivery: Delivery::NotSent,
        }
    }

    /// The start of `body`, redacted.
    fn excerpt(&self, body: &[u8]) -> String {
        self.shared.redactor.excerpt(body, EXCERPT_LIMIT)
    }

    async fn map_core_error(&self, op: Endpoint, error: CoreError, expired: Duration) -> Error {
        match error {
            CoreError::InvalidRequest(message) => {
                Error::invalid_request("params", self.shared.redactor.text(&message))
            }
            CoreError::CommunicationError(e)
            | CoreError::ResponseBodyError(e)
            | CoreError::InvalidUpgrade(e) => self.map_reqwest_error(op, &e, expired),
            CoreError::InvalidResponsePayload(body, e) => Error::Decode {
                operation: op,
                status: 200,
                message: self.shared.redactor.text(&format!(
                    "{} answer is not the expected JSON: {e}",
                    op.name()
                )),
                excerpt: self.excerpt(&body),
            },
            CoreError::UnexpectedResponse(mut response) => {
                if let Some(too_long) = response.extensions().get::<BodyTooLong>().copied() {
                    return self.too_long(
                        op,
                        too_long,
                        &response.bytes().await.unwrap_or_default(),
                    );
                }
                let status = response.status().as_u16();
                let mut body = Vec::new();
                // Keep only the start of the body: enough to see what the
                // server said, bounded whatever it sends.
                while body.len() <= EXCERPT_LIMIT {
                    match response.chunk().await {
                        Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                        _ => break,
                    }
                }
                Error::Http {
                    status,
                    excerpt: self.excerpt(&body),
                }
            }
            CoreError::ErrorResponse(value) => Error::Http {
                status: value.status().as_u16(),
                excerpt: String::new(),
            },
            CoreError::Custom(message) => Error::Network {
                operation: op,
                message: self.shared.redactor.text(&message),
                delivery: Delivery::MaybeReceived,
            },
        }
    }

    /// An answer longer than the limit (the core stopped reading at it): a
    /// decode error for a success status, else the HTTP error it is.
    fn too_long(&self, op: Endpoint, too_long: BodyTooLong, start: &[u8]) -> Error {
        if (200..300).contains(&too_long.status) {
            Error::Decode {
                operation: op,
                status: too_long.status,
                message: format!(
                    "{} answer is longer than max_response_bytes ({} bytes); reading stopped there",
                    op.name(),
                    too_long.limit
                ),
                excerpt: self.excerpt(start),
            }
        } else {
            Error::Http {
                status: too_long.status,
                excerpt: self.excerpt(start),
            }
        }
    }

    fn map_reqwest_error(&self, op: Endpoint, error: &reqwest::Error, expired: Duration) -> Error {
        if error.is_timeout() && !error.is_connect() {
            return timed_out(op, expired);
        }
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        let message = self.excerpt(message.as_bytes());
        let delivery = if error.is_connect() {
            Delivery::NotSent
        } else {
            Delivery::MaybeReceived
        };
        Error::Network {
            operation: op,
            message,
            delivery,
        }
    }
}

/// `TIMEOUT` for `op`, naming the timeout (or deadline) that expired.
pub(crate) fn timed_out(op: Endpoint, expired: Duration) -> Error {
    Error::Timeout {
        operation: op,
        after_ms: u64::try_from(expired.as_millis()).unwrap_or(u64::MAX),
    }
}
