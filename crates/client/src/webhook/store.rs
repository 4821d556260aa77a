//! Where the deduplicator remembers which IPNs were handled.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::reply::Outcome;

/// What a store answers when asked to claim an event's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First sight (or an earlier claim lapsed or was released): this
    /// receiver runs the handler, then completes or releases the key.
    New,
    /// The handler already succeeded for this key: do not run it again,
    /// answer `success`.
    Done,
    /// Another delivery holds the claim and has not finished: do not run
    /// the handler; answer non-2xx so the API resends later.
    InProgress,
}

impl Claim {
    /// `new`, `done` or `in_progress`: the spelling the Python and Node
    /// stores answer.
    pub fn as_str(self) -> &'static str {
        match self {
            Claim::New => "new",
            Claim::Done => "done",
            Claim::InProgress => "in_progress",
        }
    }

    /// The outcome a claim decides before any handler runs: `None` for
    /// [`Claim::New`] (run it), [`Outcome::Duplicate`] for [`Claim::Done`],
    /// [`Outcome::InProgress`] for [`Claim::InProgress`].
    pub fn decided_outcome(self) -> Option<Outcome> {
        match self {
            Claim::New => None,
            Claim::Done => Some(Outcome::Duplicate),
            Claim::InProgress => Some(Outcome::InProgress),
        }
    }

    /// For the bindings, whose stores answer a claim as text: the name
    /// ([`Outcome::name`]) of the outcome that answer decides, `None` to run
    /// the handler; an answer that is not one of [`Claim::as_str`]'s
    /// spellings is a failed store.
    pub fn decided_by_answer(answer: &str) -> Option<&'static str> {
        match Claim::parse(answer) {
            Some(claim) => claim.decided_outcome().map(|o| o.name()),
            None => Some(Outcome::StoreFailed(StoreError::new("")).name()),
        }
    }

    /// Reads [`Claim::as_str`]'s spelling back.
    pub fn parse(text: &str) -> Option<Claim> {
        match text {
            "new" => Some(Claim::New),
            "done" => Some(Claim::Done),
            "in_progress" => Some(Claim::InProgress),
            _ => None,
        }
    }
}

/// A store could not be read or written. The IPN is answered non-2xx, so
/// the API resends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    message: String,
}

impl StoreError {
    /// The stable code of every store failure.
    pub const CODE: &'static str = "IPN_STORE_ERROR";

    /// A store failure described by `message` (never put an event's
    /// values or a secret in it).
    pub fn new(message: impl Into<String>) -> Self {
        StoreError {
            message: message.into(),
        }
    }

    /// The stable code, [`StoreError::CODE`].
    pub fn code(&self) -> &'static str {
        Self::CODE
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the IPN store failed: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

/// The future a store method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Remembers which events were handled, so a handler runs at most once per
/// key (`transactionNo:status`). Implement it over your own database (one
/// shared by several machines, say); [`MemoryEventStore`] is the default and
/// `SqliteEventStore` (feature `sqlite`) survives restarts.
///
/// The contract: `claim` atomically answers [`Claim::Done`] for a completed
/// key, [`Claim::InProgress`] for a key claimed less than the store's lease
/// ago and not yet completed or released, and otherwise records the claim
/// and answers [`Claim::New`]. `complete` marks a claimed key done for good
/// (at least as long as the API resends: 2 hours); `release` forgets a claim
/// that was not completed.
///
/// ```
/// use pockyt_payouts::webhook::{Claim, EventStore, MemoryEventStore};
/// # tokio_test_block_on(async {
/// let store = MemoryEventStore::new();
/// assert_eq!(store.claim("123:success").await.unwrap(), Claim::New);
/// assert_eq!(store.claim("123:success").await.unwrap(), Claim::InProgress);
/// store.complete("123:success").await.unwrap();
/// assert_eq!(store.claim("123:success").await.unwrap(), Claim::Done);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub trait EventStore: Send + Sync {
    /// Claims `key`: see the trait's contract.
    fn claim<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Claim>;
    /// Marks a claimed `key` done: later claims answer [`Claim::Done`].
    fn complete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()>;
    /// Forgets an uncompleted claim of `key`: the next claim is
    /// [`Claim::New`].
    fn release<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()>;
}

