//! Following a batch up: pending and unknown rows brought to their final
//! status by inquiry, and verified IPNs recorded.

use std::path::Path;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

use pockyt_payouts_core::enums::PayoutStatus;
use pockyt_payouts_core::types::{InquirePayoutParams, PayoutEvent};

use super::error::BatchError;
use super::journal::{JournalRow, Outcome, RowState};
use super::report::BatchReport;
use super::run::{found, params_of};
use super::{Batch, Phase, Progress};
use crate::client::Client;
use crate::reconcile::is_same_payout;

/// The longest wait between two rounds of [`Batch::status`].
const MAX_STATUS_BACKOFF: Duration = Duration::from_secs(30);
/// The states of rows that await their final status.
const AWAITING: &[RowState] = &[RowState::Sending, RowState::Pending, RowState::Unknown];

/// What the API says of one row's payout, when it holds this row's payout;
/// `None` when it holds another under the invoiceId, none (000021), or
/// does not answer: nothing learnt this round.
async fn inquire(client: Client, row: JournalRow) -> Option<Outcome> {
    let params = params_of(&row).ok()?;
    match client
        .inquire_payout(InquirePayoutParams::builder().invoice_id(row.invoice_id.clone()))
        .await
    {
        Ok(payout) if is_same_payout(&payout, &params) => Some(found(&row, &payout)),
        _ => None,
    }
}

impl Batch {
    /// Follows the batch of `file` (the journal's latest batch when
    /// `None`) up: inquires every `pending`, `unknown` and `sending` row by
    /// its invoiceId and records what the API says, in rounds
    /// ([`BatchOptions::status_rounds`](super::BatchOptions::status_rounds))
    /// with a growing wait between them, until no row is pending. Sends no
    /// pay: a row the API has no payout for stays as it is (a `sending`
    /// one is settled by the next [`run`](Batch::run)).
    pub async fn status(&self, file: Option<&Path>) -> Result<BatchReport, BatchError> {
        self.options.check()?;
        self.client()?;
        let lock = self.blocking(|j| j.lock()).await?;
        self.bind_merchant(false).await?;
        let batch = self.find(file).await?;
        let mut wait = self.options.status_backoff;
        for round in 0..self.options.status_rounds.max(1) {
            if self.stopping() {
                break;
            }
            let still_awaiting = self.follow_round(batch.id).await?;
            if still_awaiting == 0 || round + 1 == self.options.status_rounds || self.stopping() {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_STATUS_BACKOFF);
        }
        drop(lock);
        self.report_of(batch, false).await
    }

    /// One round of inquiries over the rows awaiting their final status,
    /// a page at a time ([`Batch::next_page`]; each page's answers recorded before the next page
    /// is read, so memory stays flat however large the batch); returns
    /// how many rows still await.
    async fn follow_round(&self, batch: i64) -> Result<u64, BatchError> {
        let client = self.client()?;
        let tallies = self.blocking(move |j| j.tally(batch)).await?;
        let total: u64 = tallies
            .iter()
            .filter(|t| AWAITING.contains(&t.state))
            .map(|t| t.rows)
            .sum();
        let (mut after, mut done, mut answered, mut pending) = (0u64, 0u64, 0u64, 0u64);
        while !self.stopping() {
            let page = self.next_page(batch, AWAITING, &mut after).await?;
            if page.is_empty() {
                break;
            }
            let read = page.len() as u64;
            // A stop starts no further inquiry; those answered are kept.
            let outcomes: Vec<Outcome> = stream::iter(page)
                .take_while(|_| std::future::ready(!self.stopping()))
                .map(|row| inquire(client.clone(), row))
                .buffer_unordered(self.concurrency(client))
                .filter_map(std::future::ready)
                .collect()
                .await;
            done += read;
            answered += outcomes.len() as u64;
            pending += outcomes
                .iter()
                .filter(|o| o.state == RowState::Pending)
                .count() as u64;
            self.blocking(move |j| j.record(&outcomes)).await?;
            self.tell(Progress {
                phase: Phase::Following,
                total: total.max(done),
                done,
                paid: answered,
                problems: done - answered,
            });
        }
        // Rows not answered (unknown, not found) or not reached (a stop)
        // still await.
        Ok(pending + (total.max(done) - answered))
    }

    /// Records a verified IPN ([`crate::webhook::construct_event`]) in the
    /// journal: the row with the event's invoiceId moves to the event's
    /// status, unless that would take back a final status. Returns whether
    /// a row changed; an event for a payout of no batch in this journal,
    /// or of another merchant or store than the journal's, is `Ok(false)`.
    pub async fn apply_event(&self, event: &PayoutEvent) -> Result<bool, BatchError> {
        let Some(invoice_id) = event.invoice_id.clone() else {
            return Ok(false);
        };
        // An event of another merchant or store is of no payout here,
        // whatever its invoiceId.
        if let (Some(merchant_no), Some(store_no)) =
            (event.merchant_no.clone(), event.store_no.clone())
        {
            let ours = self
                .blocking(move |j| j.bind_merchant(&merchant_no, &store_no, false))
                .await;
            match ours {
                Ok(()) => {}
                Err(BatchError::OtherMerchant { .. }) => return Ok(false),
                Err(other) => return Err(other),
            }
        }
        let state = match event.status {
            PayoutStatus::Success => RowState::Success,
            PayoutStatus::Failed => RowState::Failed,
            PayoutStatus::Returned => RowState::Returned,
            _ => RowState::Pending,
        };
        let outcome = Outcome {
            invoice_id,
            state,
            transaction_no: Some(event.transaction_no.clone()),
            error_code: None,
            error_message: None,
        };
        let changed = self.blocking(move |j| j.record(&[outcome])).await?;
        Ok(changed > 0)
    }
}
