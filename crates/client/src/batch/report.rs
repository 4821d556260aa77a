//! What a batch came to: counts and totals per currency and outcome
//! ([`BatchReport`]), and every row written as CSV or JSON.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::error::{BatchError, RowError, MAX_LISTED_ROW_ERRORS};
use super::journal::{BatchInfo, JournalRow, PlanOutcome, RowState, Tally};
use super::run::cents_text;
use super::Batch;

/// How [`Batch::write_report`] writes rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// A header row, then one row per payout and per refused row.
    Csv,
    /// One JSON object: `summary` (the [`BatchReport`]) and `rows`.
    Json,
}

impl std::str::FromStr for ReportFormat {
    type Err = crate::Error;

    /// A format by name: `csv` or `json`. Any other name is
    /// `INVALID_CONFIG` (field `format`).
    ///
    /// ```
    /// use pockyt_payouts::batch::ReportFormat;
    /// assert_eq!("json".parse::<ReportFormat>().unwrap(), ReportFormat::Json);
    /// assert!("xml".parse::<ReportFormat>().is_err());
    /// ```
    fn from_str(name: &str) -> Result<ReportFormat, crate::Error> {
        match name {
            "csv" => Ok(ReportFormat::Csv),
            "json" => Ok(ReportFormat::Json),
            _ => Err(crate::Error::invalid_config(
                "format",
                "must be \"csv\" or \"json\"",
            )),
        }
    }
}

/// A batch's outcome: rows counted per state, amounts totalled per
/// currency and state, and the first refused rows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BatchReport {
    /// The batch (`None` for a dry run of a file the journal did not hold:
    /// nothing was kept).
    pub batch: Option<BatchInfo>,
    /// The file.
    pub source: String,
    /// Whether this was a dry run (nothing sent).
    #[serde(rename = "dryRun")]
    pub dry_run: bool,
    /// Rows to pay (journaled).
    pub rows: u64,
    /// Rows refused before anything was sent.
    pub invalid: u64,
    /// Rows per state (every state listed, `0` included).
    pub states: BTreeMap<RowState, u64>,
    /// Per currency, per state: how many rows and their amounts added.
    pub totals: BTreeMap<String, BTreeMap<RowState, Total>>,
    /// The first refused rows ([`MAX_LISTED_ROW_ERRORS`] at most).
    #[serde(rename = "invalidRows")]
    pub invalid_rows: Vec<RowError>,
}

/// Rows and their amounts added.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Total {
    /// How many rows.
    pub rows: u64,
    /// Their amounts added, with two fraction digits.
    pub amount: String,
}

impl BatchReport {
    fn new(
        batch: Option<BatchInfo>,
        source: String,
        dry_run: bool,
        invalid: u64,
        invalid_rows: Vec<RowError>,
        tallies: &[Tally],
    ) -> BatchReport {
        let mut states: BTreeMap<RowState, u64> =
            RowState::ALL.into_iter().map(|s| (s, 0)).collect();
        let mut cents: BTreeMap<String, BTreeMap<RowState, (u64, u64)>> = BTreeMap::new();
        for tally in tallies {
            *states.entry(tally.state).or_insert(0) += tally.rows;
            let entry = cents
                .entry(tally.currency.clone())
                .or_default()
                .entry(tally.state)
                .or_insert((0, 0));
            entry.0 += tally.rows;
            entry.1 = entry.1.saturating_add(tally.cents);
        }
        let totals = cents
            .into_iter()
            .map(|(currency, by_state)| {
                let by_state = by_state
                    .into_iter()
                    .map(|(state, (rows, cents))| {
                        (
                            state,
                            Total {
                                rows,
                                amount: cents_text(cents),
                            },
                        )
                    })
                    .collect();
                (currency, by_state)
            })
            .collect();
        BatchReport {
            batch,
            source,
            dry_run,
            rows: tallies.iter().map(|t| t.rows).sum(),
            invalid,
            states,
            totals,
            invalid_rows,
        }
    }

