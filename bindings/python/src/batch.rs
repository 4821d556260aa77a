//! Batch payouts for `pockyt_payouts.batch`: the Rust engine
//! (`pockyt_payouts::batch`) carried across, nothing decided here.
//!
//! [`NativeBatch`] keeps a client, a journal path (or none: each file's
//! default journal, `default_journal_path`, resolved in Rust) and the
//! options; every call opens the journal, runs one operation of the engine
//! and answers JSON (the report as the engine serializes it, plus its
//! `success` and `paid`, which the engine computes), `bytes` (a written
//! report) or a `bool`. The Python layer wraps answers in typed objects and
//! errors in `BatchError`.
//!
//! **Blocking calls** (`run`, `status`, ...) run on the runtime while the
//! calling thread waits with the GIL released. Progress reaches it over a
//! channel and the callback is called on the calling thread, with the GIL,
//! between two waits; signals are checked at least every
//! [`SIGNAL_CHECK_INTERVAL`](crate::SIGNAL_CHECK_INTERVAL). Ctrl-C, or an
//! exception raised by the callback, stops the batch cleanly (the engine's
//! `StopHandle`: no new pay starts, the pays in flight finish and are
//! recorded, rows claimed but not sent go back to `planned`) and is raised
//! once it has stopped; a second Ctrl-C meanwhile abandons it at once (rows
//! caught in flight stay `sending`, and the next run settles them by
//! inquiry: never paid twice).
//!
//! **Async calls** (`run_async`, ...) answer a future of the running event
//! loop, completed through the loop's bridge (`bridge`): the runtime never
//! takes the GIL; progress callbacks run on the loop's thread, in order,
//! before the future completes. An exception in the callback stops the
//! batch cleanly and is the future's exception. `run_async` and
//! `status_async` also answer a [`BatchStop`], with which the Python layer
//! stops the batch cleanly when the awaiting task is cancelled; cancelling
//! the future itself abandons the operation at once.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use pockyt_payouts::batch::{
    default_journal_path, Batch, BatchError, BatchOptions, BatchReport, InputFormat, Progress,
    ReportFormat, StopHandle,
};
use pockyt_payouts::webhook::PayoutEvent;
use pockyt_payouts::Error;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use serde_json::Value;

use crate::bridge;
use crate::convert::{json_to_py, to_py_err};
use crate::{runtime, NativeClient, SIGNAL_CHECK_INTERVAL};

/// The Python module whose `_error_from_native` builds `BatchError`.
const BATCH_MODULE: &str = "pockyt_payouts.batch";

/// What a batch operation answers, on its way to Python.
enum Answer {
    /// A JSON value (a report), as dicts and lists.
    Json(Value),
    /// A written report, as `bytes`.
    Bytes(Vec<u8>),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    Nothing,
}

impl Answer {
    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        match self {
            Answer::Json(value) => json_to_py(py, &value),
            Answer::Bytes(bytes) => Ok(PyBytes::new(py, &bytes).into_any()),
            Answer::Bool(b) => Ok(pyo3::types::PyBool::new(py, b).to_owned().into_any()),
            Answer::Nothing => Ok(py.None().into_bound(py)),
        }
    }
}

/// The report as the engine serializes it (camelCase), with what the
/// engine computes from it: `success` ([`BatchReport::is_success`]) and
/// `paid` ([`BatchReport::paid`]).
pub(crate) fn report_json(report: &BatchReport) -> Value {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.insert("success".to_owned(), Value::Bool(report.is_success()));
        fields.insert("paid".to_owned(), Value::from(report.paid()));
    }
    value
}

/// A batch error as the exception the Python layer defines: a client
/// error (a balance call that failed, say) as that error's own class;
/// the others as `pockyt_payouts.batch.BatchError`, with the variant's
/// details ([`BatchError::details`]).
fn batch_err(py: Python<'_>, error: &BatchError) -> PyErr {
    if let BatchError::Client(error) = error {
        return to_py_err(py, error);
    }
    let details = error.details();
    let built = json_to_py(py, &details).and_then(|details| {
        py.import(BATCH_MODULE)?
            .getattr("_error_from_native")?
            .call1((error.message(), error.code(), details))
    });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(failed) => failed,
    }
}

/// The progress as the dict `Progress` is made from.
fn progress_dict<'py>(py: Python<'py>, progress: &Progress) -> PyResult<Bound<'py, PyAny>> {
    json_to_py(py, &serde_json::to_value(progress).unwrap_or(Value::Null))
}

