//! A payout's life after pay: the final status after `settle_delay`, the
//! ledger, and the IPN (webhook) for every status.

use std::sync::Arc;
use std::time::SystemTime;

use pockyt_payouts_core::enums::PayoutStatus;
use pockyt_payouts_sign::{sign_with_digest, SIGNATURE_FIELD};
use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::fault::{strip_prefix_ignore_case, FAULT_INVOICE_PREFIX};
use crate::money::format_cents;
use crate::shared::Shared;
use crate::state::{holds_funds, IpnJob, Payout, State};
use crate::IpnDelivery;

/// The final status a payout gets after `settle_delay`, from its invoiceId
/// (any `fault-<fault>-` test prefix is skipped first): `failed…` →
/// failed, `returned…` → returned, `pending…` → none (stays pending),
/// anything else → success. Prefixes compare without regard to ASCII case.
pub(crate) fn settle_outcome(invoice_id: &str) -> Option<PayoutStatus> {
    let mut rest = invoice_id;
    if let Some(after) = strip_prefix_ignore_case(rest, FAULT_INVOICE_PREFIX) {
        rest = after.split_once('-').map_or("", |(_, tail)| tail);
    }
    if strip_prefix_ignore_case(rest, "failed").is_some() {
        Some(PayoutStatus::Failed)
    } else if strip_prefix_ignore_case(rest, "returned").is_some() {
        Some(PayoutStatus::Returned)
    } else if strip_prefix_ignore_case(rest, "pending").is_some() {
        None
    } else {
        Some(PayoutStatus::Success)
    }
}

/// Starts a new payout's life: its IPN worker (when it has an `ipnUrl`),
/// the `pending` IPN, and the timer to its final status.
pub(crate) fn start(shared: &Arc<Shared>, state: &mut State, index: usize) {
    let payout = &mut state.payouts[index];
    if payout.ipn_url.is_some() {
        let (tx, rx) = mpsc::unbounded_channel();
        payout.ipn_queue = Some(tx);
        shared.spawn(ipn_worker(Arc::clone(shared), rx));
    }
    notify(shared, payout);
    if let Some(outcome) = settle_outcome(&payout.invoice_id) {
        let task = settle(
            Arc::clone(shared),
            payout.invoice_id.clone(),
            payout.uid,
            payout.version,
            outcome,
        );
        shared.spawn(task);
    }
}

async fn settle(
    shared: Arc<Shared>,
    invoice_id: String,
    uid: u64,
    version: u64,
    outcome: PayoutStatus,
) {
    tokio::time::sleep(shared.config.settle_delay).await;
    let mut state = shared.lock();
    let Some(index) = state.payout_index(&invoice_id) else {
        return;
    };
    let payout = &state.payouts[index];
    // Another status was forced meanwhile, or this is a later payout.
    if payout.uid != uid || payout.version != version {
        return;
    }
    // Giving funds back cannot fail; success keeps what pending held.
    let _ = change_status(&shared, &mut state, index, outcome);
}

/// Moves a payout to `status`: adjusts the ledger (pending and success
/// hold the amount, failed and returned give it back) and sends the IPN.
/// Fails, changing nothing, when holding the amount again needs more than
/// the balance.
pub(crate) fn change_status(
    shared: &Shared,
    state: &mut State,
    index: usize,
    status: PayoutStatus,
) -> Result<(), String> {
    let payout = &mut state.payouts[index];
    let balance = state.balances.entry(payout.currency.clone()).or_insert(0);
    match (holds_funds(&payout.status), holds_funds(&status)) {
        (true, false) => *balance += payout.amount_cents,
        (false, true) => {
            if *balance < payout.amount_cents {
                return Err(format!(
                    "the {} balance ({}) is not sufficient to hold this payout's {} again",
                    payout.currency,
                    format_cents(*balance),
                    format_cents(payout.amount_cents)
                ));
            }
            *balance -= payout.amount_cents;
        }
        _ => {}
    }
    payout.status = status;
    payout.version += 1;
    notify(shared, payout);
    Ok(())
}

/// Sends the IPN of a payout's current status again (freshly signed, as the
/// API's resends are), as if it were resent: `false` when the payout has no
/// `ipnUrl`.
pub(crate) fn resend_ipn(shared: &Shared, payout: &Payout) -> bool {
    if payout.ipn_url.is_none() || payout.ipn_queue.is_none() {
        return false;
    }
    notify(shared, payout);
    true
}

/// Queues the IPN for the payout's current status, if it has an `ipnUrl`.
fn notify(shared: &Shared, payout: &Payout) {
    let (Some(url), Some(queue)) = (&payout.ipn_url, &payout.ipn_queue) else {
        return;
    };
    let fields = ipn_fields(shared, payout);
    // The worker is gone only when the sandbox is being reset or stopped.
    let _ = queue.send(IpnJob {
        url: url.clone(),
        fields,
    });
}

