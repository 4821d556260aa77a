//! Batch payouts for `pockyt-payouts/batch`: the Rust engine
//! (`pockyt_payouts::batch`) carried across, nothing decided here.
//!
//! A [`NativeBatch`] keeps a client, a journal path (or none: each file's
//! default journal, `default_journal_path`, resolved in Rust) and the
//! options; each operation opens the journal, runs on napi's tokio runtime
//! (the event loop never waits) and resolves to the report as JSON text
//! (the engine's serialization plus its `success` and `paid`), or rejects
//! with an error the wrapper (`batch.js`) turns into its Error classes: a
//! client error as the client's `PockytNativeError`, a batch error as a
//! `PockytBatchError` carrying its `code` and details (`rows`, `count`,
//! `shortfalls`, `path`, `line`, `field`, `rule`, `journal`).
//!
//! Progress reaches JavaScript through a threadsafe function, called on the
//! event loop. [`NativeBatch::stop`] stops the operations running cleanly
//! (the engine's `StopHandle`: no new pay starts, the pays in flight finish
//! and are recorded, rows claimed but not sent go back to `planned`).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use pockyt_payouts::batch::{
    default_journal_path, Batch, BatchError, BatchOptions, BatchReport, ReportFormat, StopHandle,
};
use pockyt_payouts::webhook::PayoutEvent;
use pockyt_payouts::Error as SdkError;
use serde_json::{Map, Value};

use crate::{config_error, to_napi_error, NativeClient};

/// How far a batch is, as `onProgress` is told.
#[napi(object)]
pub struct BatchProgress {
    /// `checking` (reading and checking rows), `paying` (paying, and
    /// settling rows a crash left in flight) or `following` (following
    /// pending rows up).
    pub phase: String,
    /// How many rows this phase has to handle (`0` while checking).
    pub total: f64,
    /// How many it has handled.
    pub done: f64,
    /// Of those, how many ended `pending` or `success`.
    pub paid: f64,
    /// Of those, how many ended otherwise.
    pub problems: f64,
}

/// The progress callback, called on the event loop (its exceptions are the
/// wrapper's to catch: it never hands over one that throws).
type ProgressFn = ThreadsafeFunction<BatchProgress, Unknown<'static>, BatchProgress, Status, false>;

/// The phase of the last call of the progress callback, made when an
/// operation has finished (and before its promise settles): every progress
/// was delivered before it (a threadsafe function's calls are delivered in
/// order), so the wrapper can settle its own promise after the last one.
const END_PHASE: &str = "end";

fn tell(callback: &ProgressFn, progress: BatchProgress) {
    callback.call(progress, ThreadsafeFunctionCallMode::NonBlocking);
}

/// Why a batch operation failed, on its way to JavaScript.
pub enum Failure {
    /// The engine's error.
    Batch(BatchError),
    /// The SDK's error (a refused option, say).
    Sdk(SdkError),
}

impl From<BatchError> for Failure {
    fn from(error: BatchError) -> Self {
        match error {
            BatchError::Client(error) => Failure::Sdk(error),
            other => Failure::Batch(other),
        }
    }
}

impl From<SdkError> for Failure {
    fn from(error: SdkError) -> Self {
        Failure::Sdk(error)
    }
}

/// The result of a batch operation: the value, or a rejection with the
/// error object built on the JavaScript thread.
pub struct BatchOutcome<T>(std::result::Result<T, Failure>);

impl<T: TypeName> TypeName for BatchOutcome<T> {
    fn type_name() -> &'static str {
        T::type_name()
    }

    fn value_type() -> ValueType {
        T::value_type()
    }
}

impl<T: ToNapiValue> ToNapiValue for BatchOutcome<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let env = Env::from_raw(env);
        match val.0 {
            Ok(value) => unsafe { T::to_napi_value(env.raw(), value) },
            Err(Failure::Sdk(error)) => Err(to_napi_error(&env, &error)),
            Err(Failure::Batch(error)) => Err(batch_error(&env, &error)),
        }
    }
}

