//! Completing asyncio futures from the tokio runtime.
//!
//! A call made with `call_async` runs on the SDK's tokio runtime; its
//! answer must reach an asyncio future that only the event loop's thread
//! may touch. Handing each answer over with `loop.call_soon_threadsafe`
//! (what `pyo3-async-runtimes` does) makes a tokio thread take the GIL once
//! per call, so under load the runtime's threads queue for the GIL behind
//! the event loop (profiled: a third of the time of an async call).
//!
//! Here the runtime never takes the GIL. Each event loop has one
//! [`LoopBridge`]: a queue of finished calls and a socket pair whose read
//! end the loop watches (`loop.add_reader`). A finished call is pushed onto
//! the queue, and only the first one after the loop last looked writes a
//! byte to wake it; the loop then completes every finished call in one go,
//! turning answers into Python objects on its own thread, with the GIL it
//! already holds.
//!
//! Cancelling the awaiting task cancels the future, whose done callback
//! ([`AbortOnCancel`]) aborts the call on the runtime, as dropping a Rust
//! future would.
//!
//! Work other than a call's answer (a batch's progress callback, an answer
//! that is not a call's, see `batch`) reaches the loop the same way, as a
//! [`Job`] handed to a [`LoopQueue`]: run on the loop's thread, in order
//! with the calls finished around it.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, OnceLock};

use pockyt_payouts::Error;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use serde_json::Value;
use tokio::task::AbortHandle;

use crate::answer;
use crate::convert::to_py_err;

/// The attribute of an event loop that holds its bridge (loops of asyncio
/// have a `__dict__`; loops that have none use [`BRIDGES`]).
const BRIDGE_ATTRIBUTE: &str = "_pockyt_payouts_bridge";

/// `asyncio.get_running_loop`, looked up once.
static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Bridges of loops that take no attributes, by loop (weakly).
static BRIDGES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Work for the event loop's thread, run there with the GIL the loop
/// holds. A job handles its own exceptions; one it returns is reported as
/// unraisable (or, for an interruption, raised by the loop once the other
/// jobs and calls are done).
pub type Job = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<()> + Send>;

/// What the loop has to do: complete a finished call's future, or run a job.
enum Finished {
    Call {
        future: Py<PyAny>,
        /// The future's done callback, taken off before the future is
        /// completed (it only matters for a cancelled future).
        on_cancel: Py<AbortOnCancel>,
        /// The result class the answer becomes (`None`: a dict).
        result: Option<Py<PyType>>,
        outcome: Result<Value, Error>,
    },
    Job(Job),
}

/// What the runtime's threads share with the loop's.
struct Queue {
    /// Finished calls the loop has not completed yet, and whether the
    /// loop has been woken for them since it last looked.
    state: Mutex<(Vec<Finished>, bool)>,
    /// The write end of the wake-up socket pair.
    waker: UnixStream,
    /// The read end, watched by the loop. Kept here, with the write end,
    /// so that a call finishing after its loop is gone never writes into
    /// a closed pair (which would raise SIGPIPE).
    wakeups: UnixStream,
}

impl Queue {
    /// Hands a finished call to the loop (any thread, no GIL).
    fn push(&self, finished: Finished) {
        let wake = {
            let mut state = self
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.0.push(finished);
            !std::mem::replace(&mut state.1, true)
        };
        if wake {
            // Non-blocking: a full socket already holds a wake-up.
            let _ = (&self.waker).write(&[1]);
        }
    }
}

/// The bridge of one event loop: see the module's documentation.
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct LoopBridge {
    queue: Arc<Queue>,
}

