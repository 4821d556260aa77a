//! IPN deduplication in an embedded SQLite file (feature `sqlite`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::store::{decide, Claim, EventStore, StoreError, StoreFuture};
use super::store::{min_retention, DEFAULT_LEASE, DEFAULT_RETENTION};

/// Completed keys older than the retention are deleted once every this many
/// claims (and when the store opens).
const PRUNE_EVERY: u64 = 1024;

/// A store in a SQLite file: remembers handled IPNs across restarts, and is
/// shared by every process of one machine that opens the same file (the
/// workers of gunicorn, say): claims are serialized by SQLite's write lock
/// (`BEGIN IMMEDIATE`, WAL, a 5 s busy timeout). For several machines,
/// implement [`EventStore`] over your shared database.
///
/// ```
/// use pockyt_payouts::webhook::{Claim, SqliteEventStore};
/// let dir = std::env::temp_dir().join(format!("pockyt-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let store = SqliteEventStore::open(dir.join("ipn.sqlite3")).unwrap();
/// assert_eq!(store.claim_now("123:success").unwrap(), Claim::New);
/// store.complete_now("123:success").unwrap();
/// assert_eq!(store.claim_now("123:success").unwrap(), Claim::Done);
/// # std::fs::remove_dir_all(dir).unwrap();
/// ```
pub struct SqliteEventStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Mutex<(Connection, u64)>,
    path: PathBuf,
    lease: Duration,
    retention: Duration,
}

impl fmt::Debug for SqliteEventStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteEventStore")
            .field("path", &self.inner.path)
            .field("lease", &self.inner.lease)
            .field("retention", &self.inner.retention)
            .finish_non_exhaustive()
    }
}

fn failed(what: &str, error: rusqlite::Error) -> StoreError {
    StoreError::new(format!("{what}: {error}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl SqliteEventStore {
    /// Opens (creating it if needed) the store at `path`, with
    /// [`DEFAULT_LEASE`] and [`DEFAULT_RETENTION`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let connection = Connection::open(&path).map_err(|e| failed("open", e))?;
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| failed("busy timeout", e))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| failed("WAL", e))?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(|e| failed("synchronous", e))?;
        connection
            .execute_batch(
                "CREATE TABLE IF NOT EXISTS pockyt_ipn_events (
                    key TEXT PRIMARY KEY NOT NULL,
                    done INTEGER NOT NULL,
                    at_ms INTEGER NOT NULL
                )",
            )
            .map_err(|e| failed("create table", e))?;
        let inner = Inner {
            connection: Mutex::new((connection, 0)),
            path,
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
        };
        inner.prune()?;
        Ok(SqliteEventStore {
            inner: Arc::new(inner),
        })
    }

    fn with_inner(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|_| {
            unreachable!("the builder methods take the store before it is shared")
        });
        change(&mut inner);
        SqliteEventStore {
            inner: Arc::new(inner),
        }
    }

    /// How long a claim holds before another delivery may take it over.
    pub fn with_lease(self, lease: Duration) -> Self {
        self.with_inner(|inner| inner.lease = lease)
    }

    /// How long keys are remembered: never less than the resend window
    /// (2 hours) nor the lease, whatever is asked.
    pub fn with_retention(self, retention: Duration) -> Self {
        self.with_inner(|inner| inner.retention = retention)
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// [`EventStore::claim`], without a future (it blocks for the SQLite
    /// write, at most the busy timeout).
    pub fn claim_now(&self, key: &str) -> Result<Claim, StoreError> {
        self.inner.claim(key)
    }

    /// [`EventStore::complete`], without a future.
    pub fn complete_now(&self, key: &str) -> Result<(), StoreError> {
        self.inner.complete(key)
    }

    /// [`EventStore::release`], without a future.
    pub fn release_now(&self, key: &str) -> Result<(), StoreError> {
        self.inner.release(key)
    }

    /// Runs a blocking store operation off the async executor when there is
    /// a tokio runtime (on its blocking pool), inline otherwise.
    async fn blocking<T: Send + 'static>(
        &self,
        key: &str,
        op: fn(&Inner, &str) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if tokio::runtime::Handle::try_current().is_err() {
            return op(&self.inner, key);
        }
        let inner = Arc::clone(&self.inner);
        let key = key.to_owned();
        tokio::task::spawn_blocking(move || op(&inner, &key))
            .await
            .map_err(|e| StoreError::new(format!("the store's task failed: {e}")))?
    }
}

impl Inner {
    fn retention(&self) -> Duration {
        self.retention.max(min_retention(self.lease))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Connection, u64)> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn prune(&self) -> Result<(), StoreError> {
        let guard = self.lock();
        guard
            .0
            .execute(
                "DELETE FROM pockyt_ipn_events WHERE at_ms < ?1",
                params![now_ms().saturating_sub(millis(self.retention()))],
            )
            .map_err(|e| failed("prune", e))?;
        Ok(())
    }

    fn claim(&self, key: &str) -> Result<Claim, StoreError> {
        let mut guard = self.lock();
        let (connection, claims) = &mut *guard;
        *claims += 1;
        let now = now_ms();
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failed("begin", e))?;
        let existing: Option<(bool, i64)> = tx
            .query_row(
                "SELECT done, at_ms FROM pockyt_ipn_events WHERE key = ?1",
                params![key],
                |row| Ok((row.get::<_, i64>(0)? != 0, row.get(1)?)),
            )
            .optional()
            .map_err(|e| failed("read", e))?;
        let existing = existing.and_then(|(done, at)| {
            let expired = now.saturating_sub(at) >= millis(self.retention());
            // A claim written "in the future" (the clock was stepped back
            // past the lease) counts as lapsed, not as held until then.
            let age = if at > now.saturating_add(millis(self.lease)) {
                self.lease
            } else {
                Duration::from_millis(u64::try_from(now.saturating_sub(at)).unwrap_or(0))
            };
            (!expired).then_some((done, age))
        });
        let claim = decide(existing, self.lease);
        if claim == Claim::New {
            tx.execute(
                "INSERT INTO pockyt_ipn_events (key, done, at_ms) VALUES (?1, 0, ?2)
                 ON CONFLICT(key) DO UPDATE SET done = 0, at_ms = excluded.at_ms",
                params![key, now],
            )
            .map_err(|e| failed("claim", e))?;
        }
        tx.commit().map_err(|e| failed("commit", e))?;
        let prune = *claims % PRUNE_EVERY == 0;
        drop(guard);
        // The claim is committed: a failed prune (another process holding
        // the lock) must not turn it into an error.
        if prune {
            if let Err(error) = self.prune() {
                tracing::warn!(%error, "pruning the IPN store failed; retried later");
            }
        }
        Ok(claim)
    }

    fn complete(&self, key: &str) -> Result<(), StoreError> {
        self.lock()
            .0
            .execute(
                "INSERT INTO pockyt_ipn_events (key, done, at_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT(key) DO UPDATE SET done = 1, at_ms = excluded.at_ms",
                params![key, now_ms()],
            )
            .map_err(|e| failed("complete", e))?;
        Ok(())
    }

    fn release(&self, key: &str) -> Result<(), StoreError> {
        self.lock()
            .0
            .execute(
                "DELETE FROM pockyt_ipn_events WHERE key = ?1 AND done = 0",
                params![key],
            )
            .map_err(|e| failed("release", e))?;
        Ok(())
    }
}

impl EventStore for SqliteEventStore {
    fn claim<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Claim> {
        Box::pin(self.blocking(key, Inner::claim))
    }

    fn complete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.blocking(key, Inner::complete))
    }

    fn release<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.blocking(key, Inner::release))
    }
}
