//! `pay`'s reconciliation: a pay request that may have reached the server
//! is never sent again blindly. The payout is looked up by its invoiceId
//! (`/v3/payouts/inquiry`) and cross-checked against what was sent; only
//! when the API says no payout has that invoiceId is the request sent
//! again. Every other ending after a possibly received attempt is the
//! payout found or `PAYOUT_OUTCOME_UNKNOWN`.

use std::time::Duration;

use pockyt_payouts_core::enums::RetCode;
use pockyt_payouts_core::money::Amount;
use pockyt_payouts_core::operation::Operation;
use pockyt_payouts_core::types::{
    InquirePayoutParams, InquirePayoutResponse, PayParams, PayResponse, Payout,
};

use crate::client::{Client, Deadline};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::operations::payload;
use crate::retry::never_reached_server;

/// Whether a failure may hide a change on the server: the request may have
/// been received and the answer says nothing definite. Only documented
/// refusals are definite; 000000, 000080 and codes this SDK does not know
/// are not.
fn is_ambiguous(error: &Error) -> bool {
    match error {
        Error::InvalidRequest { .. } | Error::InvalidConfig { .. } => false,
        Error::Api { ret_code, .. } => matches!(
            ret_code,
            RetCode::SystemError | RetCode::SupplierSystemError | RetCode::Unknown(_)
        ),
        other => other.may_have_been_received(),
    }
}

/// What an inquiry found under a pay's invoiceId.
enum Found {
    Same(Box<Payout>),
    Other,
    None,
}

/// Whether the payout found under a pay's invoiceId is that pay's: the
/// payee and amount must be shown, and every detail the answer shows must
/// match what was sent (amounts compared as
/// [`Amount`]s, so "500" and "500.00" agree).
pub(crate) fn is_same_payout(found: &Payout, sent: &PayParams) -> bool {
    // The payee and the amount must be shown and match; the account and
    // currency must match when shown.
    let shown = |found: &Option<String>, sent: &str| found.as_deref() == Some(sent);
    let same = |found: &Option<String>, sent: &str| found.as_deref().is_none_or(|f| f == sent);
    shown(&found.customer_no, &sent.customer_no)
        && same(&found.account_token, &sent.account_token)
        && same(&found.currency, &sent.currency)
        && found
            .amount
            .as_deref()
            .is_some_and(|f| cents(f).is_some() && cents(f) == cents(&sent.amount))
}

/// A payout amount in cents ("12.5" is 1250) by the SDK's one rule
/// ([`Amount`]: "5." and zero are not amounts); `None` if it is not one.
fn cents(amount: &str) -> Option<u64> {
    Amount::parse(amount).ok().map(Amount::minor_units)
}

/// Whether a failed attempt was answered by the server in a way that says
/// it is over, so it cannot still create a payout: a ret_code, an
/// undecodable 200 answer, a 4xx, and the two statuses by which a server
/// says it did not fulfil the request (RFC 9110: 500 "prevented it from
/// fulfilling the request", 503 "unable to handle the request"). A 502, a
/// 504 or another 5xx can come from a gateway while the origin is still
/// working on the request, so it does not count (nor does a timeout or a
/// broken connection).
fn answered_by_the_api(error: &Error) -> bool {
    match error {
        Error::Api { .. } | Error::Decode { .. } => true,
        Error::Http { status, .. } => *status < 500 || matches!(status, 500 | 503),
        _ => false,
    }
}

