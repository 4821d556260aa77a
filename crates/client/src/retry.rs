//! When and how failed calls are sent again: the policy, and the loop that
//! applies it to every operation but `pay` (whose loop, which never sends a
//! possibly received payout again, lives in `reconcile`).

use std::future::Future;
use std::time::Duration;

use pockyt_payouts_core::enums::RetCode;
use pockyt_payouts_core::ResponseValue;

use crate::client::{Client, Deadline};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::transport::{Answer, CoreError};

/// How failed calls are retried: at most `max_retries` more attempts, with
/// exponential backoff and full jitter (a random wait between zero and
/// `min(max_delay, base_delay * 2^attempt)`).
///
/// What may be retried depends on the operation and on whether the failed
/// request may have reached the server; see the crate documentation,
/// "Retries and safety".
///
/// ```
/// use pockyt_payouts::RetryPolicy;
/// use std::time::Duration;
/// let policy = RetryPolicy::default().max_retries(4).base_delay(Duration::from_millis(50));
/// assert_eq!(policy.get_max_retries(), 4);
/// assert!(policy.delay_for(3) <= Duration::from_millis(400));
/// assert_eq!(RetryPolicy::none().get_max_retries(), 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, 200 ms base delay, 5 s cap.
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all (a payout whose answer is lost is still looked up,
    /// never sent again).
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Sets the number of retries after the first attempt.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the base delay of the backoff.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Sets the longest wait between two attempts.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The number of retries after the first attempt.
    pub fn get_max_retries(&self) -> u32 {
        self.max_retries
    }

    /// The base delay.
    pub fn get_base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The cap on one wait.
    pub fn get_max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The wait before retry number `attempt` (0 for the first retry):
    /// uniformly random in `[0, min(max_delay, base_delay * 2^attempt)]`.
    pub fn delay_for(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(30)))
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(rand::random_range(0..=nanos))
    }
}

/// Whether a failure is one a read-only call is retried on: connection
/// errors, timeouts, HTTP 5xx, ret_code 000000 or 000080.
pub(crate) fn is_transient(error: &Error) -> bool {
    match error {
        Error::Network { .. } | Error::Timeout { .. } => true,
        Error::Http { status, .. } => *status >= 500,
        Error::Api { ret_code, .. } => matches!(
            ret_code,
            RetCode::SystemError | RetCode::SupplierSystemError
        ),
        _ => false,
    }
}

/// Whether a failure happened before the request was written, so sending
/// again is safe for every operation (input refused before sending is not
/// such a failure: sending it again would be refused again).
pub(crate) fn never_reached_server(error: &Error) -> bool {
    !error.may_have_been_received() && !matches!(error, Error::InvalidRequest { .. })
}

impl Client {
    /// Sends with the retry rule of every operation but `pay`: a request
    /// that never reached the server is always sent again; a read-only call,
    /// or a state-changing call that carries an idempotency key
    /// (`idempotent`: the API answers its resend with the first answer,
    /// without acting twice), also on transient failures. Nothing is sent
    /// after `deadline`: when no time is left for another attempt the last
    /// failure is the call's.
    pub(crate) async fn run<R, F, Fut>(
        &self,
        op: Endpoint,
        deadline: &Deadline,
        idempotent: bool,
        send: F,
    ) -> Result<R, Error>
    where
        R: Answer,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<R>, CoreError>>,
    {
        let policy = &self.shared.config.retry;
        let mut retries = 0u32;
        loop {
            match self.attempt(op, retries, deadline, &send).await {
                Ok(answer) => return Ok(answer),
                Err(error) => {
                    let retry = never_reached_server(&error)
                        || (op.is_read_only() || idempotent) && is_transient(&error);
                    if !retry
                        || retries >= policy.get_max_retries()
                        || !self.backoff(op, &mut retries, &error, deadline).await
                    {
                        return Err(error);
                    }
                }
            }
        }
    }

    /// Waits before retry number `retries + 1` and counts it; `false`
    /// (without waiting) when the wait would leave no time before the
    /// call's deadline for another attempt.
    pub(crate) async fn backoff(
        &self,
        op: Endpoint,
        retries: &mut u32,
        error: &Error,
        deadline: &Deadline,
    ) -> bool {
        let delay = self.shared.config.retry.delay_for(*retries);
        if delay >= deadline.remaining() {
            tracing::info!(operation = op.name(), error_code = %error.code(), "no time left before the deadline for a retry");
            return false;
        }
        *retries += 1;
        tracing::info!(
            operation = op.name(),
            retry = *retries,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error_code = %error.code(),
            "retrying"
        );
        tokio::time::sleep(delay).await;
        true
    }
}