/// How long a claim holds before another delivery may take it over: a
/// handler that crashed its process (or hangs) is run again after this.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);
/// How long a completed key is remembered: well past the API's 2 hours of
/// resends.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How many keys [`MemoryEventStore`] keeps at most.
pub const DEFAULT_MEMORY_CAPACITY: usize = 100_000;
/// How long the API resends an IPN: no store forgets a key sooner.
pub const RESEND_WINDOW: Duration = Duration::from_secs(2 * 3600);

/// The shortest time a key must be remembered: the resend window, or the
/// lease when longer.
pub(crate) fn min_retention(lease: Duration) -> Duration {
    lease.max(RESEND_WINDOW)
}

/// The claim rule every built-in store applies to what it remembers of a
/// key: its state and how long ago that state was written.
pub(crate) fn decide(existing: Option<(bool, Duration)>, lease: Duration) -> Claim {
    match existing {
        Some((true, _)) => Claim::Done,
        Some((false, age)) if age < lease => Claim::InProgress,
        _ => Claim::New,
    }
}

#[derive(Clone, Copy)]
struct Entry {
    done: bool,
    at: Instant,
}

#[derive(Default)]
struct Memory {
    entries: HashMap<String, Entry>,
    /// Keys in the order they were written, for eviction; a key written
    /// again appears again (stale positions are skipped).
    order: VecDeque<(String, Instant)>,
}

/// The in-process store: the default. Forgotten at restart: use
/// `SqliteEventStore` or your own [`EventStore`] when the receiver runs in
/// several processes or must remember across restarts.
///
/// Bounded: past its capacity it drops the oldest keys, but never one
/// younger than the resend window (2 hours) or the lease; when every key is
/// that young, a new key's claim answers [`Claim::InProgress`] (the IPN is
/// answered `409` and resent later) rather than forget a key the API may
/// still resend.
pub struct MemoryEventStore {
    memory: Mutex<Memory>,
    lease: Duration,
    retention: Duration,
    capacity: usize,
}

impl Default for MemoryEventStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryEventStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryEventStore")
            .field("lease", &self.lease)
            .field("retention", &self.retention)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl MemoryEventStore {
    /// A store with [`DEFAULT_LEASE`], [`DEFAULT_RETENTION`] and
    /// [`DEFAULT_MEMORY_CAPACITY`].
    pub fn new() -> Self {
        MemoryEventStore {
            memory: Mutex::new(Memory::default()),
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
            capacity: DEFAULT_MEMORY_CAPACITY,
        }
    }

    /// How long a claim holds before another delivery may take it over.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How long keys are remembered: never less than the resend window
    /// (2 hours) nor the lease, whatever is asked.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    fn retention(&self) -> Duration {
        self.retention.max(min_retention(self.lease))
    }

    /// How many keys are kept at most (at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A panic while holding the lock leaves consistent data (each
        // operation is a few map writes).
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`EventStore::claim`], without a future (for the bindings).
    pub fn claim_now(&self, key: &str) -> Claim {
        let now = Instant::now();
        let mut memory = self.lock();
        self.evict(&mut memory, now);
        let existing = memory
            .entries
            .get(key)
            .map(|e| (e.done, now.saturating_duration_since(e.at)));
        let claim = decide(existing, self.lease);
        if claim == Claim::New && existing.is_none() && memory.entries.len() >= self.capacity {
            tracing::warn!(
                capacity = self.capacity,
                "IPN store full of keys the API may still resend: answering in progress"
            );
            return Claim::InProgress;
        }
        if claim == Claim::New {
            memory.entries.insert(
                key.to_owned(),
                Entry {
                    done: false,
                    at: now,
                },
            );
            memory.order.push_back((key.to_owned(), now));
        }
        claim
    }

    /// [`EventStore::complete`], without a future.
    pub fn complete_now(&self, key: &str) {
        let now = Instant::now();
        let mut memory = self.lock();
        memory.entries.insert(
            key.to_owned(),
            Entry {
                done: true,
                at: now,
            },
        );
        memory.order.push_back((key.to_owned(), now));
        self.evict(&mut memory, now);
    }

    /// [`EventStore::release`], without a future.
    pub fn release_now(&self, key: &str) {
        let mut memory = self.lock();
        if memory.entries.get(key).is_some_and(|e| !e.done) {
            memory.entries.remove(key);
        }
    }

    /// How many keys the store remembers now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether the store remembers no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops keys older than the retention, then, past the capacity, the
    /// oldest keys that are older than the resend window and the lease.
    /// Amortized constant time per write.
    fn evict(&self, memory: &mut Memory, now: Instant) {
        let retention = self.retention();
        let safe_to_drop = min_retention(self.lease);
        while let Some((key, at)) = memory.order.front().cloned() {
            let current = memory.entries.get(&key).map(|e| e.at);
            let stale = current != Some(at);
            let age = now.saturating_duration_since(at);
            let expired = age >= retention;
            let over = memory.entries.len() >= self.capacity && age >= safe_to_drop;
            if !(stale || expired || over) {
                break;
            }
            memory.order.pop_front();
            if !stale {
                memory.entries.remove(&key);
            }
        }
        // Positions of keys written again or released pile up behind a
        // young key at the front: rebuild the order from the live keys.
        if memory.order.len() > 2 * self.capacity.max(memory.entries.len()) + 64 {
            let mut live: Vec<(String, Instant)> = memory
                .entries
                .iter()
                .map(|(k, e)| (k.clone(), e.at))
                .collect();
            live.sort_by_key(|(_, at)| *at);
            memory.order = live.into();
        }
    }
}

