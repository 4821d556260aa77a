//! Running a batch: plan the file, check the funds, settle rows a crash
//! left in `sending`, pay the rest with bounded concurrency and pace, and
//! write every outcome to the journal in groups.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use pockyt_payouts_core::enums::{PayoutStatus, RetCode};
use pockyt_payouts_core::money::Amount;
use pockyt_payouts_core::types::{BalanceParams, InquirePayoutParams, PayParams, Payout};
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Instant;

use super::error::{BatchError, Shortfall};
use super::input::{self, InputFormat, Rows};
use super::journal::{BatchInfo, JournalRow, Outcome, PlanEntry, PlanMode, PlannedRow, RowState};
use super::lanes::Lanes;
use super::report::BatchReport;
use super::{Batch, Phase, Progress};
use crate::client::Client;
use crate::error::Error;
use crate::idempotency::derived_pay_key;
use crate::reconcile::is_same_payout;
use crate::retry::never_reached_server;

/// Rows claimed (`planned` → `sending`) per durable write: enough that a
/// write's fsync is shared by many pays. Rows claimed but not yet sent
/// when a run dies are settled by inquiry on the next run (found nowhere,
/// then sent with their key), so a larger claim costs a crash only
/// inquiries.
const CLAIM_MIN: usize = 512;
const CLAIM_MAX: usize = 2048;
/// With a rate limit, a claim holds about this much of the pace, so that
/// claims (whose time a resume waits from before settling rows a crash
/// left `sending`) keep coming every few seconds while rows are sent.
const CLAIM_AHEAD: Duration = Duration::from_secs(2);
/// Outcomes written to the journal in one transaction at most.
const RECORD_GROUP: usize = 2048;
/// Outcomes gathered before a write, unless no pay is left in flight or
/// the oldest has waited [`RECORD_DELAY`]: a write (and its fsync) per
/// outcome or two would cost a fast server more than its pays. An outcome
/// not yet written when a run dies leaves its row `sending`, which the
/// next run settles by inquiry.
const RECORD_BATCH: usize = 1024;
const RECORD_DELAY: Duration = Duration::from_millis(50);
/// Pays in a row that never reached the server before the run stops
/// claiming rows (the rest stay `planned` for the next run).
const MAX_UNREACHED_IN_A_ROW: u64 = 64;
/// How often a pay waiting for its turn under a rate limit looks for a stop.
const STOP_CHECK: Duration = Duration::from_millis(100);
/// How often the checking phase reports progress, in rows.
const CHECK_PROGRESS_EVERY: u64 = 10_000;
/// Checked rows handed from the file's reader to the journal at a time,
/// and chunks the reader may be ahead.
const PLAN_CHUNK: usize = 256;
const PLAN_CHUNKS: usize = 8;

/// A checked row (or refused one) on its way to the journal.
type PlanResult = Result<PlanEntry, BatchError>;

/// Progress of the checking phase: `done` rows read, of `total` (0 until
/// the file's end is reached).
fn checking(done: u64, total: u64) -> Progress {
    Progress {
        phase: Phase::Checking,
        total,
        done,
        paid: 0,
        problems: 0,
    }
}

/// The state a payout's status puts its row in.
pub(crate) fn state_of(payout: &Payout) -> RowState {
    match payout.status {
        Some(PayoutStatus::Success) => RowState::Success,
        Some(PayoutStatus::Failed) => RowState::Failed,
        Some(PayoutStatus::Returned) => RowState::Returned,
        // Pending, a status this SDK does not know, or none: not final yet.
        _ => RowState::Pending,
    }
}

/// The outcome of a payout the API holds for a row.
pub(crate) fn found(row: &JournalRow, payout: &Payout) -> Outcome {
    Outcome {
        invoice_id: row.invoice_id.clone(),
        state: state_of(payout),
        transaction_no: payout.transaction_no.clone(),
        error_code: None,
        error_message: None,
    }
}

/// The outcome of a row that ended with an error.
fn failure(row: &JournalRow, state: RowState, error: &Error) -> Outcome {
    Outcome {
        invoice_id: row.invoice_id.clone(),
        state,
        transaction_no: None,
        error_code: Some(error.code().as_str().to_owned()),
        error_message: Some(error.to_string()),
    }
}

