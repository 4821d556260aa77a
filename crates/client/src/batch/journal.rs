//! The journal: one durable record per payout of a batch, written before
//! the request that depends on it is sent. [`SqliteJournal`](super::SqliteJournal)
//! is the default; implement [`Journal`] over a shared database when one
//! machine is not enough (not provided: the trait is the seam).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::error::{BatchError, RowError};

/// Where a payout of a batch stands.
///
/// `planned` → `sending` → `pending` / `success` / `failed` / `returned`
/// / `refused` / `unknown`; `pending` and `unknown` move on by inquiry
/// ([`Batch::status`](super::Batch::status)) or IPN
/// ([`Batch::apply_event`](super::Batch::apply_event)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowState {
    /// Checked and journaled; nothing sent yet.
    Planned,
    /// The pay may have been sent: written before it is. A row left here
    /// by a crash is settled by inquiry and its idempotency key on the
    /// next run, never paid as a new payout.
    Sending,
    /// The API accepted the payout; its final status is to come.
    Pending,
    /// Paid.
    Success,
    /// The payout failed; the funds were not taken.
    Failed,
    /// The payout was returned (cancelled).
    Returned,
    /// The API (or the SDK's rules) refused the pay: nothing was paid.
    Refused,
    /// The pay may or may not have created a payout and no inquiry could
    /// tell (`PAYOUT_OUTCOME_UNKNOWN`): never pay it again under a new
    /// invoiceId; `status` looks it up again.
    Unknown,
}

impl RowState {
    /// Every state, in lifecycle order.
    pub const ALL: [RowState; 8] = [
        RowState::Planned,
        RowState::Sending,
        RowState::Pending,
        RowState::Success,
        RowState::Failed,
        RowState::Returned,
        RowState::Refused,
        RowState::Unknown,
    ];

    /// The state's name: `planned`, `sending`, `pending`, `success`,
    /// `failed`, `returned`, `refused`, `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Planned => "planned",
            RowState::Sending => "sending",
            RowState::Pending => "pending",
            RowState::Success => "success",
            RowState::Failed => "failed",
            RowState::Returned => "returned",
            RowState::Refused => "refused",
            RowState::Unknown => "unknown",
        }
    }

    /// Whether the row still needs a follow-up (`status`): `sending`,
    /// `pending` or `unknown`.
    pub fn awaits_outcome(self) -> bool {
        matches!(
            self,
            RowState::Sending | RowState::Pending | RowState::Unknown
        )
    }

    /// Whether this ending is a failure for the batch's exit status:
    /// `failed`, `returned`, `refused`, `unknown`, or still `planned` /
    /// `sending` when a run ends.
    pub fn is_problem(self) -> bool {
        !matches!(self, RowState::Pending | RowState::Success)
    }

    /// Whether a row in this state may be moved to `next` by what was
    /// learnt later (an inquiry, an IPN): a payout's final status is never
    /// taken back by a stale `pending`, and `returned` follows `success`.
    pub fn may_become(self, next: RowState) -> bool {
        use RowState::*;
        match (self, next) {
            (a, b) if a == b => false,
            (Planned | Refused, _) => false,
            (_, Planned | Sending | Refused | Unknown) => false,
            (Sending | Unknown, _) => true,
            (Pending, Success | Failed | Returned) => true,
            (Success, Returned) => true,
            _ => false,
        }
    }

    /// The states that may become `next` ([`RowState::may_become`]).
    pub fn predecessors(next: RowState) -> Vec<RowState> {
        RowState::ALL
            .into_iter()
            .filter(|s| s.may_become(next))
            .collect()
    }
}

impl fmt::Display for RowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RowState {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        RowState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("{text:?} is not a batch row state"))
    }
}

/// One batch in a journal: the file it was read from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BatchInfo {
    /// The journal's number for it.
    pub id: i64,
    /// The SHA-256 of the file (hex): rerunning the same file resumes this
    /// batch.
    pub digest: String,
    /// The file's path when it was planned.
    pub source: String,
    /// When it was planned (UTC, RFC 3339).
    #[serde(rename = "createdAt")]
    pub created_at: String,
    /// How many rows were journaled to pay.
    pub rows: u64,
    /// How many rows were refused (kept with `skip_invalid`).
    pub invalid: u64,
}

/// A checked row to journal.
#[derive(Clone, Debug)]
pub struct PlannedRow {
    /// The row's line in the file.
    pub row: u64,
    /// The invoiceId (unique in the journal).
    pub invoice_id: String,
    /// The currency.
    pub currency: String,
    /// The amount in cents.
    pub cents: u64,
    /// The pay's parameters as a JSON object of wire names.
    pub params: String,
    /// The `Pockyt-Request-ID` every send of this payout carries.
    pub idempotency_key: String,
}

/// What to journal for one line of the file.
#[derive(Clone, Debug)]
pub enum PlanEntry {
    /// A row to pay.
    Row(PlannedRow),
    /// A row refused by the pay rules.
    Invalid(RowError),
}

/// How [`Journal::plan`] treats refused rows and the result.
#[derive(Clone, Copy, Debug)]
pub struct PlanMode {
    /// Keep going past refused rows (journaling them as refused) instead
    /// of planning nothing.
    pub skip_invalid: bool,
    /// Keep the plan; `false` (a dry run) checks everything, duplicates
    /// against the journal included, and keeps nothing.
    pub commit: bool,
}