impl EventStore for MemoryEventStore {
    fn claim<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Claim> {
        Box::pin(async move { Ok(self.claim_now(key)) })
    }

    fn complete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.complete_now(key);
            Ok(())
        })
    }

    fn release<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.release_now(key);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_follow_the_contract() {
        let store = MemoryEventStore::new();
        assert_eq!(store.claim_now("a"), Claim::New);
        assert_eq!(store.claim_now("a"), Claim::InProgress);
        store.release_now("a");
        assert_eq!(store.claim_now("a"), Claim::New);
        store.complete_now("a");
        store.release_now("a");
        assert_eq!(store.claim_now("a"), Claim::Done);
        assert_eq!(store.claim_now("b"), Claim::New);
    }

    #[test]
    fn a_lapsed_claim_is_taken_over() {
        let store = MemoryEventStore::new().with_lease(Duration::ZERO);
        assert_eq!(store.claim_now("a"), Claim::New);
        assert_eq!(store.claim_now("a"), Claim::New);
    }

    #[test]
    fn a_full_store_never_forgets_a_key_the_api_may_resend() {
        let store = MemoryEventStore::new().with_capacity(3);
        for i in 0..3 {
            assert_eq!(store.claim_now(&i.to_string()), Claim::New);
        }
        store.complete_now("0");
        // Full of young keys: a new one waits (409, resent later).
        assert_eq!(store.claim_now("3"), Claim::InProgress);
        assert_eq!(store.len(), 3);
        assert_eq!(store.claim_now("0"), Claim::Done);
        assert_eq!(store.claim_now("1"), Claim::InProgress);
        store.release_now("1");
        assert_eq!(store.claim_now("3"), Claim::New);
    }

    #[test]
    fn retention_is_never_shorter_than_the_resend_window() {
        let store = MemoryEventStore::new().with_retention(Duration::ZERO);
        store.complete_now("a");
        assert_eq!(store.claim_now("a"), Claim::Done);
    }

    #[test]
    fn rewriting_keys_keeps_the_order_bounded() {
        let store = MemoryEventStore::new().with_capacity(4);
        for _ in 0..1_000 {
            assert_eq!(store.claim_now("a"), Claim::New);
            store.release_now("a");
        }
        assert!(store.lock().order.len() <= 2 * 4 + 64 + 1);
    }

    #[test]
    fn each_claim_answer_decides_its_outcome() {
        assert_eq!(Claim::decided_by_answer("new"), None);
        assert_eq!(Claim::decided_by_answer("done"), Some("duplicate"));
        assert_eq!(Claim::decided_by_answer("in_progress"), Some("in_progress"));
        assert_eq!(Claim::decided_by_answer("maybe"), Some("store_failed"));
    }

    #[test]
    fn claim_spellings_round_trip() {
        for claim in [Claim::New, Claim::Done, Claim::InProgress] {
            assert_eq!(Claim::parse(claim.as_str()), Some(claim));
        }
        assert_eq!(Claim::parse("maybe"), None);
    }
}