/// The pay a journaled row asks for.
pub(crate) fn params_of(row: &JournalRow) -> Result<PayParams, Error> {
    serde_json::from_str(&row.params).map_err(|e| {
        Error::invalid_request(
            "params",
            format!("the journal's copy of row {} cannot be read: {e}", row.row),
        )
    })
}

/// What one row's handling came to.
pub(super) enum Handled {
    Done(Outcome),
    /// Nothing reached the server: back to `planned`.
    Unsent(String),
    /// A row a crash left in `sending` whose fate could not be learnt
    /// (the API could not be reached): it stays `sending`, for the next run.
    Keep,
}

/// Paces pays: at most one start per `interval`.
pub(super) struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pace {
    fn new(rate: Option<f64>) -> Option<Pace> {
        rate.map(|rate| Pace {
            interval: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(Instant::now()),
        })
    }

    /// Waits for this pay's turn; `false` when `stopping` answers true
    /// first (asked every [`STOP_CHECK`] of the wait, so a stop never
    /// waits out a slow pace).
    pub(super) async fn wait(&self, stopping: &impl Fn() -> bool) -> bool {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let at = (*next).max(Instant::now());
            *next = at.checked_add(self.interval).unwrap_or(at);
            at
        };
        while Instant::now() < at {
            if stopping() {
                return false;
            }
            tokio::time::sleep_until(at.min(Instant::now() + STOP_CHECK)).await;
        }
        !stopping()
    }
}

/// Pays one row (or settles one a crash left in `sending`).
/// `stopping` is asked before the pay: a row whose turn comes after a
/// stop is not sent. (The pace is waited for before the row is taken.)
pub(super) async fn handle(
    client: &Client,
    row: &JournalRow,
    stopping: impl Fn() -> bool,
) -> Handled {
    let params = match params_of(row) {
        Ok(params) => params,
        Err(error) => return Handled::Done(failure(row, RowState::Refused, &error)),
    };
    if row.state == RowState::Sending {
        // It may have been sent before the crash: look it up first.
        let inquiry = client
            .inquire_payout(InquirePayoutParams::builder().invoice_id(row.invoice_id.clone()))
            .await;
        match inquiry {
            Ok(payout) if is_same_payout(&payout, &params) => {
                return Handled::Done(found(row, &payout))
            }
            Ok(_) => {
                let error = Error::Api {
                    operation: crate::Endpoint::from(
                        pockyt_payouts_core::operation::Operation::Pay,
                    ),
                    ret_code: RetCode::ParametersDoNotMatch,
                    ret_msg: format!(
                        "the payout under invoiceId {:?} has other details than this row",
                        row.invoice_id
                    ),
                };
                return Handled::Done(failure(row, RowState::Unknown, &error));
            }
            Err(error) if matches!(error.ret_code(), Some(RetCode::NoRelatedInformation)) => {}
            // Cannot tell, and sending now could be a second payout: the
            // row stays `sending` for the next run to settle.
            Err(_) => return Handled::Keep,
        }
    }
    if stopping() {
        return match row.state {
            RowState::Planned => Handled::Unsent(row.invoice_id.clone()),
            // Still not known whether it was sent before the crash.
            _ => Handled::Keep,
        };
    }
    let keyed = match client.with_idempotency_key(row.idempotency_key.clone()) {
        Ok(keyed) => keyed,
        Err(error) => return Handled::Done(failure(row, RowState::Refused, &error)),
    };
    match keyed.pay(params).await {
        Ok(payout) => Handled::Done(found(row, &payout)),
        Err(error @ Error::PayoutOutcomeUnknown { .. }) => {
            Handled::Done(failure(row, RowState::Unknown, &error))
        }
        Err(error) if never_reached_server(&error) => match row.state {
            RowState::Planned => Handled::Unsent(row.invoice_id.clone()),
            // A row left in `sending` stays there: nothing is learnt.
            _ => Handled::Keep,
        },
        // Every other error of `pay` means no payout was made.
        Err(error) => Handled::Done(failure(row, RowState::Refused, &error)),
    }
}