/// A `Write` into a buffer shared with the caller (the engine wants an
/// owned, `'static` writer).
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuffer {
    fn take(&self) -> Vec<u8> {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// One operation of the engine, ready to run: the batch (journal opened,
/// options set) and what to do with it.
type Operation = Box<dyn FnOnce(Batch) -> BoxedRun + Send>;
type BoxedRun = std::pin::Pin<Box<dyn Future<Output = Result<Answer, BatchError>> + Send>>;

fn operation<F, Fut>(f: F) -> Operation
where
    F: FnOnce(Batch) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Answer, BatchError>> + Send + 'static,
{
    Box::new(move |batch| Box::pin(f(batch)))
}

/// What the waiting thread of a blocking call receives.
enum Message {
    Progress(Progress),
    Done(Result<Answer, BatchError>),
}

/// What an operation needs: the client (it pays or calls the API), or the
/// journal alone (reports, events), which must exist.
#[derive(Clone, Copy)]
enum Access {
    Client,
    JournalOnly,
}

/// Asks a running batch (`run_async`, `status_async`) to stop cleanly:
/// no new pay starts, the pays in flight finish and are recorded, rows
/// claimed but not sent go back to `planned` (the engine's `StopHandle`).
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct BatchStop(StopHandle);

#[pymethods]
impl BatchStop {
    /// Stops the batch cleanly; its future then completes.
    fn stop(&self) {
        self.0.stop();
    }

    /// Whether a stop was asked for.
    #[getter]
    fn stopped(&self) -> bool {
        self.0.is_stopped()
    }
}

/// The native batch behind `pockyt_payouts.batch.Batch` and `AsyncBatch`.
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct NativeBatch {
    client: Py<NativeClient>,
    /// `None`: each file's default journal.
    journal: Option<PathBuf>,
    options: BatchOptions,
}

impl NativeBatch {
    /// The journal of `file`'s batch: the one given, or the file's default.
    fn journal_for(&self, file: Option<&Path>) -> Result<PathBuf, Error> {
        match (&self.journal, file) {
            (Some(journal), _) => Ok(journal.clone()),
            (None, Some(file)) => Ok(default_journal_path(file)),
            (None, None) => Err(Error::invalid_config(
                "journal",
                "must be given when no file is (the default journal is the file's)",
            )),
        }
    }

    /// The engine's batch for one operation on `file`: the client (rebuilt
    /// after a fork) unless the journal alone will do, the journal opened
    /// (with the GIL released), the options.
    fn open(&self, py: Python<'_>, file: Option<&Path>, access: Access) -> PyResult<Batch> {
        let journal = self.journal_for(file).map_err(|e| to_py_err(py, &e))?;
        let client = match access {
            Access::Client => Some(self.client.get().client_for(py, &[])?),
            Access::JournalOnly => None,
        };
        let options = self.options.clone();
        py.detach(move || {
            match client {
                Some(client) => Batch::open(client, journal),
                None => Batch::open_journal_only(journal),
            }
            .map(|b| b.with_options(options))
        })
        .map_err(|e| batch_err(py, &e))
    }

    /// Runs `op` on the runtime and waits with the GIL released, calling
    /// `on_progress` on this thread (see the module's documentation).
    fn block_on(
        &self,
        py: Python<'_>,
        file: Option<&Path>,
        access: Access,
        on_progress: Option<Bound<'_, PyAny>>,
        op: Operation,
    ) -> PyResult<Py<PyAny>> {
        let mut batch = self.open(py, file, access)?;
        let stop = batch.stop_handle();
        let (tx, rx) = mpsc::channel::<Message>();
        if on_progress.is_some() {
            let progress_tx = tx.clone();
            batch = batch.on_progress(move |progress| {
                let _ = progress_tx.send(Message::Progress(*progress));
            });
        }
        let handle = runtime::handle(py)?;
        let task = handle.spawn(async move {
            let _ = tx.send(Message::Done(op(batch).await));
        });
        // The error to raise once the batch has stopped (Ctrl-C, or the
        // callback's exception): while it is set, no callback is called and
        // a signal abandons the batch at once.
        let mut stopping: Option<PyErr> = None;
        let check_signals = |stopping: &mut Option<PyErr>| -> PyResult<()> {
            let Err(interrupted) = py.check_signals() else {
                return Ok(());
            };
            if stopping.is_some() {
                task.abort();
                return Err(interrupted);
            }
            stop.stop();
            *stopping = Some(interrupted);
            Ok(())
        };
        let mut rx = rx;
        loop {
            // The receiver is moved into the GIL-free closure and back out
            // (it is `Send`, not `Sync`).
            let (received, returned) =
                py.detach(move || (rx.recv_timeout(SIGNAL_CHECK_INTERVAL), rx));
            rx = returned;
            let first = match received {
                Ok(message) => message,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    check_signals(&mut stopping)?;
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err(
                        "the batch was dropped before it answered (the runtime is shutting down)",
                    ));
                }
            };
            // Everything already queued: a slow callback sees the latest
            // progress of each phase, not every step it missed.
            let mut progress = Vec::new();
            let mut done = None;
            let mut next = Some(first);
            while let Some(message) = next.take() {
                match message {
                    Message::Progress(p) => progress.push(p),
                    Message::Done(outcome) => {
                        done = Some(outcome);
                        break;
                    }
                }
                next = rx.try_recv().ok();
            }
            if let Some(callback) = &on_progress {
                for (n, p) in progress.iter().enumerate() {
                    let superseded = progress.get(n + 1).is_some_and(|q| q.phase == p.phase);
                    if superseded || stopping.is_some() {
                        continue;
                    }
                    let called = progress_dict(py, p).and_then(|d| callback.call1((d,)));
                    if let Err(error) = called {
                        stop.stop();
                        stopping = Some(error);
                    }
                    check_signals(&mut stopping)?;
                }
            }
            if let Some(outcome) = done {
                if let Some(error) = stopping {
                    return Err(error);
                }
                return match outcome {
                    Ok(answer) => answer.into_py(py).map(Bound::unbind),
                    Err(error) => Err(batch_err(py, &error)),
                };
            }
        }
    }

    /// Runs `op` on the runtime and answers a future of the running event
    /// loop (see the module's documentation).
    fn spawn<'py>(
        &self,
        py: Python<'py>,
        file: Option<&Path>,
        access: Access,
        on_progress: Option<Bound<'py, PyAny>>,
        op: Operation,
    ) -> PyResult<(Bound<'py, PyAny>, StopHandle)> {
        let (event_loop, queue) = bridge::running_loop(py)?;
        let mut batch = self.open(py, file, access)?;
        let stop = batch.stop_handle();
        let future = event_loop.call_method0("create_future")?;
        let target = Arc::new(future.clone().unbind());
        // The callback's exception, the future's once the batch has
        // stopped (touched on the loop's thread only).
        let failed: Arc<Mutex<Option<PyErr>>> = Arc::default();
        if let Some(callback) = on_progress {
            let callback = Arc::new(callback.unbind());
            let (queue, target) = (queue.clone(), Arc::clone(&target));
            let (failed, stop) = (Arc::clone(&failed), stop.clone());
            batch = batch.on_progress(move |progress| {
                let (progress, callback) = (*progress, Arc::clone(&callback));
                let (target, failed, stop) =
                    (Arc::clone(&target), Arc::clone(&failed), stop.clone());
                queue.run_on_loop(Box::new(move |py| {
                    let mut failed = failed.lock().unwrap_or_else(|e| e.into_inner());
                    if failed.is_some() || target.bind(py).call_method0("done")?.is_truthy()? {
                        return Ok(());
                    }
                    let called =
                        progress_dict(py, &progress).and_then(|d| callback.bind(py).call1((d,)));
                    let Err(error) = called else { return Ok(()) };
                    stop.stop();
                    if error.is_instance_of::<PyException>(py) {
                        *failed = Some(error);
                        Ok(())
                    } else {
                        // KeyboardInterrupt, SystemExit: the loop raises it.
                        *failed = Some(error.clone_ref(py));
                        Err(error)
                    }
                }));
            });
        }
        let handle = runtime::handle(py)?;
        let done = Arc::clone(&target);
        let task = handle.spawn(async move {
            let outcome = op(batch).await;
            queue.run_on_loop(Box::new(move |py| {
                let future = done.bind(py);
                if future.call_method0("done")?.is_truthy()? {
                    return Ok(());
                }
                let failed = failed.lock().unwrap_or_else(|e| e.into_inner()).take();
                let outcome = match failed {
                    Some(error) => Err(error),
                    None => outcome
                        .map_err(|e| batch_err(py, &e))
                        .and_then(|a| a.into_py(py)),
                };
                match outcome {
                    Ok(value) => future.call_method1("set_result", (value,))?,
                    Err(error) => future.call_method1("set_exception", (error.into_value(py),))?,
                };
                Ok(())
            }));
        });
        bridge::abort_on_cancel(&future, task.abort_handle())?;
        Ok((future, stop))
    }
}

