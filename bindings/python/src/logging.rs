//! The core's events ([`pockyt_payouts::events`]) on Python's `logging`:
//! logger `pockyt_payouts`, at the event's level. Nothing the events carry
//! is secret (operation, path, timings, retry counts, error codes).
//!
//! The logger's effective level is read under the GIL at most once a
//! second and cached: an event below it costs an atomic load, never the
//! GIL.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use pockyt_payouts::events::{self, Event};
use pyo3::prelude::*;

const LOGGER: &str = "pockyt_payouts";
/// How often the logger's level is read again.
const REFRESH_MS: u64 = 1000;

/// Python's numeric level of the logger (0 until read).
static LEVEL: AtomicU8 = AtomicU8::new(0);
static READ_AT_MS: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn python_level(level: &str) -> u8 {
    match level {
        "error" => 40,
        "warn" => 30,
        "info" => 20,
        _ => 10,
    }
}

/// The logger's effective level, read again when the cached one is old.
fn effective_level() -> u8 {
    let now = now_ms();
    let read_at = READ_AT_MS.load(Ordering::Relaxed);
    if now.saturating_sub(read_at) >= REFRESH_MS
        && READ_AT_MS
            .compare_exchange(read_at, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        let level = Python::try_attach(|py| -> PyResult<u8> {
            let logger = py.import("logging")?.call_method1("getLogger", (LOGGER,))?;
            let level: i64 = logger.call_method0("getEffectiveLevel")?.extract()?;
            Ok(level.clamp(1, 255) as u8)
        });
        if let Some(Ok(level)) = level {
            LEVEL.store(level, Ordering::Relaxed);
        }
    }
    LEVEL.load(Ordering::Relaxed)
}

fn forward(event: &Event) {
    let level = python_level(event.level);
    if level < effective_level() {
        return;
    }
    let text = event.to_string();
    // Interpreter gone (exit) or not attachable: the event is dropped.
    let _ = Python::try_attach(|py| -> PyResult<()> {
        let logger = py.import("logging")?.call_method1("getLogger", (LOGGER,))?;
        logger.call_method1("log", (level, text))?;
        Ok(())
    });
}

/// Sends the core's events to `logging`; called once, when the module is
/// loaded.
pub fn install() {
    events::set_level("debug");
    events::install(Arc::new(forward));
}