impl Batch {
    /// Runs the batch of `file`: checks and journals every row (or, when
    /// the journal already holds this file's batch, resumes it), checks the
    /// funds, then pays every row not yet paid. Returns the report; rows
    /// that failed are in it, not an `Err`. Errors are about the batch as
    /// a whole: a refused file or row (nothing sent), insufficient funds,
    /// another run in progress, a journal that cannot be written.
    pub async fn run(&self, file: impl AsRef<Path>) -> Result<BatchReport, BatchError> {
        self.options.check()?;
        // Only a dry run without a funds check can do without a client:
        // it calls nothing.
        if !(self.options.dry_run && self.options.skip_funds_check) {
            self.client()?;
        }
        let file = file.as_ref().to_path_buf();
        let lock = self.blocking(|j| j.lock()).await?;
        // Checked before anything is read or sent; recorded before the
        // first row is sent (`pay_rows`), so a run refused before then
        // binds nothing.
        self.bind_merchant(false).await?;
        let digest = {
            let path = file.clone();
            self.blocking(move |_| input::digest(&path)).await?
        };
        let existing = {
            let digest = digest.clone();
            self.blocking(move |j| j.find_batch(&digest)).await?
        };
        let batch = match existing {
            Some(batch) => batch,
            None => {
                let outcome = self.plan(&file, &digest).await?;
                if outcome.invalid > 0 && !self.options.skip_invalid {
                    return Err(BatchError::InvalidRows {
                        count: outcome.invalid,
                        rows: outcome.errors,
                    });
                }
                match outcome.batch {
                    Some(batch) => batch,
                    None => {
                        // A dry run of a new file: nothing was kept.
                        if !self.options.skip_funds_check {
                            self.check_funds(&outcome.totals).await?;
                        }
                        return Ok(BatchReport::planned(&file, &outcome));
                    }
                }
            }
        };
        if self.options.dry_run {
            if !self.options.skip_funds_check {
                let totals = self.totals_to_pay(&batch).await?;
                self.check_funds(&totals).await?;
            }
            return self.report_of(batch, true).await;
        }
        self.pay_all(&batch, true).await?;
        drop(lock);
        self.report_of(batch, false).await
    }

    /// Checks every row of `file` and journals the batch (kept unless a
    /// dry run).
    async fn plan(&self, file: &Path, digest: &str) -> Result<super::PlanOutcome, BatchError> {
        let format = self
            .options
            .format
            .unwrap_or_else(|| InputFormat::from_path(file));
        let mode = PlanMode {
            skip_invalid: self.options.skip_invalid,
            commit: !self.options.dry_run,
        };
        // Without a client (a dry run, which keeps nothing) the keys are
        // made for no merchant.
        let (merchant, store) = match &self.client {
            Some(client) => (
                client.config().merchant_no().to_owned(),
                client.config().store_no().to_owned(),
            ),
            None => (String::new(), String::new()),
        };
        let path = file.to_path_buf();
        let source = path.display().to_string();
        let digest = digest.to_owned();
        let batch = self.clone();
        self.blocking(move |journal| {
            let mut rows = Rows::open(&path, format)?;
            // Reading and checking the file (this thread's reader) and
            // writing the journal (here) run side by side, a chunk of
            // rows handed over at a time.
            let (send, receive) = std::sync::mpsc::sync_channel::<Vec<PlanResult>>(PLAN_CHUNKS);
            // Rows in the file, set once the reader has read it to the end:
            // until then, the reader's channel closing means it stopped
            // short (it panicked), and the plan must not be committed.
            let rows_in_file = OnceLock::new();
            std::thread::scope(|scope| {
                let rows_in_file = &rows_in_file;
                let batch = &batch;
                scope.spawn(move || {
                    let mut read = 0u64;
                    let mut chunk = Vec::with_capacity(PLAN_CHUNK);
                    loop {
                        let next = rows.next_row();
                        read += 1;
                        if read.is_multiple_of(CHECK_PROGRESS_EVERY) {
                            batch.tell(checking(read, 0));
                        }
                        let entry = match next {
                            Ok(None) => break,
                            Err(error) => Err(error),
                            Ok(Some(Err(refused))) => Ok(PlanEntry::Invalid(refused)),
                            Ok(Some(Ok(checked))) => Ok(PlanEntry::Row(planned(
                                &merchant,
                                &store,
                                checked.row,
                                &checked.params,
                            ))),
                        };
                        let failed = entry.is_err();
                        chunk.push(entry);
                        if failed || chunk.len() == PLAN_CHUNK {
                            let full =
                                std::mem::replace(&mut chunk, Vec::with_capacity(PLAN_CHUNK));
                            // The journal stopped reading (it failed): so do we.
                            if send.send(full).is_err() || failed {
                                return;
                            }
                        }
                    }
                    if send.send(chunk).is_ok() {
                        let _ = rows_in_file.set(read - 1);
                    }
                });
                let stopped_short = std::iter::once_with(|| {
                    rows_in_file.get().is_none().then(|| {
                        Err(BatchError::input(
                            &source,
                            None,
                            "file",
                            "could not be read to its end (the reader stopped)",
                        ))
                    })
                })
                .flatten();
                // The receiver moves into `entries`: dropping them lets a
                // reader blocked on a full channel go when the journal
                // stops early.
                let mut entries = receive.into_iter().flatten().chain(stopped_short);
                let outcome = journal.plan(&source, &digest, &mut entries, mode);
                drop(entries);
                if let (Ok(_), Some(rows)) = (&outcome, rows_in_file.get()) {
                    batch.tell(checking(*rows, *rows));
                }
                outcome
            })
        })
        .await
    }

