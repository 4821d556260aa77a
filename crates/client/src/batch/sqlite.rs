//! The default journal: an embedded SQLite file (WAL, `synchronous=FULL`),
//! with a lock file beside it that one run holds at a time.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, TransactionBehavior};

use super::error::{BatchError, RowError, MAX_LISTED_ROW_ERRORS};
use super::journal::{
    duplicate, BatchInfo, Journal, JournalRow, Outcome, PlanEntry, PlanMode, PlanOutcome, RowState,
    Tally,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rows INTEGER NOT NULL,
    invalid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS payouts (
    batch INTEGER NOT NULL REFERENCES batches(id),
    row_no INTEGER NOT NULL,
    invoice_id TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    cents INTEGER NOT NULL,
    params TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state TEXT NOT NULL,
    transaction_no TEXT,
    error_code TEXT,
    error_message TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (batch, row_no)
);
CREATE INDEX IF NOT EXISTS payouts_by_state ON payouts (batch, state, row_no);
CREATE TABLE IF NOT EXISTS merchant (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    merchant_no TEXT NOT NULL,
    store_no TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invalid_rows (
    batch INTEGER NOT NULL REFERENCES batches(id),
    row_no INTEGER NOT NULL,
    invoice_id TEXT,
    field TEXT NOT NULL,
    rule TEXT NOT NULL,
    code TEXT NOT NULL,
    PRIMARY KEY (batch, row_no)
);
";

/// A journal in a SQLite file. Every state is committed with
/// `synchronous=FULL` in WAL mode before the call that wrote it returns,
/// so a state written before a request is on disk before the request is
/// sent. One run at a time holds `<file>.lock` (an OS lock, let go when
/// the process ends, however it ends).
///
/// ```
/// use pockyt_payouts::batch::{Journal, SqliteJournal};
/// let dir = std::env::temp_dir().join(format!("pockyt-journal-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let journal = SqliteJournal::open(dir.join("may.journal")).unwrap();
/// assert!(journal.latest_batch().unwrap().is_none());
/// # std::fs::remove_dir_all(dir).unwrap();
/// ```
pub struct SqliteJournal {
    connection: Mutex<Connection>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteJournal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn failed(what: &str) -> impl FnOnce(rusqlite::Error) -> BatchError + '_ {
    move |error| BatchError::journal(what, error)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const ROW_COLUMNS: &str = "batch, row_no, invoice_id, currency, cents, params, idempotency_key, state, transaction_no, error_code, error_message, updated_at";

fn journal_row(row: &Row<'_>) -> rusqlite::Result<JournalRow> {
    let state: String = row.get(7)?;
    Ok(JournalRow {
        batch: row.get(0)?,
        row: row.get::<_, i64>(1)? as u64,
        invoice_id: row.get(2)?,
        currency: row.get(3)?,
        cents: row.get::<_, i64>(4)? as u64,
        params: row.get(5)?,
        idempotency_key: row.get(6)?,
        state: state.parse().map_err(|e: String| {
            rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, e.into())
        })?,
        transaction_no: row.get(8)?,
        error_code: row.get(9)?,
        error_message: row.get(10)?,
        updated_at: row.get(11)?,
    })
}

fn batch_info(row: &Row<'_>) -> rusqlite::Result<BatchInfo> {
    Ok(BatchInfo {
        id: row.get(0)?,
        digest: row.get(1)?,
        source: row.get(2)?,
        created_at: row.get(3)?,
        rows: row.get::<_, i64>(4)? as u64,
        invalid: row.get::<_, i64>(5)? as u64,
    })
}

/// Whether an outcome `next` is recorded over a row in `state`: the
/// sender of a row records whatever it learnt; anything else only moves a
/// row forward ([`RowState::may_become`]).
fn may_record(state: RowState, next: RowState) -> bool {
    if state == RowState::Sending {
        !matches!(next, RowState::Planned | RowState::Sending)
    } else {
        state.may_become(next)
    }
}

/// The statement that records an outcome, per target state (in
/// [`RowState::ALL`]'s order): it changes a row only from a state that may
/// become that one.
static RECORD_STATEMENTS: LazyLock<[Option<String>; RowState::ALL.len()]> =
    LazyLock::new(|| RowState::ALL.map(record_statement));

/// The statement that records an outcome of state `next`, or `None` when
/// no row may come to it.
fn record_statement(next: RowState) -> Option<String> {
    let from: Vec<String> = RowState::ALL
        .into_iter()
        .filter(|state| may_record(*state, next))
        .map(|state| format!("'{}'", state.as_str()))
        .collect();
    (!from.is_empty()).then(|| {
        format!(
            "UPDATE payouts SET state = ?2, transaction_no = COALESCE(?3, transaction_no),
             error_code = ?4, error_message = ?5, updated_at = ?6
             WHERE invoice_id = ?1 AND state IN ({})",
            from.join(", ")
        )
    })
}

/// A held run lock: the open lock file.
struct RunLock(#[allow(dead_code)] File);

impl SqliteJournal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteJournal, BatchError> {
        let path = path.as_ref().to_path_buf();
        let connection = Connection::open(&path).map_err(failed("opening the journal"))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(failed("opening the journal"))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(failed("opening the journal"))?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(failed("opening the journal"))?;
        connection
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(failed("opening the journal"))?;
        // A claim and the record of its outcomes dirty the same pages:
        // checkpointing less often copies each page back once, not twice.
        connection
            .pragma_update(None, "wal_autocheckpoint", 8192)
            .map_err(failed("opening the journal"))?;
        connection
            .pragma_update(None, "cache_size", -16384)
            .map_err(failed("opening the journal"))?;
        connection
            .execute_batch(SCHEMA)
            .map_err(failed("creating the journal's tables"))?;
        Ok(SqliteJournal {
            connection: Mutex::new(connection),
            path,
        })
    }

    /// The journal's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, BatchError>,
    ) -> Result<T, BatchError> {
        let mut connection = self.connection.lock().map_err(|_| {
            BatchError::journal("the journal", "a thread panicked while writing it")
        })?;
        f(&mut connection)
    }
}

impl Journal for SqliteJournal {
    fn lock(&self) -> Result<Box<dyn Send + Sync>, BatchError> {
        // The file's real path: the same journal reached through a symlink
        // takes the same lock.
        let real = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        let mut name = real.into_os_string();
        name.push(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&name)
            .map_err(|e| BatchError::journal("opening the journal's lock file", e))?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(RunLock(file))),
            Err(std::fs::TryLockError::WouldBlock) => Err(BatchError::InProgress {
                journal: self.path.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(BatchError::journal("locking the journal", e))
            }
        }
    }

    fn bind_merchant(
        &self,
        merchant_no: &str,
        store_no: &str,
        record: bool,
    ) -> Result<(), BatchError> {
        self.with(|c| {
            // Only a write needs the write lock up front.
            let behavior = if record {
                TransactionBehavior::Immediate
            } else {
                TransactionBehavior::Deferred
            };
            let tx = c
                .transaction_with_behavior(behavior)
                .map_err(failed("reading the journal's merchant"))?;
            let recorded: Option<(String, String)> = tx
                .query_row(
                    "SELECT merchant_no, store_no FROM merchant WHERE id = 1",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(failed("reading the journal's merchant"))?;
            match recorded {
                Some((merchant, store)) if merchant == merchant_no && store == store_no => Ok(()),
                Some((merchant, store)) => Err(BatchError::OtherMerchant {
                    journal: self.path.display().to_string(),
                    recorded: format!("merchant {merchant}, store {store}"),
                    given: format!("merchant {merchant_no}, store {store_no}"),
                }),
                None if record => {
                    tx.execute(
                        "INSERT INTO merchant (id, merchant_no, store_no) VALUES (1, ?1, ?2)",
                        params![merchant_no, store_no],
                    )
                    .map_err(failed("recording the journal's merchant"))?;
                    tx.commit()
                        .map_err(failed("recording the journal's merchant"))
                }
                None => Ok(()),
            }
        })
    }

    fn find_batch(&self, digest: &str) -> Result<Option<BatchInfo>, BatchError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, digest, source, created_at, rows, invalid FROM batches WHERE digest = ?1",
                params![digest],
                batch_info,
            )
            .optional()
            .map_err(failed("reading the journal"))
        })
    }

    fn latest_batch(&self) -> Result<Option<BatchInfo>, BatchError> {
        self.with(|c| {
            c.query_row(
                "SELECT id, digest, source, created_at, rows, invalid FROM batches ORDER BY id DESC LIMIT 1",
                [],
                batch_info,
            )
            .optional()
            .map_err(failed("reading the journal"))
        })
    }

    fn plan(
        &self,
        source: &str,
        digest: &str,
        entries: &mut dyn Iterator<Item = Result<PlanEntry, BatchError>>,
        mode: PlanMode,
    ) -> Result<PlanOutcome, BatchError> {
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(failed("planning the batch"))?;
            let created_at = now();
            tx.execute(
                "INSERT INTO batches (digest, source, created_at, rows, invalid) VALUES (?1, ?2, ?3, 0, 0)",
                params![digest, source, created_at],
            )
            .map_err(failed("planning the batch"))?;
            let batch = tx.last_insert_rowid();
            let mut outcome = PlanOutcome::default();
            let refuse = |outcome: &mut PlanOutcome, error: RowError, tx: &rusqlite::Transaction<'_>| -> Result<(), BatchError> {
                outcome.invalid += 1;
                tx.execute(
                    "INSERT OR REPLACE INTO invalid_rows (batch, row_no, invoice_id, field, rule, code) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![batch, error.row as i64, error.invoice_id, error.field, error.rule, error.code],
                )
                .map_err(failed("planning the batch"))?;
                if outcome.errors.len() < MAX_LISTED_ROW_ERRORS {
                    outcome.errors.push(error);
                }
                Ok(())
            };
            {
                let mut insert = tx
                    .prepare(
                        "INSERT INTO payouts (batch, row_no, invoice_id, currency, cents, params, idempotency_key, state, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'planned', ?8) ON CONFLICT (invoice_id) DO NOTHING",
                    )
                    .map_err(failed("planning the batch"))?;
                let mut holder = tx
                    .prepare("SELECT batch, row_no FROM payouts WHERE invoice_id = ?1")
                    .map_err(failed("planning the batch"))?;
                for entry in entries {
                    match entry? {
                        PlanEntry::Invalid(error) => refuse(&mut outcome, error, &tx)?,
                        PlanEntry::Row(row) => {
                            let added = insert
                                .execute(params![
                                    batch,
                                    row.row as i64,
                                    row.invoice_id,
                                    row.currency,
                                    row.cents as i64,
                                    row.params,
                                    row.idempotency_key,
                                    created_at
                                ])
                                .map_err(failed("planning the batch"))?;
                            if added == 0 {
                                let (other, first_row): (i64, i64) = holder
                                    .query_row(params![row.invoice_id], |r| Ok((r.get(0)?, r.get(1)?)))
                                    .map_err(failed("planning the batch"))?;
                                let error = duplicate(row.row, &row.invoice_id, other == batch, first_row as u64, other);
                                refuse(&mut outcome, error, &tx)?;
                            } else {
                                outcome.planned += 1;
                                let total = outcome.totals.entry(row.currency.clone()).or_insert(0);
                                *total = total.saturating_add(row.cents);
                                *outcome.counts.entry(row.currency).or_insert(0) += 1;
                            }
                        }
                    }
                }
            }
            tx.execute(
                "UPDATE batches SET rows = ?1, invalid = ?2 WHERE id = ?3",
                params![outcome.planned as i64, outcome.invalid as i64, batch],
            )
            .map_err(failed("planning the batch"))?;
            let keep = mode.commit && (outcome.invalid == 0 || mode.skip_invalid);
            if keep {
                tx.commit().map_err(failed("planning the batch"))?;
                outcome.batch = Some(BatchInfo {
                    id: batch,
                    digest: digest.to_owned(),
                    source: source.to_owned(),
                    created_at,
                    rows: outcome.planned,
                    invalid: outcome.invalid,
                });
            } else {
                tx.rollback().map_err(failed("planning the batch"))?;
            }
            Ok(outcome)
        })
    }

    fn claim(&self, batch: i64, after: u64, limit: usize) -> Result<Vec<JournalRow>, BatchError> {
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(failed("claiming rows"))?;
            let mut rows = {
                let mut statement = tx
                    .prepare(&format!(
                        "UPDATE payouts SET state = 'sending', updated_at = ?3
                         WHERE rowid IN (SELECT rowid FROM payouts WHERE batch = ?1 AND state = 'planned' AND row_no > ?4 ORDER BY row_no LIMIT ?2)
                         RETURNING {ROW_COLUMNS}"
                    ))
                    .map_err(failed("claiming rows"))?;
                let rows = statement
                    .query_map(params![batch, limit as i64, now(), after as i64], journal_row)
                    .map_err(failed("claiming rows"))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(failed("claiming rows"))?;
                rows
            };
            tx.commit().map_err(failed("claiming rows"))?;
            rows.sort_by_key(|r| r.row);
            Ok(rows)
        })
    }

    fn record(&self, outcomes: &[Outcome]) -> Result<u64, BatchError> {
        if outcomes.is_empty() {
            return Ok(0);
        }
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(failed("recording outcomes"))?;
            let mut changed = 0u64;
            let at = now();
            for outcome in outcomes {
                let Some(sql) = RowState::ALL
                    .iter()
                    .position(|state| *state == outcome.state)
                    .and_then(|at| RECORD_STATEMENTS[at].as_deref())
                else {
                    continue;
                };
                let mut update = tx
                    .prepare_cached(sql)
                    .map_err(failed("recording outcomes"))?;
                changed += update
                    .execute(params![
                        outcome.invoice_id,
                        outcome.state.as_str(),
                        outcome.transaction_no,
                        outcome.error_code,
                        outcome.error_message,
                        at
                    ])
                    .map_err(failed("recording outcomes"))? as u64;
            }
            tx.commit().map_err(failed("recording outcomes"))?;
            Ok(changed)
        })
    }

    fn unclaim(&self, invoice_ids: &[String]) -> Result<(), BatchError> {
        if invoice_ids.is_empty() {
            return Ok(());
        }
        self.with(|c| {
            let tx = c
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(failed("putting rows back"))?;
            {
                let mut update = tx
                    .prepare("UPDATE payouts SET state = 'planned', updated_at = ?2 WHERE invoice_id = ?1 AND state = 'sending'")
                    .map_err(failed("putting rows back"))?;
                let at = now();
                for id in invoice_ids {
                    update.execute(params![id, at]).map_err(failed("putting rows back"))?;
                }
            }
            tx.commit().map_err(failed("putting rows back"))
        })
    }

    fn rows(
        &self,
        batch: i64,
        states: &[RowState],
        after: u64,
        limit: usize,
    ) -> Result<Vec<JournalRow>, BatchError> {
        self.with(|c| {
            let mut values: Vec<rusqlite::types::Value> = vec![batch.into(), (after as i64).into(), (limit as i64).into()];
            let filter = if states.is_empty() {
                String::new()
            } else {
                let marks: Vec<String> = (0..states.len()).map(|i| format!("?{}", i + 4)).collect();
                values.extend(states.iter().map(|s| rusqlite::types::Value::from(s.as_str().to_owned())));
                format!("AND state IN ({})", marks.join(", "))
            };
            let mut statement = c
                .prepare(&format!(
                    "SELECT {ROW_COLUMNS} FROM payouts WHERE batch = ?1 AND row_no > ?2 {filter} ORDER BY row_no LIMIT ?3"
                ))
                .map_err(failed("reading rows"))?;
            let rows = statement
                .query_map(params_from_iter(values), journal_row)
                .map_err(failed("reading rows"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(failed("reading rows"));
            rows
        })
    }

    fn invalid_rows(
        &self,
        batch: i64,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RowError>, BatchError> {
        self.with(|c| {
            let mut statement = c
                .prepare(
                    "SELECT row_no, invoice_id, field, rule, code FROM invalid_rows
                     WHERE batch = ?1 AND row_no > ?2 ORDER BY row_no LIMIT ?3",
                )
                .map_err(failed("reading refused rows"))?;
            let rows = statement
                .query_map(params![batch, after as i64, limit as i64], |r| {
                    Ok(RowError {
                        row: r.get::<_, i64>(0)? as u64,
                        invoice_id: r.get(1)?,
                        field: r.get(2)?,
                        rule: r.get(3)?,
                        code: r.get(4)?,
                    })
                })
                .map_err(failed("reading refused rows"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(failed("reading refused rows"));
            rows
        })
    }

    fn tally(&self, batch: i64) -> Result<Vec<Tally>, BatchError> {
        self.with(|c| {
            let mut statement = c
                .prepare(
                    "SELECT state, currency, COUNT(*), SUM(cents) FROM payouts WHERE batch = ?1
                     GROUP BY state, currency ORDER BY currency, state",
                )
                .map_err(failed("counting rows"))?;
            let mut tallies: BTreeMap<(String, RowState), Tally> = BTreeMap::new();
            let rows = statement
                .query_map(params![batch], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                    ))
                })
                .map_err(failed("counting rows"))?;
            for row in rows {
                let (state, currency, count, cents) = row.map_err(failed("counting rows"))?;
                let Ok(state) = state.parse::<RowState>() else {
                    continue;
                };
                tallies.insert(
                    (currency.clone(), state),
                    Tally {
                        state,
                        currency,
                        rows: count as u64,
                        cents: cents as u64,
                    },
                );
            }
            Ok(tallies.into_values().collect())
        })
    }

    fn row_by_invoice_id(&self, invoice_id: &str) -> Result<Option<JournalRow>, BatchError> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {ROW_COLUMNS} FROM payouts WHERE invoice_id = ?1"),
                params![invoice_id],
                journal_row,
            )
            .optional()
            .map_err(failed("reading the journal"))
        })
    }
}