    /// The report of a dry run of a file the journal did not hold: every
    /// valid row `planned`.
    pub(crate) fn planned(file: &Path, outcome: &PlanOutcome) -> BatchReport {
        let tallies: Vec<Tally> = outcome
            .totals
            .iter()
            .map(|(currency, cents)| Tally {
                state: RowState::Planned,
                currency: currency.clone(),
                rows: outcome.counts.get(currency).copied().unwrap_or(0),
                cents: *cents,
            })
            .collect();
        BatchReport::new(
            None,
            file.display().to_string(),
            true,
            outcome.invalid,
            outcome.errors.clone(),
            &tallies,
        )
    }

    /// How many rows are in `state`.
    pub fn count(&self, state: RowState) -> u64 {
        self.states.get(&state).copied().unwrap_or(0)
    }

    /// How many rows the API took (`pending` or `success`).
    pub fn paid(&self) -> u64 {
        self.count(RowState::Pending) + self.count(RowState::Success)
    }

    /// Whether every row ended well: none refused before sending, and
    /// every journaled row `pending` or `success` (for a dry run: no row
    /// refused). The CLI exits non-zero otherwise.
    pub fn is_success(&self) -> bool {
        if self.invalid > 0 {
            return false;
        }
        if self.dry_run {
            return true;
        }
        self.states
            .iter()
            .all(|(state, rows)| *rows == 0 || !state.is_problem())
    }
}

impl Batch {
    /// The report of the batch of `file` (the journal's latest batch when
    /// `None`), from the journal alone: nothing is sent.
    pub async fn report(&self, file: Option<&Path>) -> Result<BatchReport, BatchError> {
        let batch = self.find(file).await?;
        self.report_of(batch, false).await
    }

    pub(crate) async fn report_of(
        &self,
        batch: BatchInfo,
        dry_run: bool,
    ) -> Result<BatchReport, BatchError> {
        let id = batch.id;
        let (tallies, invalid_rows) = self
            .blocking(move |j| Ok((j.tally(id)?, j.invalid_rows(id, 0, MAX_LISTED_ROW_ERRORS)?)))
            .await?;
        let source = batch.source.clone();
        let invalid = batch.invalid;
        Ok(BatchReport::new(
            Some(batch),
            source,
            dry_run,
            invalid,
            invalid_rows,
            &tallies,
        ))
    }

    /// Writes every row of the batch of `file` (the latest when `None`) to
    /// `out`: each payout with its state, transactionNo and error, then
    /// each refused row (state `invalid`, with its field and rule). Reads
    /// the journal a page at a time (flat memory). For JSON, the summary
    /// comes first.
    pub async fn write_report(
        &self,
        file: Option<&Path>,
        format: ReportFormat,
        out: impl Write + Send + 'static,
    ) -> Result<(), BatchError> {
        let report = self.report(file).await?;
        let id = report.batch.as_ref().map_or(0, |b| b.id);
        self.blocking(move |journal| {
            let mut sink = Sink::start(format, out, &report)?;
            let mut after = 0;
            loop {
                let page = journal.rows(id, &[], after, 1024)?;
                let Some(last) = page.last() else { break };
                after = last.row;
                for row in &page {
                    sink.line(&ReportLine::payout(row))?;
                }
            }
            let mut after = 0;
            loop {
                let page = journal.invalid_rows(id, after, 1024)?;
                let Some(last) = page.last() else { break };
                after = last.row;
                for error in &page {
                    sink.line(&ReportLine::refused(error))?;
                }
            }
            sink.finish()
        })
        .await
    }
}

impl Batch {
    /// [`Batch::write_report`] into the file at `path`, created when the
    /// first byte is written: a report that cannot be made (no such batch)
    /// leaves no empty file behind.
    pub async fn write_report_to_path(
        &self,
        file: Option<&Path>,
        format: ReportFormat,
        path: impl AsRef<Path>,
    ) -> Result<(), BatchError> {
        let out = LazyFile {
            path: path.as_ref().to_path_buf(),
            file: None,
        };
        self.write_report(file, format, out).await
    }
}