/// A `PockytBatchError`: a JavaScript `Error` with the batch error's code,
/// message and details.
fn batch_error(env: &Env, error: &BatchError) -> napi::Error {
    let built = (|| -> Result<Unknown<'_>> {
        let mut object =
            env.create_error(napi::Error::new(Status::GenericFailure, error.message()))?;
        object.set("name", "PockytBatchError")?;
        object.set("code", error.code())?;
        if let Value::Object(fields) = error.details() {
            for (name, value) in fields {
                if !value.is_null() {
                    object.set(name.as_str(), value)?;
                }
            }
        }
        object.into_unknown(env)
    })();
    match built {
        Ok(value) => napi::Error::from(value),
        Err(_) => napi::Error::new(Status::GenericFailure, error.to_string()),
    }
}

/// The report as JSON text: the engine's serialization, with what the
/// engine computes from it, `success` ([`BatchReport::is_success`]) and
/// `paid` ([`BatchReport::paid`]).
fn report_text(report: &BatchReport) -> String {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.insert("success".to_owned(), Value::Bool(report.is_success()));
        fields.insert("paid".to_owned(), Value::from(report.paid()));
    }
    value.to_string()
}

/// The batch options given by name (Node's spelling), each converted to
/// the engine's type; the engine checks ranges when a batch runs.
fn batch_options(
    options: &Map<String, Value>,
) -> std::result::Result<(Option<PathBuf>, BatchOptions), SdkError> {
    let mut journal = None;
    let mut batch = BatchOptions::default();
    let number = |name: &str, value: &Value| {
        value
            .as_f64()
            .ok_or_else(|| config_error(name, "must be a number"))
    };
    let whole = |name: &str, value: &Value| {
        number(name, value).and_then(|n| {
            if n.fract() == 0.0 && n >= 0.0 {
                Ok(n)
            } else {
                Err(config_error(name, "must be a non-negative whole number"))
            }
        })
    };
    let flag = |name: &str, value: &Value| {
        value
            .as_bool()
            .ok_or_else(|| config_error(name, "must be true or false"))
    };
    let text = |name: &str, value: &Value| {
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| config_error(name, "must be a string"))
    };
    for (name, value) in options {
        if value.is_null() {
            continue;
        }
        match name.as_str() {
            "journal" => journal = Some(PathBuf::from(text(name, value)?)),
            // Out of range is the engine's to refuse, with its own rule.
            "concurrency" => {
                batch.concurrency = whole(name, value)?.min(usize::MAX as f64) as usize
            }
            "rate" => batch.rate = Some(number(name, value)?),
            "dryRun" => batch.dry_run = flag(name, value)?,
            "skipInvalid" => batch.skip_invalid = flag(name, value)?,
            "skipFundsCheck" => batch.skip_funds_check = flag(name, value)?,
            "format" => batch.format = Some(text(name, value)?.parse()?),
            "statusRounds" => {
                let rounds = whole(name, value)?;
                batch.status_rounds = u32::try_from(rounds as u64)
                    .map_err(|_| config_error(name, "must be at most 4294967295"))?;
            }
            "statusBackoffMs" => {
                batch.status_backoff = Duration::try_from_secs_f64(number(name, value)? / 1000.0)
                    .map_err(|_| {
                    config_error(name, "must be a non-negative number of milliseconds")
                })?;
            }
            other => return Err(config_error(other, "is not a batch option")),
        }
    }
    Ok((journal, batch))
}

/// The native batch behind `pockyt-payouts/batch`'s `Batch`.
#[napi]
pub struct NativeBatch {
    client: pockyt_payouts::Client,
    /// `None`: each file's default journal.
    journal: Option<PathBuf>,
    options: BatchOptions,
    /// The operations started, for [`NativeBatch::stop`].
    running: Mutex<Vec<StopHandle>>,
}

/// What an operation needs: the client (it pays or calls the API), or the
/// journal alone (reports, events), which must exist.
#[derive(Clone, Copy)]
enum Access {
    Client,
    JournalOnly,
}