#[pymethods]
impl LoopBridge {
    /// Completes every finished call (called by the loop when the socket
    /// is readable). A future cancelled meanwhile is left as it is.
    fn _complete(&self, py: Python<'_>) -> PyResult<()> {
        let mut sink = [0u8; 256];
        loop {
            match (&self.queue.wakeups).read(&mut sink) {
                Ok(n) if n == sink.len() => continue,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => break,
            }
        }
        let finished = {
            let mut state = self
                .queue
                .state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            state.1 = false;
            std::mem::take(&mut state.0)
        };
        let mut interrupted = None;
        for item in finished {
            // One future's failure must not strand the others; an
            // interruption (KeyboardInterrupt, SystemExit) is raised once
            // every future is completed.
            match item {
                Finished::Call {
                    future,
                    on_cancel,
                    result,
                    outcome,
                } => {
                    let future = future.bind(py);
                    let result = result.as_ref().map(|class| class.bind(py));
                    if let Err(error) = complete(future, on_cancel.bind(py), result, outcome) {
                        if error.is_instance_of::<PyException>(py) {
                            let _ = future.call_method1("set_exception", (error.into_value(py),));
                        } else {
                            // Interrupted while building its result: the
                            // future is cancelled, never left pending.
                            let _ = future.call_method0("cancel");
                            interrupted.get_or_insert(error);
                        }
                    }
                }
                Finished::Job(job) => {
                    if let Err(error) = job(py) {
                        if error.is_instance_of::<PyException>(py) {
                            error.write_unraisable(py, None);
                        } else {
                            interrupted.get_or_insert(error);
                        }
                    }
                }
            }
        }
        interrupted.map_or(Ok(()), Err)
    }
}

/// Completes one future with its outcome (as an instance of `result` when
/// given), unless it was cancelled. Its done callback `on_cancel` is taken
/// off first: run for a future that was not cancelled it would do nothing,
/// at the cost of one more turn of the loop per call.
fn complete(
    future: &Bound<'_, PyAny>,
    on_cancel: &Bound<'_, AbortOnCancel>,
    result: Option<&Bound<'_, PyType>>,
    outcome: Result<Value, Error>,
) -> PyResult<()> {
    let py = future.py();
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    // Only saves a turn of the loop: a loop whose futures cannot do it
    // still gets the answer (the callback then runs and does nothing).
    let _ = future.call_method1("remove_done_callback", (on_cancel,));
    match outcome {
        Ok(value) => future.call_method1("set_result", (answer(py, &value, result)?,))?,
        Err(error) => {
            future.call_method1("set_exception", (to_py_err(py, &error).into_value(py),))?
        }
    };
    Ok(())
}

/// The done callback of a call's future: aborts the call on the runtime
/// when the future was cancelled.
#[pyclass(module = "pockyt_payouts._native", frozen)]
pub struct AbortOnCancel {
    /// Set once the call is spawned, before the loop can run the callback.
    task: OnceLock<AbortHandle>,
}

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            if let Some(task) = self.task.get() {
                task.abort();
            }
        }
        Ok(())
    }
}

/// The queue of a running event loop's bridge: hands [`Job`]s to the loop
/// from any thread, without the GIL.
#[derive(Clone)]
pub struct LoopQueue(Arc<Queue>);

impl LoopQueue {
    /// Runs `job` on the loop's thread, after what was handed to it before.
    pub fn run_on_loop(&self, job: Job) {
        self.0.push(Finished::Job(job));
    }
}

/// The running event loop and its queue (see [`LoopQueue`]). Raises
/// `RuntimeError` when no loop runs.
pub fn running_loop(py: Python<'_>) -> PyResult<(Bound<'_, PyAny>, LoopQueue)> {
    let (event_loop, bridge) = bridge_of_running_loop(py)?;
    let queue = LoopQueue(Arc::clone(&bridge.get().queue));
    Ok((event_loop, queue))
}

/// Aborts `task` on the runtime when `future` is cancelled.
pub fn abort_on_cancel(future: &Bound<'_, PyAny>, task: AbortHandle) -> PyResult<()> {
    future.call_method1(
        "add_done_callback",
        (AbortOnCancel {
            task: OnceLock::from(task),
        },),
    )?;
    Ok(())
}