/// A file created at its first write.
struct LazyFile {
    path: std::path::PathBuf,
    file: Option<std::fs::File>,
}

impl LazyFile {
    fn file(&mut self) -> std::io::Result<&mut std::fs::File> {
        match &mut self.file {
            Some(file) => Ok(file),
            none => Ok(none.insert(std::fs::File::create(&self.path)?)),
        }
    }
}

impl Write for LazyFile {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.file()?.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file()?.flush()
    }
}

fn write_failed(error: impl std::fmt::Display) -> BatchError {
    BatchError::journal("writing the report", error)
}

/// Where report rows go.
enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json {
        out: std::io::BufWriter<W>,
        first: bool,
    },
}

impl<W: Write> Sink<W> {
    fn start(format: ReportFormat, out: W, report: &BatchReport) -> Result<Sink<W>, BatchError> {
        match format {
            ReportFormat::Csv => {
                let mut writer = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(out);
                writer.write_record(CSV_HEADER).map_err(write_failed)?;
                Ok(Sink::Csv(Box::new(writer)))
            }
            ReportFormat::Json => {
                let mut out = std::io::BufWriter::new(out);
                out.write_all(b"{\"summary\":").map_err(write_failed)?;
                serde_json::to_writer(&mut out, report).map_err(write_failed)?;
                out.write_all(b",\"rows\":[").map_err(write_failed)?;
                Ok(Sink::Json { out, first: true })
            }
        }
    }

    fn line(&mut self, line: &ReportLine) -> Result<(), BatchError> {
        match self {
            Sink::Csv(writer) => writer.serialize(line).map_err(write_failed),
            Sink::Json { out, first } => {
                if !*first {
                    out.write_all(b",").map_err(write_failed)?;
                }
                *first = false;
                serde_json::to_writer(&mut *out, line).map_err(write_failed)
            }
        }
    }

    fn finish(self) -> Result<(), BatchError> {
        match self {
            Sink::Csv(mut writer) => writer.flush().map_err(write_failed),
            Sink::Json { mut out, .. } => {
                out.write_all(b"]}\n").map_err(write_failed)?;
                out.flush().map_err(write_failed)
            }
        }
    }
}

const CSV_HEADER: [&str; 10] = [
    "row",
    "invoiceId",
    "customerNo",
    "accountToken",
    "amount",
    "currency",
    "state",
    "transactionNo",
    "errorCode",
    "errorMessage",
];

/// One row of a written report.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportLine {
    row: u64,
    invoice_id: Option<String>,
    customer_no: Option<String>,
    account_token: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    state: String,
    transaction_no: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
}

impl ReportLine {
    fn payout(row: &JournalRow) -> ReportLine {
        let params: serde_json::Value = serde_json::from_str(&row.params).unwrap_or_default();
        let field = |name: &str| params.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        ReportLine {
            row: row.row,
            invoice_id: Some(row.invoice_id.clone()),
            customer_no: field("customerNo"),
            account_token: field("accountToken"),
            amount: Some(cents_text(row.cents)),
            currency: Some(row.currency.clone()),
            state: row.state.as_str().to_owned(),
            transaction_no: row.transaction_no.clone(),
            error_code: row.error_code.clone(),
            error_message: row.error_message.clone(),
        }
    }

    fn refused(error: &RowError) -> ReportLine {
        ReportLine {
            row: error.row,
            invoice_id: error.invoice_id.clone(),
            customer_no: None,
            account_token: None,
            amount: None,
            currency: None,
            state: "invalid".to_owned(),
            transaction_no: None,
            error_code: Some(error.code.clone()),
            error_message: Some(format!("{} {}", error.field, error.rule)),
        }
    }
}