impl NativeBatch {
    /// The engine's batch for one operation on `file`: the journal given,
    /// or the file's default; with the client, or the journal alone.
    fn open(&self, file: Option<&Path>, access: Access) -> std::result::Result<Batch, Failure> {
        let journal = match (&self.journal, file) {
            (Some(journal), _) => journal.clone(),
            (None, Some(file)) => default_journal_path(file),
            (None, None) => {
                return Err(Failure::Sdk(config_error(
                    "journal",
                    "must be given when no file is (the default journal is the file's)",
                )))
            }
        };
        let batch = match access {
            Access::Client => Batch::open(self.client.clone(), journal)?,
            Access::JournalOnly => Batch::open_journal_only(journal)?,
        };
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.push(batch.stop_handle());
        Ok(batch.with_options(self.options.clone()))
    }

    /// Runs `work`, then tells `progress` (when given) that it has ended.
    async fn run_task<T, F>(&self, progress: Option<Arc<ProgressFn>>, work: F) -> BatchOutcome<T>
    where
        F: Future<Output = std::result::Result<T, Failure>>,
    {
        let result = work.await;
        if let Some(callback) = progress {
            let end = BatchProgress {
                phase: END_PHASE.to_owned(),
                total: 0.0,
                done: 0.0,
                paid: 0.0,
                problems: 0.0,
            };
            tell(&callback, end);
        }
        BatchOutcome(result)
    }
}

/// `batch` calling `on_progress` (when given) with each progress.
fn with_progress(batch: Batch, on_progress: Option<&Arc<ProgressFn>>) -> Batch {
    match on_progress.cloned() {
        None => batch,
        Some(callback) => batch.on_progress(move |progress| {
            let phase = serde_json::to_value(progress.phase)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let progress = BatchProgress {
                phase,
                total: progress.total as f64,
                done: progress.done as f64,
                paid: progress.paid as f64,
                problems: progress.problems as f64,
            };
            tell(&callback, progress);
        }),
    }
}