/// `run`: the report of running `file`.
fn run_op(file: PathBuf) -> Operation {
    operation(move |batch| async move {
        batch
            .run(&file)
            .await
            .map(|r| Answer::Json(report_json(&r)))
    })
}

/// `status`: the report after following `file`'s batch up.
fn status_op(file: Option<PathBuf>) -> Operation {
    operation(move |batch| async move {
        batch
            .status(file.as_deref())
            .await
            .map(|r| Answer::Json(report_json(&r)))
    })
}

/// `report`: the report from the journal alone.
fn report_op(file: Option<PathBuf>) -> Operation {
    operation(move |batch| async move {
        batch
            .report(file.as_deref())
            .await
            .map(|r| Answer::Json(report_json(&r)))
    })
}

/// `write_report`: every row to the file at `out`, or (`None`) as bytes.
fn write_report_op(
    py: Python<'_>,
    file: Option<PathBuf>,
    format: &str,
    out: Option<PathBuf>,
) -> PyResult<Operation> {
    let format = format
        .parse::<ReportFormat>()
        .map_err(|e| to_py_err(py, &e))?;
    Ok(operation(move |batch| async move {
        match out {
            Some(path) => batch
                .write_report_to_path(file.as_deref(), format, &path)
                .await
                .map(|()| Answer::Nothing),
            None => {
                let buffer = SharedBuffer::default();
                batch
                    .write_report(file.as_deref(), format, buffer.clone())
                    .await
                    .map(|()| Answer::Bytes(buffer.take()))
            }
        }
    }))
}

