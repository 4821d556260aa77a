//! What every handler and background task shares.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use pockyt_payouts_sign::TokenDigest;
use tokio::runtime::Handle;
use tokio::task::JoinSet;

use crate::config::SandboxConfig;
use crate::state::State;

/// How long one IPN try may take.
pub(crate) const IPN_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct Shared {
    pub config: SandboxConfig,
    pub digest: TokenDigest,
    /// The configured balances, in cents (what `reset` restores).
    pub initial_balances: BTreeMap<String, i128>,
    state: Mutex<State>,
    /// Settle timers and IPN workers; aborted on reset and shutdown.
    tasks: Mutex<JoinSet<()>>,
    runtime: Handle,
    pub http: reqwest::Client,
    /// Whether each request is logged to stderr.
    pub log_requests: bool,
    /// Set when the sandbox stops: no background task starts after it.
    closed: AtomicBool,
}

impl Shared {
    pub fn new(
        config: SandboxConfig,
        initial_balances: BTreeMap<String, i128>,
        runtime: Handle,
        log_requests: bool,
    ) -> std::io::Result<Self> {
        // Webhooks go straight to the receiver: a local sandbox talks to
        // local test receivers, which a proxy from the environment would
        // not reach.
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(IPN_TIMEOUT)
            .user_agent(concat!("pockyt-sandbox/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Shared {
            digest: TokenDigest::from_token(&config.api_token),
            state: Mutex::new(State::new(initial_balances.clone())),
            initial_balances,
            config,
            tasks: Mutex::new(JoinSet::new()),
            runtime,
            http,
            log_requests,
            closed: AtomicBool::new(false),
        })
    }

    /// The state. A panic while it was held cannot leave it half-changed
    /// in a way that matters more than stopping the sandbox would, so a
    /// poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tasks(&self) -> MutexGuard<'_, JoinSet<()>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs a background task on the sandbox's runtime.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut tasks = self.tasks();
        // Checked under the lock `close` takes: nothing slips in after it.
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        while tasks.try_join_next().is_some() {}
        tasks.spawn_on(task, &self.runtime);
    }

    /// Stops every background task.
    fn abort_tasks(&self) {
        self.tasks().abort_all();
    }

    /// Stops every background task for good: requests still in flight
    /// while the server stops start none.
    pub fn close(&self) {
        let mut tasks = self.tasks();
        self.closed.store(true, Ordering::SeqCst);
        tasks.abort_all();
    }

    /// Forgets everything: background tasks first (so that none of them
    /// acts on the new state), then the state, balances back to the
    /// configured ones.
    pub fn reset(&self) {
        self.abort_tasks();
        self.lock().reset(self.initial_balances.clone());
    }
}