#[napi]
impl NativeBatch {
    /// A batch paying through `client`, with `{ journal, concurrency, rate,
    /// dryRun, skipInvalid, skipFundsCheck, format, statusRounds,
    /// statusBackoffMs }` (unset: the engine's defaults; no `journal`:
    /// each file's `<file>.journal`). Throws `INVALID_CONFIG` naming an
    /// option of the wrong type or unknown; the engine checks ranges when
    /// a batch runs.
    #[napi(
        constructor,
        ts_args_type = "client: NativeClient, options?: Record<string, unknown> | null"
    )]
    pub fn new(env: Env, client: &NativeClient, options: Option<Unknown>) -> Result<Self> {
        let (journal, options) = crate::options_map(options)
            .and_then(|map| batch_options(&map))
            .map_err(|error| to_napi_error(&env, &error))?;
        Ok(NativeBatch {
            client: client.inner.clone(),
            journal,
            options,
            running: Mutex::new(Vec::new()),
        })
    }

    /// Runs the batch of `file` (or resumes it); resolves to its report
    /// as JSON text. `onProgress` is called with each progress, then once
    /// with the phase `end` before the promise settles.
    #[napi(
        ts_args_type = "file: string, onProgress?: ((progress: BatchProgress) => void) | null",
        ts_return_type = "Promise<string>"
    )]
    pub async fn run(&self, file: String, on_progress: Option<ProgressFn>) -> BatchOutcome<String> {
        let path = PathBuf::from(file);
        let on_progress = on_progress.map(Arc::new);
        let batch = match self.open(Some(&path), Access::Client) {
            Ok(batch) => with_progress(batch, on_progress.as_ref()),
            Err(failure) => return BatchOutcome(Err(failure)),
        };
        self.run_task(on_progress, async move {
            Ok(report_text(&batch.run(&path).await?))
        })
        .await
    }

    /// Follows the batch of `file` (the journal's latest when null) up;
    /// resolves to its report as JSON text.
    #[napi(
        ts_args_type = "file?: string | null, onProgress?: ((progress: BatchProgress) => void) | null",
        ts_return_type = "Promise<string>"
    )]
    pub async fn status(
        &self,
        file: Option<String>,
        on_progress: Option<ProgressFn>,
    ) -> BatchOutcome<String> {
        let path = file.map(PathBuf::from);
        let on_progress = on_progress.map(Arc::new);
        let batch = match self.open(path.as_deref(), Access::Client) {
            Ok(batch) => with_progress(batch, on_progress.as_ref()),
            Err(failure) => return BatchOutcome(Err(failure)),
        };
        self.run_task(on_progress, async move {
            Ok(report_text(&batch.status(path.as_deref()).await?))
        })
        .await
    }

    /// The report of the batch of `file` (the latest when null), from the
    /// journal alone, as JSON text.
    #[napi(
        ts_args_type = "file?: string | null",
        ts_return_type = "Promise<string>"
    )]
    pub async fn report(&self, file: Option<String>) -> BatchOutcome<String> {
        let path = file.map(PathBuf::from);
        let batch = match self.open(path.as_deref(), Access::JournalOnly) {
            Ok(batch) => batch,
            Err(failure) => return BatchOutcome(Err(failure)),
        };
        self.run_task(None, async move {
            Ok(report_text(&batch.report(path.as_deref()).await?))
        })
        .await
    }

    /// Writes every row of the batch of `file` (the latest when null) to
    /// the file at `out`, as `format` (`'csv'`, the default, or `'json'`).
    /// The file is created when the report is known to exist. Needs a
    /// journal that exists (`BATCH_NOT_FOUND` otherwise).
    #[napi(
        ts_args_type = "out: string, file?: string | null, format?: string | null",
        ts_return_type = "Promise<void>"
    )]
    pub async fn write_report(
        &self,
        out: String,
        file: Option<String>,
        format: Option<String>,
    ) -> BatchOutcome<()> {
        let path = file.map(PathBuf::from);
        let opened = format
            .as_deref()
            .unwrap_or("csv")
            .parse::<ReportFormat>()
            .map_err(Failure::from)
            .and_then(|format| Ok((format, self.open(path.as_deref(), Access::JournalOnly)?)));
        let (format, batch) = match opened {
            Ok(opened) => opened,
            Err(failure) => return BatchOutcome(Err(failure)),
        };
        self.run_task(None, async move {
            Ok(batch
                .write_report_to_path(path.as_deref(), format, &out)
                .await?)
        })
        .await
    }

    /// Records a verified IPN's event (as `constructEvent` returns it) in
    /// the journal; resolves to whether a row changed. Needs a journal
    /// that exists (`BATCH_NOT_FOUND` otherwise).
    #[napi(
        ts_args_type = "event: Record<string, unknown>",
        ts_return_type = "Promise<boolean>"
    )]
    pub async fn apply_event(&self, event: Value) -> BatchOutcome<bool> {
        let event: PayoutEvent = match serde_json::from_value(event) {
            Ok(event) => event,
            Err(_) => {
                return BatchOutcome(Err(Failure::Sdk(SdkError::invalid_request(
                    "event",
                    "must be a PayoutEvent (from constructEvent)",
                ))))
            }
        };
        let batch = match self.open(None, Access::JournalOnly) {
            Ok(batch) => batch,
            Err(failure) => return BatchOutcome(Err(failure)),
        };
        self.run_task(None, async move { Ok(batch.apply_event(&event).await?) })
            .await
    }

    /// Stops the operations of this native batch cleanly: no new pay
    /// starts, the pays in flight finish and are recorded, rows claimed but
    /// not sent go back to `planned`; each then settles as usual (a run
    /// resolves to its report). A rerun continues the batch.
    #[napi]
    pub fn stop(&self) {
        for handle in self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            handle.stop();
        }
    }
}

/// The journal a file's batch uses when none is named: `<file>.journal`
/// beside it (the engine's `default_journal_path`).
#[napi]
pub fn batch_default_journal(file: String) -> String {
    default_journal_path(Path::new(&file)).display().to_string()
}
