//! Batch payouts (feature `batch`): pay every row of a CSV or JSON Lines
//! file, journaled so that a rerun after any crash continues where the
//! last run stopped and never pays a row twice.
//!
//! - **Checked first.** Every row is read and checked by the same rules as
//!   a single [`Client::pay`] before any money moves; each refusal names
//!   the row, the field and the rule ([`RowError`]). An invoiceId used
//!   twice in the file, or already in the journal, is refused
//!   (`DUPLICATE_INVOICE_ID`). With [`BatchOptions::skip_invalid`] the
//!   valid rows run and the rest are reported.
//! - **Journaled.** Each row is one record in the [`Journal`] (SQLite by
//!   default, [`SqliteJournal`]; the trait lets a shared database take its
//!   place when one machine is not enough), with its state, its
//!   idempotency key, its transactionNo and error code. A row is written
//!   `sending` durably before its pay is sent.
//! - **Resumable.** Running the same file again with the same journal
//!   continues the batch (the file's SHA-256 names it). Rows a crash left
//!   in `sending` are settled by inquiry and, only when the API has no
//!   payout under their invoiceId, sent again with the same idempotency
//!   key: never paid as a new payout.
//! - **Funds checked.** Before the first pay, what the rows still to pay
//!   add up to per currency is compared with the balance; a shortfall
//!   refuses to start (`BATCH_INSUFFICIENT_FUNDS`) unless
//!   [`BatchOptions::skip_funds_check`].
//! - **Paced.** [`BatchOptions::concurrency`] pays in flight (default 8),
//!   an optional rate limit, and the client's own retries, idempotency
//!   keys and deadline on every pay.
//! - **Followed up.** [`Batch::status`] brings `pending` and `unknown` rows
//!   to their final status by inquiry (bounded rounds, backing off);
//!   [`Batch::apply_event`] records a verified IPN.
//! - **Reported.** A [`BatchReport`] with counts and totals per currency
//!   and outcome; [`Batch::write_report`] writes every row as CSV or JSON.
//!
//! ```no_run
//! use pockyt_payouts::batch::{Batch, BatchOptions};
//! use pockyt_payouts::Client;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::from_env()?;
//! let batch = Batch::open(client, "may-payouts.csv.journal")?
//!     .with_options(BatchOptions { concurrency: 16, ..BatchOptions::default() })
//!     .on_progress(|p| eprintln!("{}/{} done", p.done, p.total));
//! let report = batch.run("may-payouts.csv").await?;
//! println!("{} paid, problems: {}", report.paid(), !report.is_success());
//! # Ok(()) }
//! ```

mod error;
mod follow;
mod input;
mod journal;
mod lanes;
mod report;
mod run;
mod sqlite;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use error::{BatchError, RowError, Shortfall, MAX_LISTED_ROW_ERRORS};
pub use input::{InputFormat, MAX_ROW_BYTES};
pub use journal::{
    duplicate, BatchInfo, Journal, JournalRow, Outcome, PlanEntry, PlanMode, PlanOutcome,
    PlannedRow, RowState, Tally,
};
pub use report::{BatchReport, ReportFormat};
pub use sqlite::SqliteJournal;

use crate::client::Client;

/// Rows read from the journal at a time when a run or follow-up walks
/// through a batch's rows.
const ROWS_PAGE: usize = 1024;

/// The journal a file's batch uses when none is named: `<file>.journal`
/// beside it.
///
/// ```
/// use std::path::Path;
/// let path = pockyt_payouts::batch::default_journal_path(Path::new("runs/may.csv"));
/// assert_eq!(path, Path::new("runs/may.csv.journal"));
/// ```
pub fn default_journal_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// How a batch runs.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    /// Pays in flight at once (1 to [`BatchOptions::MAX_CONCURRENCY`]).
    /// Default 8. Never more than the client's
    /// [`max_connections`](crate::Config::max_connections) (default 100):
    /// a pay beyond it would only wait for a connection, so the batch
    /// starts at most that many.
    pub concurrency: usize,
    /// At most this many pays started per second; `None` (the default)
    /// for no limit.
    pub rate: Option<f64>,
    /// Check, journal and report, but send nothing: no money moves. The
    /// funds check still runs (it only reads the balance).
    pub dry_run: bool,
    /// Run the valid rows and report the refused ones, instead of refusing
    /// the whole file.
    pub skip_invalid: bool,
    /// Start even when the balance does not cover the rows.
    pub skip_funds_check: bool,
    /// How the file is written; `None` (the default) goes by its name
    /// ([`InputFormat::from_path`]).
    pub format: Option<InputFormat>,
    /// [`Batch::status`]: how many rounds of inquiries at most. Default 5.
    pub status_rounds: u32,
    /// [`Batch::status`]: the wait after the first round that leaves rows
    /// pending, doubled after each round up to 30 s. Default 1 s.
    pub status_backoff: Duration,
}