/// The IPN of a payout's current status, signed with the API token.
fn ipn_fields(shared: &Shared, payout: &Payout) -> Vec<(String, String)> {
    let time = chrono::DateTime::<chrono::Utc>::from(SystemTime::now())
        .format("%Y%m%d%H%M%S")
        .to_string();
    let amount = format_cents(payout.amount_cents);
    let mut fields: Vec<(String, String)> = [
        ("merchantNo", shared.config.merchant_no.as_str()),
        ("storeNo", shared.config.store_no.as_str()),
        ("transactionNo", payout.transaction_no.as_str()),
        ("reference", payout.invoice_id.as_str()),
        ("status", payout.status.as_str()),
        ("amount", amount.as_str()),
        ("currency", payout.currency.as_str()),
        ("settleCurrency", payout.currency.as_str()),
        ("customerNo", payout.customer_no.as_str()),
        ("time", time.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signature = sign_with_digest(fields.iter().map(|(k, v)| (k, v)), &shared.digest);
    fields.push((SIGNATURE_FIELD.to_owned(), signature));
    fields
}

/// Delivers one payout's notifications, in order, each until the receiver
/// answers `success` or the tries run out.
async fn ipn_worker(shared: Arc<Shared>, mut queue: UnboundedReceiver<IpnJob>) {
    while let Some(job) = queue.recv().await {
        deliver(&shared, &job).await;
    }
}

async fn deliver(shared: &Shared, job: &IpnJob) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(job.fields.iter())
        .finish();
    let schedule = shared.config.ipn_schedule();
    let tries = u32::try_from(schedule.len()).unwrap_or(u32::MAX);
    for (attempt, wait) in (1u32..).zip(schedule) {
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let sent = shared
            .http
            .post(&job.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body.clone())
            .send()
            .await;
        let (http_status, error, answer, longer) = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                match read_excerpt(response).await {
                    Ok((answer, longer)) => (Some(status), None, Some(answer), longer),
                    Err(e) => (Some(status), Some(error_chain(&e)), None, false),
                }
            }
            Err(e) => (None, Some(error_chain(&e)), None, false),
        };
        let resend_reason = if longer {
            Some(format!(
                "answered more than {ANSWER_EXCERPT_BYTES} bytes, expected `success`"
            ))
        } else {
            resend_reason(http_status, error.as_deref(), answer.as_deref())
        };
        let answered_success = resend_reason.is_none();
        if shared.log_requests {
            let status = job
                .fields
                .iter()
                .find(|(k, _)| k == "status")
                .map_or("", |(_, v)| v.as_str());
            let verdict = match &resend_reason {
                None => "answered `success`: delivered".to_owned(),
                Some(reason) if attempt < tries => format!("{reason}: will resend"),
                Some(reason) => format!("{reason}: gives up after {attempt} tries"),
            };
            eprintln!(
                "pockyt-sandbox: IPN {status} to {} try {attempt}: {verdict}",
                job.url
            );
        }
        shared.lock().ipn_log.push(IpnDelivery {
            url: job.url.clone(),
            fields: job.fields.clone(),
            attempt,
            http_status,
            error,
            answer,
            resend_reason,
            answered_success,
        });
        if answered_success {
            return;
        }
    }
}

/// At most this many bytes of a receiver's answer are read and kept.
pub(crate) const ANSWER_EXCERPT_BYTES: usize = 200;

/// The first [`ANSWER_EXCERPT_BYTES`] of an answer (lossy UTF-8), and
/// whether it was longer; the rest is never read, so a receiver cannot make
/// the sandbox buffer much.
async fn read_excerpt(mut response: reqwest::Response) -> Result<(String, bool), reqwest::Error> {
    let mut bytes = Vec::new();
    while bytes.len() <= ANSWER_EXCERPT_BYTES {
        match response.chunk().await? {
            Some(chunk) => bytes.extend_from_slice(&chunk),
            None => break,
        }
    }
    let longer = bytes.len() > ANSWER_EXCERPT_BYTES;
    bytes.truncate(ANSWER_EXCERPT_BYTES);
    Ok((String::from_utf8_lossy(&bytes).into_owned(), longer))
}

/// Why a delivery does not count as received, or `None` when the receiver
/// answered 2xx with the plain text `success` (whitespace around it
/// ignored), as the API requires.
pub(crate) fn resend_reason(
    http_status: Option<u16>,
    error: Option<&str>,
    answer: Option<&str>,
) -> Option<String> {
    if let Some(error) = error {
        return Some(match http_status {
            Some(status) => format!("HTTP {status}, the answer could not be read ({error})"),
            None => format!("no answer ({error})"),
        });
    }
    let status = http_status.unwrap_or(0);
    let answer = answer.unwrap_or("");
    let shown = answer.escape_debug().to_string();
    if !(200..300).contains(&status) {
        return Some(format!(
            "answered HTTP {status} `{shown}`, expected HTTP 2xx `success`"
        ));
    }
    if answer.trim() != "success" {
        return Some(format!("answered `{shown}`, expected `success`"));
    }
    None
}

/// An error and its sources, joined with `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resend_reason_names_the_answer() {
        assert_eq!(resend_reason(Some(200), None, Some("success\n")), None);
        assert_eq!(
            resend_reason(Some(200), None, Some("\"success\"")).as_deref(),
            Some("answered `\\\"success\\\"`, expected `success`")
        );
        assert_eq!(
            resend_reason(Some(500), None, Some("boom")).as_deref(),
            Some("answered HTTP 500 `boom`, expected HTTP 2xx `success`")
        );
        assert!(resend_reason(None, Some("connection refused"), None)
            .unwrap()
            .starts_with("no answer"));
    }

    #[test]
    fn outcome_follows_the_invoice_prefix() {
        assert_eq!(settle_outcome("9aae4c68"), Some(PayoutStatus::Success));
        assert_eq!(settle_outcome("failed-1"), Some(PayoutStatus::Failed));
        assert_eq!(settle_outcome("FAILED-1"), Some(PayoutStatus::Failed));
        assert_eq!(settle_outcome("Returned-1"), Some(PayoutStatus::Returned));
        assert_eq!(settle_outcome("pending-1"), None);
        assert_eq!(
            settle_outcome("fault-drop-failed-1"),
            Some(PayoutStatus::Failed)
        );
        assert_eq!(settle_outcome("fault-delay=5-pending-x"), None);
        assert_eq!(settle_outcome("fault-drop"), Some(PayoutStatus::Success));
        assert_eq!(settle_outcome("x-failed"), Some(PayoutStatus::Success));
    }
}