/// The running loop's bridge, made and registered with the loop the first
/// time a call is made on it. Raises `RuntimeError` when no loop runs.
fn bridge_of_running_loop(py: Python<'_>) -> PyResult<(Bound<'_, PyAny>, Bound<'_, LoopBridge>)> {
    let get_running_loop = GET_RUNNING_LOOP.get_or_try_init(py, || {
        PyResult::Ok(py.import("asyncio")?.getattr("get_running_loop")?.unbind())
    })?;
    let event_loop = get_running_loop.bind(py).call0()?;
    if let Ok(found) = event_loop.getattr(BRIDGE_ATTRIBUTE) {
        if let Ok(bridge) = found.cast_into::<LoopBridge>() {
            return Ok((event_loop, bridge));
        }
    }
    let bridges = BRIDGES.get_or_try_init(py, || {
        PyResult::Ok(
            py.import("weakref")?
                .getattr("WeakKeyDictionary")?
                .call0()?
                .unbind(),
        )
    })?;
    if let Ok(Some(found)) = bridges
        .bind(py)
        .call_method1("get", (&event_loop,))
        .map(|b| b.cast_into::<LoopBridge>().ok())
    {
        return Ok((event_loop, found));
    }
    let bridge = Bound::new(py, new_bridge()?)?;
    // Remembered before the loop watches it, so that a loop that can
    // neither take the attribute nor be weakly referenced fails here, once,
    // without a reader left behind.
    let as_attribute = event_loop.setattr(BRIDGE_ATTRIBUTE, &bridge).is_ok();
    if !as_attribute {
        bridges.bind(py).set_item(&event_loop, &bridge)?;
    }
    let watched = event_loop.call_method1(
        "add_reader",
        (
            bridge.get().queue.wakeups.as_raw_fd(),
            bridge.getattr("_complete")?,
        ),
    );
    if let Err(error) = watched {
        // Not watched, so not to be found by the next call either.
        let _ = if as_attribute {
            event_loop.delattr(BRIDGE_ATTRIBUTE)
        } else {
            bridges.bind(py).del_item(&event_loop)
        };
        return Err(error);
    }
    Ok((event_loop, bridge))
}

fn new_bridge() -> PyResult<LoopBridge> {
    let (wakeups, waker) = UnixStream::pair()?;
    wakeups.set_nonblocking(true)?;
    waker.set_nonblocking(true)?;
    Ok(LoopBridge {
        queue: Arc::new(Queue {
            state: Mutex::new((Vec::new(), false)),
            waker,
            wakeups,
        }),
    })
}

/// Runs `call` on the runtime and answers an asyncio future of the running
/// loop that it completes (see the module's documentation) with the answer
/// as an instance of `result`, or as a dict when `result` is `None`.
pub fn spawn<'py, F>(
    py: Python<'py>,
    runtime: &tokio::runtime::Handle,
    result: Option<Py<PyType>>,
    call: F,
) -> PyResult<Bound<'py, PyAny>>
where
    F: std::future::Future<Output = Result<Value, Error>> + Send + 'static,
{
    let (event_loop, bridge) = bridge_of_running_loop(py)?;
    let future = event_loop.call_method0("create_future")?;
    let on_cancel = Bound::new(
        py,
        AbortOnCancel {
            task: OnceLock::new(),
        },
    )?;
    future.call_method1("add_done_callback", (&on_cancel,))?;
    let queue = Arc::clone(&bridge.get().queue);
    let unbound = future.clone().unbind();
    let callback = on_cancel.clone().unbind();
    let task = runtime.spawn(async move {
        let outcome = call.await;
        queue.push(Finished::Call {
            future: unbound,
            on_cancel: callback,
            result,
            outcome,
        });
    });
    // Before the loop runs again, so before the callback can run.
    let _ = on_cancel.get().task.set(task.abort_handle());
    Ok(future)
}