impl Client {
    /// Sends a prepared pay, reconciling by inquiry whenever an attempt may
    /// have been received (see [`Client::pay`]), all before the call's
    /// deadline: once it may have been received, a pay the deadline ends is
    /// `PAYOUT_OUTCOME_UNKNOWN`.
    ///
    /// Every attempt sends `params` (borrowed, not copied) to
    /// `operation`'s path with the pay's key as its `Pockyt-Request-ID`.
    pub(crate) async fn pay_reconciled(
        &self,
        operation: Operation,
        params: PayParams,
    ) -> Result<Payout, Error> {
        let deadline = &self.start_call()?;
        let op = Endpoint::from(operation);
        let core = &self.shared.core;
        // One key for every attempt of this pay: a resend of a pay the API
        // completed gets the first answer back, never a second payout.
        let key = self.pay_key(&params);
        let send = || {
            pockyt_payouts_core::send_signed::<_, PayResponse>(
                core,
                operation,
                &params,
                Some(key.as_str()),
            )
        };
        let policy = &self.shared.config.retry;
        let mut retries = 0u32;
        // Set once an attempt may have reached the server. From then on only
        // a payout found by inquiry, or a fresh send after the API said no
        // payout has this invoiceId, may end the call with a result; every
        // other ending is PAYOUT_OUTCOME_UNKNOWN, because that attempt may
        // still create the payout.
        let mut maybe_created = false;
        // Whether any attempt may still be on its way (see below).
        let mut unanswered = false;
        loop {
            let error = match self.attempt(op, retries, deadline, &send).await {
                // "Created", but without the payout: look it up like a lost answer.
                Ok(answer) => match payload(answer.result, operation, "result") {
                    Ok(payout) => return Ok(payout),
                    Err(error) => error,
                },
                Err(error) => error,
            };
            let ambiguous = is_ambiguous(&error);
            let not_sent = never_reached_server(&error);
            // An attempt that ended without an answer from the API itself
            // may still be processed: it timed out, the connection broke
            // after the request may have been written, or a 5xx came back
            // (perhaps from a proxy). One the API answered is over.
            if !answered_by_the_api(&error) && error.may_have_been_received() {
                unanswered = true;
            }
            if !ambiguous && !maybe_created {
                // Nothing reached the server: sending again is safe.
                if not_sent
                    && retries < policy.get_max_retries()
                    && self.backoff(op, &mut retries, &error, deadline).await
                {
                    continue;
                }
                // The key (or the invoiceId) was already used with other
                // parameters, say another description: if the payout under
                // this invoiceId is this one (same payee, account, amount,
                // currency), that payout is the answer.
                if matches!(error.ret_code(), Some(RetCode::ParametersDoNotMatch)) {
                    if let Ok(Found::Same(payout)) = self.find_payout(&params, deadline).await {
                        return Ok(*payout);
                    }
                }
                return Err(error);
            }
            maybe_created = true;
            tracing::info!(operation = op.name(), error_code = %error.code(), "payout outcome unclear; inquiring by invoiceId");
            // Look the payout up: at once when the server answered this
            // attempt; when the attempt may still land, by inquiring for a
            // while first (no resend before that: an API may process a
            // repeat of a request it has not completed).
            let this_unanswered = !answered_by_the_api(&error) && error.may_have_been_received();
            let found = if this_unanswered {
                self.settle(&params, deadline).await
            } else {
                self.find_payout(&params, deadline).await
            };
            match found {
                Ok(Found::Same(payout)) => return Ok(*payout),
                // Under this invoiceId the API holds a payout with other
                // details. It is not this pay's, and the server should not
                // create a second one under the same invoiceId; but a wrong
                // "nothing was paid" would invite a second payment, so the
                // caller is told to reconcile.
                Ok(Found::Other) => {
                    let mismatch = Error::Api {
                        operation: op,
                        ret_code: RetCode::ParametersDoNotMatch,
                        ret_msg: format!(
                            "the payout found under invoiceId {:?} has other details (customerNo, accountToken, \
                             amount or currency) than this pay",
                            params.invoice_id
                        ),
                    };
                    return Err(self.outcome_unknown(&params.invoice_id, mismatch));
                }
                // No payout has this invoiceId: send again, same key and
                // invoiceId, unless this attempt was refused outright
                // (sending again would be refused too).
                Ok(Found::None) => {
                    let again = (ambiguous || not_sent)
                        && retries < policy.get_max_retries()
                        && self.backoff(op, &mut retries, &error, deadline).await;
                    if again {
                        continue;
                    }
                    // Every attempt was answered by the server (none can
                    // still land) and the API says no payout has this
                    // invoiceId: nothing was paid. The last failure is the
                    // call's, definite; paying again under the same
                    // invoiceId is safe.
                    if !unanswered {
                        tracing::info!(operation = op.name(), error_code = %error.code(), "no payout under this invoiceId after answered attempts");
                        return Err(error);
                    }
                    // An attempt went unanswered: it may still land.
                    return Err(self.outcome_unknown(&params.invoice_id, error));
                }
                // The inquiry could not say. When the server answered this
                // attempt (it is not in flight), the pay is sent again with
                // its key: the API answers a pay it completed with the first
                // answer. When it may still be in flight, or no retry (or no
                // time) is left, the outcome stays unknown.
                Err(inquiry_error) => {
                    let again = !this_unanswered
                        && retries < policy.get_max_retries()
                        && self.backoff(op, &mut retries, &error, deadline).await;
                    if !again {
                        let cause = if ambiguous { error } else { inquiry_error };
                        return Err(self.outcome_unknown(&params.invoice_id, cause));
                    }
                }
            }
        }
    }