    /// Cents still to pay per currency: the rows not yet sent.
    async fn totals_to_pay(&self, batch: &BatchInfo) -> Result<BTreeMap<String, u64>, BatchError> {
        let id = batch.id;
        let tallies = self.blocking(move |j| j.tally(id)).await?;
        let mut totals = BTreeMap::new();
        for tally in tallies.into_iter().filter(|t| t.state == RowState::Planned) {
            let total: &mut u64 = totals.entry(tally.currency).or_insert(0);
            *total = total.saturating_add(tally.cents);
        }
        Ok(totals)
    }

    /// Refuses when a currency's balance does not cover its total.
    async fn check_funds(&self, totals: &BTreeMap<String, u64>) -> Result<(), BatchError> {
        let mut shortfalls = Vec::new();
        for (currency, needed) in totals {
            if *needed == 0 {
                continue;
            }
            let balance = self
                .client()?
                .balance(BalanceParams::builder().currency(currency.clone()))
                .await?;
            let available = balance
                .amount
                .as_deref()
                .and_then(|a| Amount::parse_non_negative(a).ok())
                .map_or(0, Amount::minor_units);
            if available < *needed {
                shortfalls.push(Shortfall {
                    currency: currency.clone(),
                    needed: cents_text(*needed),
                    available: cents_text(available),
                });
            }
        }
        if shortfalls.is_empty() {
            Ok(())
        } else {
            Err(BatchError::InsufficientFunds { shortfalls })
        }
    }

