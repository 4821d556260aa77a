//! `pockyt-payouts batch run | status | report`: the batch engine
//! (`pockyt_payouts::batch`) on the command line.

use std::fs::File;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use pockyt_payouts::batch::{
    default_journal_path, Batch, BatchOptions, InputFormat, ReportFormat, SqliteJournal,
};

use crate::calls::client;
use crate::interrupt::Interrupts;
use crate::output::{note, Failure, Output};
use crate::progress::Reporter;
use crate::summary;

const RUN_HELP: &str = "\
The file: CSV with a header row naming pay fields (customerNo or customer_no,
accountToken, amount, currency, invoiceId; optional description, note,
subject, ipnUrl, processingChannel), or JSON Lines (.jsonl / .ndjson).

Every row is checked before any money moves; an invalid row refuses the
whole file (exit 3, BATCH_INVALID_ROWS, each row and field named) unless
--skip-invalid. Every row is journaled (SQLite, FILE.journal by default)
before its pay is sent: run the same command again after a crash or Ctrl-C
and it continues where it stopped, never paying a row twice.

Exit codes: 0 every row taken (pending or success), 1 some row failed, was
refused, is unknown or invalid (the report is printed), 3 the batch could
not run (nothing sent unless the message says otherwise).

Examples:
  pockyt-payouts batch run payouts.csv --dry-run
  pockyt-payouts batch run payouts.csv
  pockyt-payouts batch run payouts.jsonl --concurrency 16 --rate 20
  pockyt-payouts batch run payouts.csv --skip-invalid --report report.csv
  pockyt-payouts batch run payouts.csv --json > summary.json";

const STATUS_HELP: &str = "\
Inquires every pending and unknown row by its invoiceId, in rounds with a
growing wait, until none is pending or --rounds is reached; sends no pay.

Examples:
  pockyt-payouts batch status payouts.csv
  pockyt-payouts batch status --journal payouts.csv.journal --rounds 10 --json";

const REPORT_HELP: &str = "\
Without --format: the summary (counts per state, totals per currency). With
--format (or --output): every row, payouts then refused rows, read from the
journal alone (nothing is sent).

Examples:
  pockyt-payouts batch report payouts.csv
  pockyt-payouts batch report payouts.csv --format csv > rows.csv
  pockyt-payouts batch report --journal payouts.csv.journal --output rows.json";

/// `batch` subcommands.
#[derive(Subcommand, Debug)]
pub(crate) enum BatchCommand {
    /// Check, journal and pay every row of FILE (resumes a batch the
    /// journal already holds).
    #[command(after_help = RUN_HELP)]
    Run(RunArgs),
    /// Follow pending and unknown rows up by inquiry and print the report.
    #[command(after_help = STATUS_HELP)]
    Status(StatusArgs),
    /// Print a batch's report from its journal, or every row as CSV / JSON.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
}

/// How a batch file is written.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    #[value(alias = "ndjson")]
    Jsonl,
}

/// How report rows are written.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum RowsFormat {
    /// A header, then one row per payout and per refused row.
    Csv,
    /// One JSON object: `summary` and `rows`.
    Json,
}

impl From<RowsFormat> for ReportFormat {
    fn from(format: RowsFormat) -> ReportFormat {
        match format {
            RowsFormat::Csv => ReportFormat::Csv,
            RowsFormat::Json => ReportFormat::Json,
        }
    }
}

/// The rows format `given`, or the one `path`'s extension names (JSON for
/// `.json`, CSV otherwise).
fn rows_format(given: Option<RowsFormat>, path: Option<&Path>) -> ReportFormat {
    match (
        given,
        path.and_then(|p| p.extension()).and_then(|e| e.to_str()),
    ) {
        (Some(format), _) => format.into(),
        (None, Some(ext)) if ext.eq_ignore_ascii_case("json") => ReportFormat::Json,
        _ => ReportFormat::Csv,
    }
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "must be a positive number of payouts per second, not {text:?}"
        )),
    }
}