/// What [`Journal::plan`] did.
#[derive(Clone, Debug, Default)]
pub struct PlanOutcome {
    /// The batch created (`None` when nothing was kept).
    pub batch: Option<BatchInfo>,
    /// Rows journaled to pay.
    pub planned: u64,
    /// Rows refused.
    pub invalid: u64,
    /// The first refused rows ([`MAX_LISTED_ROW_ERRORS`](super::MAX_LISTED_ROW_ERRORS) at most).
    pub errors: Vec<RowError>,
    /// Cents to pay per currency.
    pub totals: BTreeMap<String, u64>,
    /// Rows to pay per currency.
    pub counts: BTreeMap<String, u64>,
}

/// One payout of a batch as the journal holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalRow {
    /// The batch.
    pub batch: i64,
    /// The row's line in the file.
    pub row: u64,
    /// The invoiceId.
    pub invoice_id: String,
    /// The currency.
    pub currency: String,
    /// The amount in cents.
    pub cents: u64,
    /// The pay's parameters as a JSON object of wire names.
    pub params: String,
    /// The `Pockyt-Request-ID` every send carries.
    pub idempotency_key: String,
    /// Where it stands.
    pub state: RowState,
    /// The API's transactionNo, once known.
    pub transaction_no: Option<String>,
    /// The error code of a refused or unknown row.
    pub error_code: Option<String>,
    /// The error's words.
    pub error_message: Option<String>,
    /// When the row last changed state (UTC, RFC 3339): for a `sending`
    /// row, when it was claimed.
    pub updated_at: String,
}

/// What was learnt about one payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The payout's invoiceId.
    pub invoice_id: String,
    /// Its new state.
    pub state: RowState,
    /// Its transactionNo, when known.
    pub transaction_no: Option<String>,
    /// The error code (refused / unknown rows).
    pub error_code: Option<String>,
    /// The error's words.
    pub error_message: Option<String>,
}

/// Rows of one batch counted per state and currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// The state.
    pub state: RowState,
    /// The currency.
    pub currency: String,
    /// How many rows.
    pub rows: u64,
    /// Their amounts added, in cents.
    pub cents: u64,
}

/// The durable record of batches. Every method is synchronous and may
/// block on I/O: the batch calls it off the async runtime's worker
/// threads. Each write must be durable when the method returns.
pub trait Journal: Send + Sync + 'static {
    /// Takes this journal for one run (a process that dies lets go of it):
    /// `BATCH_IN_PROGRESS` while another process holds it.
    fn lock(&self) -> Result<Box<dyn Send + Sync>, BatchError>;
    /// Binds this journal to one merchant account: records
    /// `merchant_no` and `store_no` when `record` and none are recorded
    /// yet, and refuses others than those recorded
    /// (`BATCH_OTHER_MERCHANT`). Checked before a run or a follow-up reads
    /// or sends anything, recorded before the first pay is sent.
    fn bind_merchant(
        &self,
        merchant_no: &str,
        store_no: &str,
        record: bool,
    ) -> Result<(), BatchError>;
    /// The batch read from the file with this digest.
    fn find_batch(&self, digest: &str) -> Result<Option<BatchInfo>, BatchError>;
    /// The batch planned last.
    fn latest_batch(&self) -> Result<Option<BatchInfo>, BatchError>;
    /// Journals a new batch, all or nothing: every row `planned`, each
    /// invoiceId unique in the whole journal (a repeat is refused as
    /// `DUPLICATE_INVOICE_ID` via [`duplicate`]). Refused rows make it keep
    /// nothing unless `mode.skip_invalid`; `mode.commit == false` keeps
    /// nothing either way.
    fn plan(
        &self,
        source: &str,
        digest: &str,
        entries: &mut dyn Iterator<Item = Result<PlanEntry, BatchError>>,
        mode: PlanMode,
    ) -> Result<PlanOutcome, BatchError>;
    /// Moves up to `limit` `planned` rows of `batch` after row `after` (in
    /// row order) to `sending`, durably, and returns them.
    fn claim(&self, batch: i64, after: u64, limit: usize) -> Result<Vec<JournalRow>, BatchError>;
    /// Records outcomes at once (one durable write). A row whose current
    /// state may not become the outcome's ([`RowState::may_become`]) is
    /// left as it is, except that the sender of a row (`sending` →
    /// anything) always records. Returns how many rows changed.
    fn record(&self, outcomes: &[Outcome]) -> Result<u64, BatchError>;
    /// Puts rows claimed but never sent back to `planned`.
    fn unclaim(&self, invoice_ids: &[String]) -> Result<(), BatchError>;
    /// Up to `limit` rows of `batch` in `states` (all states when empty)
    /// after row `after`, in row order.
    fn rows(
        &self,
        batch: i64,
        states: &[RowState],
        after: u64,
        limit: usize,
    ) -> Result<Vec<JournalRow>, BatchError>;
    /// Up to `limit` refused rows of `batch` after row `after`, in row order.
    fn invalid_rows(
        &self,
        batch: i64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RowError>, BatchError>;
    /// The rows of `batch` counted per state and currency.
    fn tally(&self, batch: i64) -> Result<Vec<Tally>, BatchError>;
    /// The row with this invoiceId, in any batch.
    fn row_by_invoice_id(&self, invoice_id: &str) -> Result<Option<JournalRow>, BatchError>;
}

/// The refusal of a row whose invoiceId is already journaled: in the same
/// file (`same_batch`) at row `first_row`, or in another batch.
pub fn duplicate(
    row: u64,
    invoice_id: &str,
    same_batch: bool,
    first_row: u64,
    other_batch: i64,
) -> RowError {
    let rule = if same_batch {
        format!("repeats the invoiceId of row {first_row}")
    } else {
        format!("is already in this journal (batch {other_batch}, row {first_row}); a payout's invoiceId is used once")
    };
    RowError::new(row, "invoiceId", rule, "DUPLICATE_INVOICE_ID").with_invoice_id(Some(invoice_id))
}