    /// When an attempt may still be on its way: inquires by invoiceId, with
    /// growing waits, for twice the per-attempt timeout (the time an
    /// attempt that timed out is given to land) or until the deadline,
    /// whichever comes first. The payout as soon as it appears (or another
    /// under the invoiceId); else what the last inquiry said.
    async fn settle(&self, params: &PayParams, deadline: &Deadline) -> Result<Found, Error> {
        let window = std::time::Instant::now() + self.timeout.saturating_mul(2);
        let mut wait = self
            .shared
            .config
            .retry
            .get_base_delay()
            .max(Duration::from_millis(10));
        let mut last = self.find_payout(params, deadline).await;
        loop {
            if matches!(last, Ok(Found::Same(_)) | Ok(Found::Other)) {
                return last;
            }
            let until_window = window.saturating_duration_since(std::time::Instant::now());
            let pause = wait.min(until_window);
            if pause.is_zero() || pause >= deadline.remaining() {
                return last;
            }
            tokio::time::sleep(pause).await;
            tracing::info!(
                operation = "pay",
                "payout outcome unclear; inquiring again while an attempt may land"
            );
            last = self.find_payout(params, deadline).await;
            wait = (wait * 2).min(self.timeout.max(Duration::from_millis(10)));
        }
    }

    fn outcome_unknown(&self, invoice_id: &str, cause: Error) -> Error {
        tracing::warn!(operation = "pay", error_code = %cause.code(), "payout outcome unknown");
        Error::PayoutOutcomeUnknown {
            invoice_id: invoice_id.to_owned(),
            cause: Box::new(cause),
        }
    }

    /// What the API holds under a pay's invoiceId: the same payout, another
    /// one (other customer, account, amount or currency), or none (000021);
    /// or the error that kept it from saying.
    async fn find_payout(&self, pay: &PayParams, deadline: &Deadline) -> Result<Found, Error> {
        let op = Operation::InquirePayout;
        let params = &InquirePayoutParams {
            invoice_id: pay.invoice_id.clone(),
        };
        let core = &self.shared.core;
        let found = self
            .run(op.into(), deadline, false, || {
                pockyt_payouts_core::send_signed::<_, InquirePayoutResponse>(core, op, params, None)
            })
            .await
            .and_then(|answer| payload(answer.result, op, "result"));
        match found {
            Ok(payout) if is_same_payout(&payout, pay) => Ok(Found::Same(Box::new(payout))),
            Ok(_) => Ok(Found::Other),
            Err(Error::Api {
                ret_code: RetCode::NoRelatedInformation,
                ..
            }) => Ok(Found::None),
            Err(other) => Err(other),
        }
    }
}
