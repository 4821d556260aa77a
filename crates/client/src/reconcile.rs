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
use pockyt_payouts_core::types::{InquirePayoutParams, PayParams, Payout};

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

/// Whether the payout found under a pay's invoiceId is that pay's: every
/// detail the answer shows must match what was sent (amounts compared as
/// [`Amount`]s, so "500" and "500.00" agree).
fn is_same_payout(found: &Payout, sent: &PayParams) -> bool {
    let same = |found: &Option<String>, sent: &str| found.as_deref().is_none_or(|f| f == sent);
    same(&found.customer_no, &sent.customer_no)
        && same(&found.account_token, &sent.account_token)
        && same(&found.currency, &sent.currency)
        && found
            .amount
            .as_deref()
            .is_none_or(|f| cents(f).is_some() && cents(f) == cents(&sent.amount))
}

/// A payout amount in cents ("12.5" is 1250) by the SDK's one rule
/// ([`Amount`]: "5." and zero are not amounts); `None` if it is not one.
fn cents(amount: &str) -> Option<u64> {
    Amount::parse(amount).ok().map(Amount::minor_units)
}

/// Whether a failed attempt was answered by the API itself, so it cannot
/// still create a payout: a ret_code, an undecodable answer, an HTTP status
/// other than a gateway timeout (504).
fn answered_by_the_api(error: &Error) -> bool {
    match error {
        Error::Api { .. } | Error::Decode { .. } => true,
        // A gateway timeout: the origin may still be working on it.
        Error::Http { status, .. } => *status != 504,
        _ => false,
    }
}

impl Client {
    /// Sends a prepared pay, reconciling by inquiry whenever an attempt may
    /// have been received (see [`Client::pay`]), all before the call's
    /// deadline: once it may have been received, a pay the deadline ends is
    /// `PAYOUT_OUTCOME_UNKNOWN`.
    pub(crate) async fn pay_reconciled(&self, params: PayParams) -> Result<Payout, Error> {
        let deadline = &self.start_call()?;
        let op = Endpoint::from(Operation::Pay);
        let core = &self.shared.core;
        // One key for every attempt of this pay: a resend of a pay the API
        // completed gets the first answer back, never a second payout.
        let key = self.pay_key(&params);
        let send = || {
            core.pay()
                .pockyt_request_id(key.clone())
                .body(params.clone())
                .send()
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
                Ok(answer) => match payload(answer.result, Operation::Pay, "result") {
                    Ok(payout) => return Ok(payout),
                    Err(error) => error,
                },
                Err(error) => error,
            };
            let ambiguous = is_ambiguous(&error);
            let not_sent = never_reached_server(&error);
            // An attempt that ended without an answer from the API itself
            // may still be processed: it timed out, the connection broke
            // after the request may have been written, or a gateway timed
            // out (504: the origin may still be working on it). One the
            // server answered (a ret_code, an HTTP status) is over.
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
            match self.find_payout(&params, deadline).await {
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
                // No payout has this invoiceId: send again, same invoiceId,
                // unless this attempt was refused outright (sending again
                // would be refused too).
                // An earlier attempt may still be in flight, so with no
                // retry left (or no time) the outcome stays unknown.
                Ok(Found::None) => {
                    let again = (ambiguous || not_sent)
                        && retries < policy.get_max_retries()
                        && self.backoff(op, &mut retries, &error, deadline).await;
                    if again {
                        continue;
                    }
                    // Every attempt was answered (none can still land) and
                    // the API says no payout has this invoiceId: nothing was
                    // paid. The last failure is the call's, definite; paying
                    // again under the same invoiceId is safe.
                    if !unanswered {
                        tracing::info!(operation = op.name(), error_code = %error.code(), "no payout under this invoiceId after answered attempts");
                        return Err(error);
                    }
                    // An attempt may still land: give it a while to, by
                    // inquiry only (nothing is sent again).
                    return match self.settle(&params, deadline).await {
                        Some(payout) => Ok(payout),
                        None => Err(self.outcome_unknown(&params.invoice_id, error)),
                    };
                }
                // The inquiry could not say. The pay carries its idempotency
                // key, so sending it again is safe: the API answers a pay it
                // completed with the first answer, and processes one it
                // never completed. With no retry (or no time) left, the
                // outcome stays unknown.
                Err(inquiry_error) => {
                    let again = retries < policy.get_max_retries()
                        && self.backoff(op, &mut retries, &error, deadline).await;
                    if !again {
                        let cause = if ambiguous { error } else { inquiry_error };
                        return Err(self.outcome_unknown(&params.invoice_id, cause));
                    }
                }
            }
        }
    }

    /// After the last attempt, when one may still be on its way: inquires
    /// by invoiceId, with growing waits, for twice the per-attempt timeout
    /// (the time an attempt that timed out is given to land) or until the
    /// deadline, whichever comes first. The payout if it appears.
    async fn settle(&self, params: &PayParams, deadline: &Deadline) -> Option<Payout> {
        let window = std::time::Instant::now() + self.timeout.saturating_mul(2);
        let mut wait = self
            .shared
            .config
            .retry
            .get_base_delay()
            .max(Duration::from_millis(10));
        loop {
            let until_window = window.saturating_duration_since(std::time::Instant::now());
            let pause = wait.min(until_window);
            if pause.is_zero() || pause >= deadline.remaining() {
                return None;
            }
            tokio::time::sleep(pause).await;
            tracing::info!(
                operation = "pay",
                "payout outcome unclear; inquiring again while an attempt may land"
            );
            if let Ok(Found::Same(payout)) = self.find_payout(params, deadline).await {
                return Some(*payout);
            }
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
        let params = InquirePayoutParams {
            invoice_id: pay.invoice_id.clone(),
        };
        let core = &self.shared.core;
        let found = self
            .run(op.into(), deadline, false, || {
                core.inquire_payout().body(params.clone()).send()
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