/// `batch run`.
#[derive(Args, Debug)]
pub(crate) struct RunArgs {
    /// The batch file (CSV, or JSON Lines: .jsonl / .ndjson).
    file: PathBuf,
    /// The journal (SQLite; created if missing) [default: FILE.journal].
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Pays in flight at once (1 to 256).
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=BatchOptions::MAX_CONCURRENCY as u64))]
    concurrency: u64,
    /// At most N pays started per second [default: no limit].
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    rate: Option<f64>,
    /// Check, journal and report, but send no pay: no money moves (the
    /// balance is still read for the funds check).
    #[arg(long)]
    dry_run: bool,
    /// Pay the valid rows and report the invalid ones, instead of refusing
    /// the whole file.
    #[arg(long)]
    skip_invalid: bool,
    /// Start even when the balance does not cover the rows.
    #[arg(long)]
    skip_funds_check: bool,
    /// How FILE is written [default: by its extension].
    #[arg(long, value_name = "FORMAT")]
    format: Option<FileFormat>,
    /// Also write every row (state, transactionNo, error) to PATH.
    #[arg(long, value_name = "PATH")]
    report: Option<PathBuf>,
    /// The format of --report [default: json for *.json, else csv].
    #[arg(long, value_name = "FORMAT", requires = "report")]
    report_format: Option<RowsFormat>,
}

/// `batch status`.
#[derive(Args, Debug)]
pub(crate) struct StatusArgs {
    /// The batch file (its journal is FILE.journal unless --journal); without
    /// it, the journal's latest batch.
    #[arg(required_unless_present = "journal")]
    file: Option<PathBuf>,
    /// The journal [default: FILE.journal].
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Rounds of inquiries at most.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    rounds: u32,
}

/// `batch report`.
#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// The batch file (its journal is FILE.journal unless --journal); without
    /// it, the journal's latest batch.
    #[arg(required_unless_present = "journal")]
    file: Option<PathBuf>,
    /// The journal [default: FILE.journal].
    #[arg(long, value_name = "PATH")]
    journal: Option<PathBuf>,
    /// Write every row in this format (to stdout, or --output).
    #[arg(long, value_name = "FORMAT")]
    format: Option<RowsFormat>,
    /// Write every row to PATH [format: --format, or json for *.json, else csv].
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
}

/// Runs a `batch` subcommand.
pub(crate) async fn run(command: BatchCommand, out: &Output) -> Result<i32, Failure> {
    match command {
        BatchCommand::Run(args) => run_file(args, out).await,
        BatchCommand::Status(args) => crate::interruptible(status(args, out)).await,
        BatchCommand::Report(args) => crate::interruptible(report(args, out)).await,
    }
}

/// The journal given, or the file's default one.
fn journal_of(journal: Option<PathBuf>, file: Option<&Path>) -> PathBuf {
    match (journal, file) {
        (Some(journal), _) => journal,
        (None, Some(file)) => default_journal_path(file),
        // clap requires one of them.
        (None, None) => PathBuf::from(".journal"),
    }
}

/// Creates `path` for writing report rows.
fn create(path: &Path) -> Result<File, Failure> {
    File::create(path).map_err(|e| Failure::io(&format!("cannot create {}", path.display()), &e))
}

