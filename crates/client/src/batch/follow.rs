//! Following a batch up: pending and unknown rows brought to their final
//! status by inquiry, and verified IPNs recorded.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pockyt_payouts_core::enums::PayoutStatus;
use pockyt_payouts_core::types::{InquirePayoutParams, PayoutEvent};
use tokio::sync::Semaphore;

use super::error::BatchError;
use super::journal::{JournalRow, Outcome, RowState};
use super::report::BatchReport;
use super::run::{found, params_of};
use super::{Batch, Phase, Progress};
use crate::reconcile::is_same_payout;

/// The longest wait between two rounds of [`Batch::status`].
const MAX_STATUS_BACKOFF: Duration = Duration::from_secs(30);

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
        let batch = self.find(file).await?;
        let mut wait = self.options.status_backoff;
        for round in 0..self.options.status_rounds.max(1) {
            if self.stopping() {
                break;
            }
            let rows = self
                .rows_in(
                    batch.id,
                    &[RowState::Sending, RowState::Pending, RowState::Unknown],
                )
                .await?;
            let still_pending = self.follow_round(rows).await?;
            if still_pending == 0 || round + 1 == self.options.status_rounds {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_STATUS_BACKOFF);
        }
        drop(lock);
        self.report_of(batch, false).await
    }

    /// One round of inquiries; returns how many rows are still pending.
    async fn follow_round(&self, rows: Vec<JournalRow>) -> Result<u64, BatchError> {
        let total = rows.len() as u64;
        let permits = Arc::new(Semaphore::new(self.options.concurrency));
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .map_err(|e| BatchError::journal("following up", e))?;
            let client = self.client()?.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = permit;
                let params = params_of(&row).ok()?;
                match client
                    .inquire_payout(
                        InquirePayoutParams::builder().invoice_id(row.invoice_id.clone()),
                    )
                    .await
                {
                    Ok(payout) if is_same_payout(&payout, &params) => Some(found(&row, &payout)),
                    // Another payout under this invoiceId, none (000021), or
                    // no answer: nothing learnt this round.
                    _ => None,
                }
            }));
        }
        let mut outcomes = Vec::new();
        for task in tasks {
            if let Ok(Some(outcome)) = task.await {
                outcomes.push(outcome);
            }
        }
        let pending = outcomes
            .iter()
            .filter(|o| o.state == RowState::Pending)
            .count() as u64;
        let answered = outcomes.len() as u64;
        self.blocking(move |j| j.record(&outcomes)).await?;
        self.tell(Progress {
            phase: Phase::Following,
            total,
            done: total,
            paid: answered,
            problems: total - answered,
        });
        // Rows not answered (unknown, not found) count as still awaiting.
        Ok(pending + (total - answered))
    }

    /// Records a verified IPN ([`crate::webhook::construct_event`]) in the
    /// journal: the row with the event's invoiceId moves to the event's
    /// status, unless that would take back a final status. Returns whether
    /// a row changed; an event for a payout of no batch in this journal is
    /// `Ok(false)`.
    pub async fn apply_event(&self, event: &PayoutEvent) -> Result<bool, BatchError> {
        let Some(invoice_id) = event.invoice_id.clone() else {
            return Ok(false);
        };
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