impl BatchOptions {
    /// The most pays in flight a batch allows.
    pub const MAX_CONCURRENCY: usize = 256;
    /// The lowest rate a batch allows: one pay an hour.
    pub const MIN_RATE: f64 = 1.0 / 3600.0;

    fn check(&self) -> Result<(), BatchError> {
        if !(1..=Self::MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(crate::Error::invalid_config(
                "concurrency",
                &format!("must be from 1 to {}", Self::MAX_CONCURRENCY),
            )
            .into());
        }
        if let Some(rate) = self.rate {
            if !(rate.is_finite() && rate >= Self::MIN_RATE) {
                return Err(crate::Error::invalid_config(
                    "rate",
                    &format!("must be at least {} payouts per second", Self::MIN_RATE),
                )
                .into());
            }
        }
        Ok(())
    }
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            concurrency: 8,
            rate: None,
            dry_run: false,
            skip_invalid: false,
            skip_funds_check: false,
            format: None,
            status_rounds: 5,
            status_backoff: Duration::from_secs(1),
        }
    }
}

/// What a batch is doing, as the progress callback sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Reading and checking the file's rows (`done` counts rows read).
    Checking,
    /// Paying (and settling rows a crash left in `sending`).
    Paying,
    /// Following pending and unknown rows up by inquiry.
    Following,
}

/// Progress of a batch, given to [`Batch::on_progress`]'s callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    /// What the batch is doing.
    pub phase: Phase,
    /// How many rows this phase has to handle (`0` while checking, when
    /// the count is not known yet).
    pub total: u64,
    /// How many it has handled.
    pub done: u64,
    /// Of those, how many ended `pending` or `success`.
    pub paid: u64,
    /// Of those, how many ended otherwise (refused, unknown, failed,
    /// returned, or put back unsent).
    pub problems: u64,
}

type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// A batch of payouts over one journal: [`run`](Batch::run) a file,
/// follow it up ([`status`](Batch::status)), [`report`](Batch::report) it.
#[derive(Clone)]
pub struct Batch {
    client: Option<Client>,
    journal: Arc<dyn Journal>,
    options: BatchOptions,
    progress: Option<ProgressFn>,
    stop: Arc<AtomicBool>,
}

