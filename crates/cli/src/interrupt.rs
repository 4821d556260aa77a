//! Ctrl-C, listened for from the moment the listener is made.
//!
//! `tokio::signal::ctrl_c()` installs its handler only when the future is
//! first polled. A command that starts its call in the same `select!` can
//! therefore have a request on the wire while SIGINT still has its default
//! effect (after [`crate::run_as_main`] reset it), and a Ctrl-C in that
//! window killed the process instead of ending the call with exit code 130.
//! [`Interrupts::listen`] registers the handler before any work starts, and
//! one listener serves a command's first and second Ctrl-C alike, so none
//! falls between two listeners.

use crate::output::Failure;

/// A registered Ctrl-C (SIGINT) listener; every Ctrl-C from its creation
/// on is seen by [`Interrupts::next`].
pub(crate) struct Interrupts {
    #[cfg(unix)]
    signals: tokio::signal::unix::Signal,
    #[cfg(windows)]
    signals: tokio::signal::windows::CtrlC,
}

impl Interrupts {
    /// Registers the handler now. Call it inside the runtime, before the
    /// work that Ctrl-C should interrupt starts.
    pub(crate) fn listen() -> Result<Interrupts, Failure> {
        #[cfg(unix)]
        let signals = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        #[cfg(windows)]
        let signals = tokio::signal::windows::ctrl_c();
        signals
            .map(|signals| Interrupts { signals })
            .map_err(|error| Failure::io("cannot listen for Ctrl-C", &error))
    }

    /// Waits for the next Ctrl-C.
    pub(crate) async fn next(&mut self) {
        self.signals.recv().await;
    }
}
