//! One attempt of a call: send through the generated core client (which
//! signs) within the per-attempt timeout, then map what came back — an
//! answer's `ret_code`, or a core / reqwest failure — to an [`Error`],
//! quoting at most a bounded, redacted excerpt of an unexpected body.

use std::future::Future;
use std::time::Instant;

use pockyt_payouts_core::enums::RetCode;
use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_core::types::{
    AddBankAccountResponse, BalanceResponse, InquirePayoutResponse, ListPayoutAccountsResponse,
    PayResponse, RegisterPayeeResponse, RetrievePayeeResponse, UpdatePayeeResponse,
};
use pockyt_payouts_core::ResponseValue;

use crate::client::Client;
use crate::error::{excerpt, Delivery, Error, EXCERPT_LIMIT};

/// What the generated core client fails with.
pub(crate) type CoreError = pockyt_payouts_core::Error<()>;

/// Every answer carries `ret_code` and `ret_msg`.
pub(crate) trait Answer {
    fn ret_code(&self) -> &RetCode;
    fn ret_msg(&self) -> Option<&str>;
}

macro_rules! answers {
    ($($ty:ty),+ $(,)?) => {$(
        impl Answer for $ty {
            fn ret_code(&self) -> &RetCode { &self.ret_code }
            fn ret_msg(&self) -> Option<&str> { self.ret_msg.as_deref() }
        }
    )+};
}

answers!(
    RegisterPayeeResponse,
    RetrievePayeeResponse,
    UpdatePayeeResponse,
    AddBankAccountResponse,
    ListPayoutAccountsResponse,
    PayResponse,
    InquirePayoutResponse,
    BalanceResponse,
);

impl Client {
    /// One attempt: send within the timeout, then map the answer.
    pub(crate) async fn attempt<R, F, Fut>(
        &self,
        op: Operation,
        retry: u32,
        send: &F,
    ) -> Result<R, Error>
    where
        R: Answer,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<R>, CoreError>>,
    {
        let started = Instant::now();
        tracing::debug!(operation = op.name(), path = op.path(), retry, "sending");
        let result = tokio::time::timeout(self.timeout, async {
            match send().await {
                Ok(answer) => Ok(answer.into_inner()),
                Err(error) => Err(self.map_core_error(op, error).await),
            }
        })
        .await
        .unwrap_or_else(|_| Err(self.timed_out(op)));
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
                    ret_msg: answer.ret_msg().unwrap_or_default().to_owned(),
                })
            }
            Err(error) => {
                tracing::debug!(operation = op.name(), elapsed_ms, error_code = %error.code(), "failed");
                Err(error)
            }
        }
    }

    fn excerpt(&self, body: &[u8]) -> String {
        let [token, digest] = &self.shared.secrets;
        excerpt(body, &[token, digest])
    }

    async fn map_core_error(&self, op: Operation, error: CoreError) -> Error {
        match error {
            CoreError::InvalidRequest(message) => Error::invalid_request("params", message),
            CoreError::CommunicationError(e)
            | CoreError::ResponseBodyError(e)
            | CoreError::InvalidUpgrade(e) => self.map_reqwest_error(op, &e),
            CoreError::InvalidResponsePayload(body, e) => Error::Decode {
                status: 200,
                message: format!("{} answer is not the expected JSON: {e}", op.name()),
                excerpt: self.excerpt(&body),
            },
            CoreError::UnexpectedResponse(mut response) => {
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
                message,
                delivery: Delivery::MaybeReceived,
            },
        }
    }

    pub(crate) fn timed_out(&self, op: Operation) -> Error {
        Error::Timeout {
            operation: op,
            after_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn map_reqwest_error(&self, op: Operation, error: &reqwest::Error) -> Error {
        if error.is_timeout() && !error.is_connect() {
            return self.timed_out(op);
        }
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        let [token, digest] = &self.shared.secrets;
        let message = excerpt(message.as_bytes(), &[token, digest]);
        let delivery = if error.is_connect() {
            Delivery::NotSent
        } else {
            Delivery::MaybeReceived
        };
        Error::Network { message, delivery }
    }
}