async fn run_file(args: RunArgs, out: &Output) -> Result<i32, Failure> {
    // Refused as the engine would, before a journal is created beside a
    // file that is not there.
    if let Err(e) = File::open(&args.file) {
        let path = args.file.display().to_string();
        return Err(
            Failure::new("BATCH_INPUT", format!("{path}: file cannot be opened: {e}"))
                .with("path", path)
                .with("field", "file"),
        );
    }
    let journal = journal_of(args.journal, Some(&args.file));
    let options = BatchOptions {
        concurrency: args.concurrency as usize,
        rate: args.rate,
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        skip_funds_check: args.skip_funds_check,
        format: args.format.map(|f| match f {
            FileFormat::Csv => InputFormat::Csv,
            FileFormat::Jsonl => InputFormat::JsonLines,
        }),
        ..BatchOptions::default()
    };
    let reporter = Reporter::new(out, &format!("checking {}", args.file.display()));
    let batch = match client() {
        Ok(client) => Batch::open(client, &journal)?,
        // A check-only dry run calls nothing: it needs no credentials.
        Err(_) if args.dry_run && args.skip_funds_check => {
            Batch::journal_only(SqliteJournal::open(&journal)?)
        }
        Err(failure) => return Err(failure),
    }
    .with_options(options)
    .on_progress(reporter.callback());
    // Listening before the run starts: a Ctrl-C once a pay may be on the
    // wire always stops the batch cleanly.
    let mut interrupts = Interrupts::listen()?;
    let (result, interrupted) = run_stoppable(&batch, &args.file, &mut interrupts).await;
    reporter.finish();
    let report = result?;
    if let Some(path) = &args.report {
        if report.batch.is_some() {
            let format = rows_format(args.report_format, Some(path));
            batch
                .write_report(Some(&args.file), format, create(path)?)
                .await
                .map_err(|e| {
                    Failure::from(e).context(&format!(
                        "the batch ran: `pockyt-payouts batch report {}` shows it",
                        args.file.display()
                    ))
                })?;
        } else {
            note("note: a dry run of a new file journals nothing: no --report written");
        }
    }
    let code = summary::print(out, &report, &journal);
    if interrupted {
        return Err(Failure::interrupted());
    }
    Ok(code)
}

/// Runs the batch of `file`; at the first Ctrl-C (from `interrupts`),
/// stops it cleanly (no new pay starts, the pays in flight finish and are
/// recorded, rows claimed but not sent go back to `planned`) and says so;
/// a second Ctrl-C quits at once, which the journal survives like a crash.
/// Returns the run's result and whether it was interrupted.
async fn run_stoppable(
    batch: &Batch,
    file: &Path,
    interrupts: &mut Interrupts,
) -> (
    Result<pockyt_payouts::batch::BatchReport, pockyt_payouts::batch::BatchError>,
    bool,
) {
    let run = batch.run(file);
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => return (result, false),
        () = interrupts.next() => {}
    }
    batch.stop_handle().stop();
    note(
        "stopping: finishing the pays in flight (Ctrl-C again to quit at once; a rerun continues)",
    );
    tokio::select! {
        result = &mut run => (result, true),
        () = interrupts.next() => std::process::exit(crate::exit_code::INTERRUPTED),
    }
}

async fn status(args: StatusArgs, out: &Output) -> Result<i32, Failure> {
    let journal = journal_of(args.journal, args.file.as_deref());
    let options = BatchOptions {
        status_rounds: args.rounds,
        ..BatchOptions::default()
    };
    let reporter = Reporter::new(out, "following up");
    let batch = open_existing(&journal, client()?)?
        .with_options(options)
        .on_progress(reporter.callback());
    let result = batch.status(args.file.as_deref()).await;
    reporter.finish();
    Ok(summary::print(out, &result?, &journal))
}

async fn report(args: ReportArgs, out: &Output) -> Result<i32, Failure> {
    let journal = journal_of(args.journal, args.file.as_deref());
    let batch = Batch::open_journal_only(&journal)?;
    let report = batch.report(args.file.as_deref()).await?;
    if args.format.is_none() && args.output.is_none() {
        return Ok(summary::print(out, &report, &journal));
    }
    let format = rows_format(args.format, args.output.as_deref());
    match &args.output {
        Some(path) => {
            batch
                .write_report(args.file.as_deref(), format, create(path)?)
                .await?
        }
        None => {
            batch
                .write_report(args.file.as_deref(), format, std::io::stdout())
                .await?
        }
    }
    Ok(if report.is_success() {
        crate::exit_code::SUCCESS
    } else {
        crate::exit_code::PROBLEMS
    })
}

/// A batch over an existing journal (`status` and `report` never create
/// one: a mistyped path is `BATCH_NOT_FOUND`, not an empty journal).
fn open_existing(journal: &Path, client: pockyt_payouts::Client) -> Result<Batch, Failure> {
    if !journal.exists() {
        return Err(Failure::new(
            "BATCH_NOT_FOUND",
            format!("there is no journal at {}", journal.display()),
        ));
    }
    Ok(Batch::open(client, journal)?)
}
