//! The one tokio runtime of the process.
//!
//! Created lazily on the first call, never per call. It is an *owned*
//! runtime (a global one crashed the interpreter at exit on this
//! project's machines): the Python package shuts
//! it down from `atexit` with the GIL released, and resets it in the child
//! after `os.fork()` (a started runtime's threads do not survive a fork, so
//! the child would hang on it).
//!
//! Locking rule: [`STATE`] is only ever locked by a thread that holds the
//! GIL, and never across a release of the GIL. `os.fork()` runs with the GIL
//! held, so no other thread can hold the lock at the moment of the fork and
//! the child never inherits it locked. Threads of the runtime itself never
//! lock it, nor take the GIL (see `bridge`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// How long `atexit` waits for tasks still running at interpreter exit.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

enum State {
    /// No call made yet (or reset in a forked child).
    Unstarted,
    Running(tokio::runtime::Runtime),
    /// Shut down at interpreter exit; calls now fail.
    ShutDown,
}

static STATE: Mutex<State> = Mutex::new(State::Unstarted);

/// Bumped every time the runtime is reset after a fork, so that clients
/// built on the old runtime (whose pooled connections belong to its dead
/// I/O driver) know to rebuild themselves.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The current runtime generation (see [`GENERATION`]).
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

fn build() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("pockyt-payouts")
        .build()
}

/// A handle to the runtime, starting it on first use. The caller holds the
/// GIL (see the locking rule above).
pub fn handle(_py: Python<'_>) -> PyResult<tokio::runtime::Handle> {
    let mut state = STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match &*state {
        State::Running(rt) => Ok(rt.handle().clone()),
        State::ShutDown => Err(PyRuntimeError::new_err(
            "pockyt_payouts cannot make calls any more: its runtime was shut down at interpreter exit",
        )),
        State::Unstarted => {
            let rt = build().map_err(|e| PyRuntimeError::new_err(format!("could not start the tokio runtime: {e}")))?;
            let handle = rt.handle().clone();
            *state = State::Running(rt);
            Ok(handle)
        }
    }
}

/// Shuts the runtime down (called from `atexit`): tasks still running get
/// [`SHUTDOWN_GRACE`] with the GIL released, so that a task finishing an
/// asyncio future can take the GIL and does not do so during finalization.
#[pyfunction]
pub fn _shutdown_runtime(py: Python<'_>) {
    let previous = {
        let mut state = STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::replace(&mut *state, State::ShutDown)
    };
    if let State::Running(rt) = previous {
        py.detach(move || rt.shutdown_timeout(SHUTDOWN_GRACE));
    }
}

/// Resets the runtime in the child after `os.fork()` (registered with
/// `os.register_at_fork(after_in_child=...)`). The parent's runtime threads
/// do not exist in the child: its runtime is forgotten (dropping it would
/// wait for them forever) and a new one starts on the next call.
#[pyfunction]
pub fn _reset_after_fork() {
    let previous = {
        let mut state = STATE
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*state {
            State::ShutDown => return,
            _ => std::mem::replace(&mut *state, State::Unstarted),
        }
    };
    std::mem::forget(previous);
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Whether the runtime is running in this process (for tests of the lazy
/// start and of the fork reset).
#[pyfunction]
pub fn _runtime_started() -> bool {
    let state = STATE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    matches!(&*state, State::Running(_))
}