/// `apply_event`: the event (a dict of wire names, as `construct_event`
/// answers it) recorded in the journal.
fn apply_event_op(py: Python<'_>, event: &Bound<'_, PyDict>) -> PyResult<Operation> {
    let fields = crate::settings_map(event)?;
    let event: PayoutEvent = serde_json::from_value(Value::Object(fields)).map_err(|_| {
        to_py_err(
            py,
            &Error::invalid_request(
                "event",
                "must be a PayoutEvent (from pockyt_payouts.webhooks.construct_event)",
            ),
        )
    })?;
    Ok(operation(move |batch| async move {
        batch.apply_event(&event).await.map(Answer::Bool)
    }))
}

#[pymethods]
impl NativeBatch {
    /// A batch paying through `client`, journaled in `journal` (`None`:
    /// each file's default journal, `<file>.journal`). Options left `None`
    /// take the engine's defaults (`BatchOptions::default`); the engine
    /// checks them when a batch runs. `format` is `"csv"` or `"jsonl"`
    /// (`None`: by the file's name); `status_backoff` is in seconds.
    #[new]
    #[pyo3(signature = (client, journal=None, *, concurrency=None, rate=None, dry_run=false, skip_invalid=false, skip_funds_check=false, format=None, status_rounds=None, status_backoff=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        client: Py<NativeClient>,
        journal: Option<PathBuf>,
        concurrency: Option<i64>,
        rate: Option<f64>,
        dry_run: bool,
        skip_invalid: bool,
        skip_funds_check: bool,
        format: Option<&str>,
        status_rounds: Option<i64>,
        status_backoff: Option<f64>,
    ) -> PyResult<Self> {
        let defaults = BatchOptions::default();
        let refuse = |field: &str, rule: &str| to_py_err(py, &Error::invalid_config(field, rule));
        let options = BatchOptions {
            // Out of range (a negative one included) is the engine's to
            // refuse, with its own rule.
            concurrency: concurrency
                .map_or(defaults.concurrency, |n| usize::try_from(n).unwrap_or(0)),
            rate,
            dry_run,
            skip_invalid,
            skip_funds_check,
            format: format
                .map(str::parse::<InputFormat>)
                .transpose()
                .map_err(|e| to_py_err(py, &e))?,
            status_rounds: match status_rounds {
                None => defaults.status_rounds,
                Some(n) => u32::try_from(n).map_err(|_| {
                    refuse(
                        "status_rounds",
                        "must be a whole number from 0 to 4294967295",
                    )
                })?,
            },
            status_backoff: match status_backoff {
                None => defaults.status_backoff,
                Some(seconds) => Duration::try_from_secs_f64(seconds).map_err(|_| {
                    refuse("status_backoff", "must be a non-negative number of seconds")
                })?,
            },
        };
        Ok(NativeBatch {
            client,
            journal,
            options,
        })
    }

    /// Runs the batch of `file` (or resumes it) and answers its report
    /// (a dict, wire names), waiting with the GIL released.
    #[pyo3(signature = (file, on_progress=None))]
    fn run(
        &self,
        py: Python<'_>,
        file: PathBuf,
        on_progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let op = run_op(file.clone());
        self.block_on(py, Some(&file), Access::Client, on_progress, op)
    }

    /// Follows the batch of `file` (the journal's latest when `None`) up
    /// and answers its report.
    #[pyo3(signature = (file=None, on_progress=None))]
    fn status(
        &self,
        py: Python<'_>,
        file: Option<PathBuf>,
        on_progress: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let op = status_op(file.clone());
        self.block_on(py, file.as_deref(), Access::Client, on_progress, op)
    }

    /// The report of the batch of `file` (the latest when `None`), from
    /// the journal alone.
    #[pyo3(signature = (file=None))]
    fn report(&self, py: Python<'_>, file: Option<PathBuf>) -> PyResult<Py<PyAny>> {
        let op = report_op(file.clone());
        self.block_on(py, file.as_deref(), Access::JournalOnly, None, op)
    }

    /// Writes every row of the batch of `file` (the latest when `None`)
    /// as `format` (`"csv"` or `"json"`) to the file at `out`, answering
    /// `None`, or (no `out`) answers the bytes.
    #[pyo3(signature = (file=None, format="csv", out=None))]
    fn write_report(
        &self,
        py: Python<'_>,
        file: Option<PathBuf>,
        format: &str,
        out: Option<PathBuf>,
    ) -> PyResult<Py<PyAny>> {
        let op = write_report_op(py, file.clone(), format, out)?;
        self.block_on(py, file.as_deref(), Access::JournalOnly, None, op)
    }

    /// Records a verified IPN's event (a dict of wire names) in the
    /// journal; answers whether a row changed. Needs a journal.
    fn apply_event(&self, py: Python<'_>, event: &Bound<'_, PyDict>) -> PyResult<Py<PyAny>> {
        let op = apply_event_op(py, event)?;
        self.block_on(py, None, Access::JournalOnly, None, op)
    }

    /// Like `run`, as a future of the running event loop, and the
    /// [`BatchStop`] that stops it cleanly.
    #[pyo3(signature = (file, on_progress=None))]
    fn run_async<'py>(
        &self,
        py: Python<'py>,
        file: PathBuf,
        on_progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, BatchStop)> {
        let op = run_op(file.clone());
        let (future, stop) = self.spawn(py, Some(&file), Access::Client, on_progress, op)?;
        Ok((future, BatchStop(stop)))
    }

    /// Like `status`, as a future of the running event loop, and the
    /// [`BatchStop`] that stops it cleanly.
    #[pyo3(signature = (file=None, on_progress=None))]
    fn status_async<'py>(
        &self,
        py: Python<'py>,
        file: Option<PathBuf>,
        on_progress: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, BatchStop)> {
        let op = status_op(file.clone());
        let (future, stop) = self.spawn(py, file.as_deref(), Access::Client, on_progress, op)?;
        Ok((future, BatchStop(stop)))
    }

    /// Like `report`, as a future of the running event loop.
    #[pyo3(signature = (file=None))]
    fn report_async<'py>(
        &self,
        py: Python<'py>,
        file: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let op = report_op(file.clone());
        let (future, _) = self.spawn(py, file.as_deref(), Access::JournalOnly, None, op)?;
        Ok(future)
    }

    /// Like `write_report`, as a future of the running event loop.
    #[pyo3(signature = (file=None, format="csv", out=None))]
    fn write_report_async<'py>(
        &self,
        py: Python<'py>,
        file: Option<PathBuf>,
        format: &str,
        out: Option<PathBuf>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let op = write_report_op(py, file.clone(), format, out)?;
        let (future, _) = self.spawn(py, file.as_deref(), Access::JournalOnly, None, op)?;
        Ok(future)
    }

    /// Like `apply_event`, as a future of the running event loop.
    fn apply_event_async<'py>(
        &self,
        py: Python<'py>,
        event: &Bound<'py, PyDict>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let op = apply_event_op(py, event)?;
        let (future, _) = self.spawn(py, None, Access::JournalOnly, None, op)?;
        Ok(future)
    }

    /// The journal given (`None`: each file's default).
    #[getter]
    fn journal(&self) -> Option<PathBuf> {
        self.journal.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeBatch(journal={:?}, options={:?})",
            self.journal, self.options
        )
    }
}

/// The default journal of `file`: `<file>.journal` beside it (the engine's
/// `default_journal_path`).
#[pyfunction]
fn batch_default_journal(file: PathBuf) -> PathBuf {
    default_journal_path(&file)
}

/// Registers the batch's class and function.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeBatch>()?;
    m.add_class::<BatchStop>()?;
    m.add_function(wrap_pyfunction!(batch_default_journal, m)?)?;
    Ok(())
}