    /// Settles the rows left in `sending`, checks the funds (when
    /// `check_funds`), then pays every `planned` row.
    async fn pay_all(&self, batch: &BatchInfo, check_funds: bool) -> Result<(), BatchError> {
        let id = batch.id;
        let tallies = self.blocking(move |j| j.tally(id)).await?;
        let count = |state| {
            tallies
                .iter()
                .filter(|t| t.state == state)
                .map(|t| t.rows)
                .sum::<u64>()
        };
        let total = count(RowState::Sending) + count(RowState::Planned);
        let mut counters = Counters::default();
        // Rows a crash left in `sending` first: they may have been paid, so
        // the funds are checked after they are settled.
        let stranded = self.rows_in(id, &[RowState::Sending]).await?;
        if !stranded.is_empty() {
            // A pay sent just before the crash may still be on its way:
            // as the client does after an unanswered attempt, nothing is
            // sent again until twice the per-attempt timeout has passed
            // since the newest claim (rows found by inquiry meanwhile are
            // settled all the same).
            let window = self.client()?.timeout().saturating_mul(2);
            if let Some(newest) = stranded
                .iter()
                .filter_map(|r| claimed_at(&r.updated_at))
                .max()
            {
                let elapsed = (chrono::Utc::now() - newest).to_std().unwrap_or_default();
                if let Some(wait) = window.checked_sub(elapsed) {
                    tracing::info!(
                        rows = stranded.len(),
                        wait_ms = wait.as_millis() as u64,
                        "batch: waiting before settling rows a crash left in sending"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
            self.pay_rows(id, Source::Rows(stranded), total, &mut counters)
                .await?;
        }
        if check_funds && !self.options.skip_funds_check {
            let totals = self.totals_to_pay(batch).await?;
            self.check_funds(&totals).await?;
        }
        self.pay_rows(id, Source::Claim, total, &mut counters).await
    }

    /// Pays the rows of `source` with the options' concurrency and pace,
    /// recording outcomes in groups.
    ///
    /// Workers ([`Lanes`]) pay the rows, as many at once as the
    /// concurrency; this task keeps them fed (the next claim of rows,
    /// `sending` durably before any of them is handed out) and writes
    /// their outcomes to the journal, side by side with the pays.
    async fn pay_rows(
        &self,
        batch: i64,
        source: Source,
        total: u64,
        counters: &mut Counters,
    ) -> Result<(), BatchError> {
        // The journal is the client's merchant's from the first row sent
        // (settled or paid) on; a run refused before then binds nothing.
        self.bind_merchant(true).await?;
        let client = self.client()?;
        let concurrency = self.concurrency(client);
        let claim_size = claim_size(concurrency, self.options.rate);
        let lanes = Lanes::new(
            claim_size,
            RECORD_BATCH,
            MAX_UNREACHED_IN_A_ROW,
            Arc::clone(&self.stop),
        );
        // This round's stop: set by a stop of the batch, a journal failure,
        // or pays that keep failing to reach the server.
        let mut stop = self.stopping();
        let mut claim_more = false;
        match source {
            Source::Rows(rows) => lanes.add(rows),
            Source::Claim => claim_more = true,
        }
        // Dropped (the run stopped from outside), it aborts the pays in
        // flight: their rows stay `sending`, settled by the next run.
        let mut workers = lanes.spawn_workers(
            concurrency,
            client,
            Pace::new(self.options.rate).map(Arc::new),
        );
        let mut after = 0u64;
        let mut claiming: Option<JoinHandle<Result<Vec<JournalRow>, BatchError>>> = None;
        let mut writing: Option<JoinHandle<Result<(), BatchError>>> = None;
        let mut handled: Vec<Handled> = Vec::new();
        let mut journal_error = None;
        let mut claim_error = None;
        // When the oldest outcome not yet being written was taken.
        let mut oldest_unwritten: Option<Instant> = None;
        let mut closed = false;
        loop {
            stop |= self.stopping();
            if stop {
                lanes.halt();
                claim_more = false;
                // Claimed in this run but not sent: back to planned. (A row
                // a crash left in `sending` stays there.)
                for row in lanes.take_queue() {
                    if row.state == RowState::Planned {
                        handled.push(Handled::Unsent(row.invoice_id));
                    }
                }
            }
            let before = handled.len();
            let taken = lanes.take_done(&mut handled);
            if handled.len() > before {
                oldest_unwritten.get_or_insert_with(Instant::now);
            }
            if taken.unreached_limit_hit && !stop {
                stop = true;
                continue;
            }
            if !claim_more && claiming.is_none() && !closed {
                lanes.close();
                closed = true;
            }
            if claim_more && claiming.is_none() && taken.queued <= claim_size {
                claiming = Some(self.blocking_task(move |j| j.claim(batch, after, claim_size)));
            }
            if journal_error.is_some() {
                // Nothing more is written: the rows in flight stay
                // `sending`, which the next run settles by inquiry.
                handled.clear();
                oldest_unwritten = None;
            }
            let due = oldest_unwritten.is_some_and(|at: Instant| at.elapsed() >= RECORD_DELAY);
            if writing.is_none()
                && !handled.is_empty()
                && (handled.len() >= RECORD_BATCH || taken.idle || stop || due)
            {
                let group: Vec<Handled> =
                    handled.drain(..handled.len().min(RECORD_GROUP)).collect();
                oldest_unwritten = (!handled.is_empty()).then(Instant::now);
                let (outcomes, unsent) = counters.count(group);
                writing = Some(self.blocking_task(move |j| {
                    j.record(&outcomes)?;
                    j.unclaim(&unsent)
                }));
            }
            if workers.is_empty() && claiming.is_none() && writing.is_none() && handled.is_empty() {
                break;
            }
            // Outcomes are taken at least every RECORD_DELAY while pays
            // run, so none waits much longer than that to be written.
            let tick = match oldest_unwritten {
                Some(at) => at + RECORD_DELAY,
                None => Instant::now() + RECORD_DELAY,
            };
            tokio::select! {
                () = lanes.wait() => {}
                Some(ended) = workers.join_next(), if !workers.is_empty() => {
                    worker_ended(ended);
                }
                () = tokio::time::sleep_until(tick), if writing.is_none() => {}
                claimed = async { claiming.as_mut().expect("a claim in progress").await },
                    if claiming.is_some() =>
                {
                    claiming = None;
                    match claimed.map_err(|e| BatchError::journal("the journal's thread", e)).and_then(|r| r) {
                        Ok(rows) => match rows.last() {
                            None => claim_more = false,
                            Some(last) => {
                                after = last.row;
                                // Claimed from `planned` just now: never sent
                                // before. Claimed as the run stopped, they are
                                // put back with the rest of the queue (the
                                // workers, halted, take none).
                                lanes.add(rows.into_iter().map(|mut row| {
                                    row.state = RowState::Planned;
                                    row
                                }));
                            }
                        },
                        Err(error) => {
                            claim_more = false;
                            claim_error = Some(error);
                        }
                    }
                }
                written = async { writing.as_mut().expect("a write in progress").await },
                    if writing.is_some() =>
                {
                    writing = None;
                    match written.map_err(|e| BatchError::journal("the journal's thread", e)).and_then(|r| r) {
                        Ok(()) => {
                            let (paid, problems) = (counters.paid, counters.problems);
                            self.tell(Progress {
                                phase: Phase::Paying,
                                total,
                                done: paid + problems,
                                paid,
                                problems,
                            });
                        }
                        Err(error) => {
                            // Stop sending: the rows in flight stay `sending`.
                            stop = true;
                            journal_error = Some(error);
                        }
                    }
                }
            }
        }
        match journal_error.or(claim_error) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// A worker's end: a pay that panicked panics the run, as it would have
/// polled in place. (Only the run's own drop aborts the workers.)
fn worker_ended(joined: Result<(), JoinError>) {
    if let Err(error) = joined {
        match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(error) => panic!("a pay worker ended early: {error}"),
        }
    }
}

/// Rows taken per claim: many, so that a claim's write is shared by many
/// pays; under a rate limit, no more than [`CLAIM_AHEAD`] of them.
fn claim_size(concurrency: usize, rate: Option<f64>) -> usize {
    let size = (concurrency * 32).clamp(CLAIM_MIN, CLAIM_MAX);
    match rate {
        Some(rate) => ((rate * CLAIM_AHEAD.as_secs_f64()).ceil() as usize).clamp(1, size),
        None => size,
    }
}

/// Where a payment round's rows come from.
enum Source {
    /// These rows (settling `sending` ones).
    Rows(Vec<JournalRow>),
    /// Claimed from the journal's `planned` rows.
    Claim,
}

#[derive(Default)]
struct Counters {
    paid: u64,
    problems: u64,
}

impl Counters {
    /// Counts a group of handled rows as paid or problems, and splits it
    /// into the outcomes to record and the rows to put back to `planned`.
    fn count(&mut self, group: Vec<Handled>) -> (Vec<Outcome>, Vec<String>) {
        let mut outcomes = Vec::with_capacity(group.len());
        let mut unsent = Vec::new();
        for handled in group {
            match handled {
                Handled::Done(outcome) => {
                    if matches!(outcome.state, RowState::Pending | RowState::Success) {
                        self.paid += 1;
                    } else {
                        self.problems += 1;
                    }
                    outcomes.push(outcome);
                }
                Handled::Unsent(id) => {
                    self.problems += 1;
                    unsent.push(id);
                }
                Handled::Keep => {
                    self.problems += 1;
                }
            }
        }
        (outcomes, unsent)
    }
}

/// A checked row as the journal keeps it.
fn planned(merchant: &str, store: &str, row: u64, params: &PayParams) -> PlannedRow {
    PlannedRow {
        row,
        invoice_id: params.invoice_id.clone(),
        currency: params.currency.clone(),
        cents: Amount::parse(&params.amount).map_or(0, Amount::minor_units),
        params: serde_json::to_string(params).unwrap_or_default(),
        idempotency_key: derived_pay_key(merchant, store, params),
    }
}

/// When a row was claimed, from its `updated_at`.
fn claimed_at(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// Cents as an amount with two fraction digits.
pub(crate) fn cents_text(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}