/// Asks a running batch to stop cleanly ([`Batch::stop_handle`]): no new
/// pay starts, the pays in flight finish and are recorded, and rows
/// claimed but not sent go back to `planned`. The run then returns its
/// report; a rerun continues.
#[derive(Clone, Debug)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Stops the batch's run (or `status`) in progress, and the next one
    /// before it sends anything.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("client", &self.client)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Batch {
    /// A batch paying through `client`, journaled in `journal`.
    pub fn new(client: Client, journal: impl Journal) -> Batch {
        Batch {
            client: Some(client),
            ..Batch::journal_only(journal)
        }
    }

    /// A batch over `journal` with no client (no credentials needed):
    /// [`report`](Batch::report), [`write_report`](Batch::write_report)
    /// and [`apply_event`](Batch::apply_event) work, and so does a
    /// [`run`](Batch::run) with `dry_run` and `skip_funds_check` (it calls
    /// nothing); other runs and [`status`](Batch::status), which call the
    /// API, refuse with `INVALID_CONFIG`.
    pub fn journal_only(journal: impl Journal) -> Batch {
        Batch {
            client: None,
            journal: Arc::new(journal),
            options: BatchOptions::default(),
            progress: None,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// [`Batch::journal_only`] over the SQLite journal at `journal`, which
    /// must exist (`BATCH_NOT_FOUND` otherwise: a mistyped path is not an
    /// empty journal).
    pub fn open_journal_only(journal: impl AsRef<Path>) -> Result<Batch, BatchError> {
        let path = journal.as_ref();
        if !path.exists() {
            return Err(BatchError::NotFound {
                what: format!("there is no journal at {}", path.display()),
            });
        }
        Ok(Batch::journal_only(SqliteJournal::open(path)?))
    }

    /// A handle that stops this batch's run cleanly (see [`StopHandle`]);
    /// shared by every clone of this batch.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(Arc::clone(&self.stop))
    }

    /// Whether a stop was asked for.
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// How many calls (pays, or status inquiries) run at once: the
    /// options' concurrency, but no more than `client` has connection
    /// slots, since a call past them would only queue inside the client
    /// (and could time out there).
    fn concurrency(&self, client: &Client) -> usize {
        self.options.concurrency.clamp(1, client.max_connections())
    }

    /// The client, unless this batch is read-only.
    fn client(&self) -> Result<&Client, BatchError> {
        self.client.as_ref().ok_or_else(|| {
            crate::Error::invalid_config(
                "client",
                "this batch has no client (Batch::journal_only); open it with one to pay or follow up",
            )
            .into()
        })
    }

    /// A batch journaled in the SQLite file at `journal` (created if
    /// missing).
    pub fn open(client: Client, journal: impl AsRef<Path>) -> Result<Batch, BatchError> {
        Ok(Batch::new(client, SqliteJournal::open(journal)?))
    }

    /// This batch with these options.
    pub fn with_options(mut self, options: BatchOptions) -> Batch {
        self.options = options;
        self
    }

    /// This batch, calling `callback` as rows are checked and paid (from
    /// the batch's own threads, at most a few times per group of rows
    /// written).
    pub fn on_progress(mut self, callback: impl Fn(&Progress) + Send + Sync + 'static) -> Batch {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// The options.
    pub fn options(&self) -> &BatchOptions {
        &self.options
    }

    /// The journal.
    pub fn journal(&self) -> &dyn Journal {
        self.journal.as_ref()
    }

    fn tell(&self, progress: Progress) {
        if let Some(callback) = &self.progress {
            callback(&progress);
        }
    }

    /// Runs `f` on the journal off the async runtime's worker threads.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Journal) -> Result<T, BatchError> + Send + 'static,
    ) -> Result<T, BatchError> {
        self.blocking_task(f)
            .await
            .map_err(|e| BatchError::journal("the journal's thread", e))?
    }

    /// Binds the journal to the client's merchant and store
    /// ([`Journal::bind_merchant`], recording them when `record`):
    /// `BATCH_OTHER_MERCHANT` when it holds another merchant's payouts.
    /// Without a client (a check-only dry run) there is nothing to bind.
    async fn bind_merchant(&self, record: bool) -> Result<(), BatchError> {
        let Some(client) = &self.client else {
            return Ok(());
        };
        let merchant_no = client.config().merchant_no().to_owned();
        let store_no = client.config().store_no().to_owned();
        self.blocking(move |j| j.bind_merchant(&merchant_no, &store_no, record))
            .await
    }

    /// [`Batch::blocking`], started: its handle, to await beside other work.
    fn blocking_task<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Journal) -> Result<T, BatchError> + Send + 'static,
    ) -> tokio::task::JoinHandle<Result<T, BatchError>> {
        let journal = Arc::clone(&self.journal);
        tokio::task::spawn_blocking(move || f(journal.as_ref()))
    }

    /// Every row of `batch` in `states`, read a page at a time.
    async fn rows_in(
        &self,
        batch: i64,
        states: &'static [RowState],
    ) -> Result<Vec<JournalRow>, BatchError> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let page = self.next_page(batch, states, &mut after).await?;
            if page.is_empty() {
                break;
            }
            all.extend(page);
        }
        Ok(all)
    }

    /// The next page of rows of `batch` in `states`, in row order, after
    /// row `after`, which is moved to the page's last row; empty at the end.
    async fn next_page(
        &self,
        batch: i64,
        states: &'static [RowState],
        after: &mut u64,
    ) -> Result<Vec<JournalRow>, BatchError> {
        let from = *after;
        let page = self
            .blocking(move |j| j.rows(batch, states, from, ROWS_PAGE))
            .await?;
        if let Some(last) = page.last() {
            *after = last.row;
        }
        Ok(page)
    }

    /// The batch of `file` in this journal (by its digest), or the latest
    /// one when `file` is `None`.
    async fn find(&self, file: Option<&Path>) -> Result<BatchInfo, BatchError> {
        match file {
            Some(file) => {
                let path = file.to_path_buf();
                self.blocking(move |j| {
                    let digest = input::digest(&path)?;
                    j.find_batch(&digest)?.ok_or_else(|| BatchError::NotFound {
                        what: format!(
                            "the journal holds no batch of {} (as it is now)",
                            path.display()
                        ),
                    })
                })
                .await
            }
            None => {
                self.blocking(|j| {
                    j.latest_batch()?.ok_or_else(|| BatchError::NotFound {
                        what: "the journal holds no batch".to_owned(),
                    })
                })
                .await
            }
        }
    }
}
