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
    invalid INTEGER NOT NULL,
    claimed_upto INTEGER NOT NULL DEFAULT 0,
    claimed_at TEXT
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
    released INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (batch, row_no)
);
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

/// The journal layout this build writes (`PRAGMA user_version`); a
/// journal of a later layout is refused rather than misread.
const LAYOUT: i64 = 2;

/// Brings a journal made before claims were kept as a range up to date,
/// then adds what depends on that (see [`SqliteJournal`]).
const MIGRATE: &[(&str, &str, &str)] = &[
    (
        "batches",
        "claimed_upto",
        "ALTER TABLE batches ADD COLUMN claimed_upto INTEGER NOT NULL DEFAULT 0",
    ),
    (
        "batches",
        "claimed_at",
        "ALTER TABLE batches ADD COLUMN claimed_at TEXT",
    ),
    (
        "payouts",
        "released",
        "ALTER TABLE payouts ADD COLUMN released INTEGER NOT NULL DEFAULT 0",
    ),
];
/// The trigger stops a build that claimed row by row (and would take the
/// rows inside a claimed range for `planned`) from claiming here at all.
const AFTER_MIGRATE: &str = "
DROP INDEX IF EXISTS payouts_by_state;
CREATE INDEX IF NOT EXISTS payouts_released ON payouts (batch, row_no) WHERE released = 1;
CREATE TRIGGER IF NOT EXISTS payouts_claims_are_ranges BEFORE UPDATE OF state ON payouts
WHEN OLD.state = 'planned' AND NEW.state = 'sending'
BEGIN SELECT RAISE(ABORT, 'this journal claims rows as a range: use a newer pockyt-payouts'); END;
";

/// The rule of a claim, once: a `planned` row (`p`) inside its batch's
/// claimed range (`upto`), and not put back since, is `sending`.
fn in_claimed_range(upto: &str) -> String {
    format!("(p.state = 'planned' AND p.released = 0 AND p.row_no <= {upto})")
}

/// [`in_claimed_range`] where the batch is joined as `b`.
static CLAIMED: LazyLock<String> = LazyLock::new(|| in_claimed_range("b.claimed_upto"));
/// A row's state as every reader sees it.
static STATE: LazyLock<String> =
    LazyLock::new(|| format!("CASE WHEN {} THEN 'sending' ELSE p.state END", *CLAIMED));
/// When the row last changed: for a row `sending` by the claimed range,
/// the batch's latest claim.
static UPDATED_AT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "CASE WHEN {} THEN b.claimed_at ELSE p.updated_at END",
        *CLAIMED
    )
});
/// [`in_claimed_range`] in an `UPDATE payouts AS p`.
static IN_CLAIMED_RANGE: LazyLock<String> =
    LazyLock::new(|| in_claimed_range("(SELECT claimed_upto FROM batches WHERE id = p.batch)"));

/// A journal in a SQLite file. Every state is committed with
/// `synchronous=FULL` in WAL mode before the call that wrote it returns,
/// so a state written before a request is on disk before the request is
/// sent. One run at a time holds `<file>.lock` (an OS lock, let go when
/// the process ends, however it ends).
///
/// A claim is one write however many rows it takes: the batch's claimed
/// range (`claimed_upto`) grows to the last row claimed, and every
/// `planned` row inside it reads as `sending` (with the time of the
/// batch's latest claim) to every query of the journal, until its outcome
/// is recorded or it is put back (`released`). A claim costs a fast server
/// no per-row write that its pays would wait for. A journal of this
/// layout refuses the per-row claims of older builds.
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

/// The columns of a [`JournalRow`], from `payouts p JOIN batches b`.
static ROW_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "p.batch, p.row_no, p.invoice_id, p.currency, p.cents, p.params, p.idempotency_key, {}, p.transaction_no, p.error_code, p.error_message, {}",
        *STATE, *UPDATED_AT
    )
});
/// Rows with their batch, for [`ROW_COLUMNS`] and [`STATE`].
const ROWS_FROM: &str = "payouts p JOIN batches b ON b.id = p.batch";

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
    let claimed = if may_record(RowState::Sending, next) {
        format!(" OR {}", *IN_CLAIMED_RANGE)
    } else {
        String::new()
    };
    (!from.is_empty()).then(|| {
        format!(
            "UPDATE payouts AS p SET state = ?2, transaction_no = COALESCE(?3, transaction_no),
             error_code = ?4, error_message = ?5, updated_at = ?6
             WHERE p.invoice_id = ?1 AND (p.state IN ({}){claimed})",
            from.join(", ")
        )
    })
}

/// Adds what [`MIGRATE`] lists to a journal that lacks it, then
/// [`AFTER_MIGRATE`], in one write that another process opening the
/// journal at the same moment waits for. A journal already at [`LAYOUT`]
/// when opened (`opened`, read then) is not written (a read-only file
/// opens; an older one needs writing once).
fn migrate(connection: &mut Connection, path: &Path, opened: i64) -> Result<(), BatchError> {
    if opened == LAYOUT {
        return Ok(());
    }
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed(MIGRATING))?;
    if layout(&tx, path)? == LAYOUT {
        return Ok(());
    }
    for (table, column, add) in MIGRATE {
        let present = tx
            .prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")
            .and_then(|mut s| s.exists(params![table, column]))
            .map_err(failed(MIGRATING))?;
        if !present {
            tx.execute_batch(add).map_err(failed(MIGRATING))?;
        }
    }
    tx.execute_batch(AFTER_MIGRATE).map_err(failed(MIGRATING))?;
    tx.pragma_update(None, "user_version", LAYOUT)
        .map_err(failed(MIGRATING))?;
    tx.commit().map_err(failed(MIGRATING))
}

const MIGRATING: &str = "bringing the journal up to date";

/// The journal's layout; a newer one than this build's is refused.
fn layout(c: &Connection, path: &Path) -> Result<i64, BatchError> {
    let version: i64 = c
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(failed(MIGRATING))?;
    if version > LAYOUT {
        return Err(BatchError::journal(
            MIGRATING,
            format!(
                "{} was written by a newer pockyt-payouts (journal layout {version}; this one knows {LAYOUT})",
                path.display()
            ),
        ));
    }
    Ok(version)
}

/// A held run lock: the open lock file.
struct RunLock(#[allow(dead_code)] File);

impl SqliteJournal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteJournal, BatchError> {
        let path = path.as_ref().to_path_buf();
        let mut connection = Connection::open(&path).map_err(failed("opening the journal"))?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(failed("opening the journal"))?;
        // A newer build's journal is refused before anything is written.
        let opened = layout(&connection, &path)?;
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
        migrate(&mut connection, &path, opened)?;
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
            let rows = {
                let mut statement = tx
                    .prepare_cached(&format!(
                        "SELECT {} FROM {ROWS_FROM}
                         WHERE p.batch = ?1 AND p.row_no > ?2 AND p.state = 'planned' AND NOT {}
                         ORDER BY p.row_no LIMIT ?3",
                        *ROW_COLUMNS, *CLAIMED
                    ))
                    .map_err(failed("claiming rows"))?;
                let rows = statement
                    .query_map(params![batch, after as i64, limit as i64], journal_row)
                    .map_err(failed("claiming rows"))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(failed("claiming rows"))?;
                rows
            };
            if let Some(last) = rows.last() {
                // One write claims them all: the range up to the last one
                // (rows put back inside it are in the range again).
                tx.execute(
                    "UPDATE payouts SET released = 0 WHERE batch = ?1 AND released = 1 AND row_no > ?2 AND row_no <= ?3",
                    params![batch, after as i64, last.row as i64],
                )
                .map_err(failed("claiming rows"))?;
                tx.execute(
                    "UPDATE batches SET claimed_upto = MAX(claimed_upto, ?2), claimed_at = ?3 WHERE id = ?1",
                    params![batch, last.row as i64, now()],
                )
                .map_err(failed("claiming rows"))?;
            }
            tx.commit().map_err(failed("claiming rows"))?;
            Ok(rows
                .into_iter()
                .map(|row| JournalRow {
                    state: RowState::Sending,
                    ..row
                })
                .collect())
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
                    .prepare(&format!("UPDATE payouts AS p SET state = 'planned', released = 1, updated_at = ?2 WHERE p.invoice_id = ?1 AND (p.state = 'sending' OR {})", *IN_CLAIMED_RANGE))
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
                format!("AND {} IN ({})", *STATE, marks.join(", "))
            };
            let mut statement = c
                .prepare(&format!(
                    "SELECT {} FROM {ROWS_FROM} WHERE p.batch = ?1 AND p.row_no > ?2 {filter} ORDER BY p.row_no LIMIT ?3",
                    *ROW_COLUMNS
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
                .prepare(&format!(
                    "SELECT {} AS s, p.currency, COUNT(*), SUM(p.cents) FROM {ROWS_FROM} WHERE p.batch = ?1
                     GROUP BY s, p.currency ORDER BY p.currency, s",
                    *STATE
                ))
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
                &format!(
                    "SELECT {} FROM {ROWS_FROM} WHERE p.invoice_id = ?1",
                    *ROW_COLUMNS
                ),
                params![invoice_id],
                journal_row,
            )
            .optional()
            .map_err(failed("reading the journal"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "pockyt-sqlite-journal-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("test.journal")
    }

    fn planned(row: u64) -> Result<PlanEntry, BatchError> {
        Ok(PlanEntry::Row(super::super::journal::PlannedRow {
            row,
            invoice_id: format!("inv-{row}"),
            currency: "USD".into(),
            cents: 100,
            params: "{}".into(),
            idempotency_key: format!("key-{row}"),
        }))
    }

    fn states(journal: &SqliteJournal, batch: i64) -> Vec<RowState> {
        journal
            .rows(batch, &[], 0, 100)
            .unwrap()
            .into_iter()
            .map(|r| r.state)
            .collect()
    }

    #[test]
    fn a_claim_reads_as_sending_until_recorded_or_put_back() {
        use RowState::*;
        let path = temp("claim");
        let journal = SqliteJournal::open(&path).unwrap();
        let mode = PlanMode {
            skip_invalid: false,
            commit: true,
        };
        let plan = journal
            .plan("f.csv", "digest", &mut (2..=6).map(planned), mode)
            .unwrap();
        let batch = plan.batch.unwrap().id;
        // Timestamps are in milliseconds: the claim's must differ.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let claimed = journal.claim(batch, 0, 3).unwrap();
        assert_eq!(claimed.iter().map(|r| r.row).collect::<Vec<_>>(), [2, 3, 4]);
        assert!(claimed.iter().all(|r| r.state == Sending));
        assert_eq!(
            states(&journal, batch),
            [Sending, Sending, Sending, Planned, Planned]
        );
        // The claim's time stands for the rows' own.
        let sending = journal.rows(batch, &[Sending], 0, 100).unwrap();
        assert_eq!(sending.len(), 3);
        assert!(sending
            .iter()
            .all(|r| r.updated_at > plan_time(&journal, batch)));

        // One recorded, one put back: the third stays sending.
        let paid = Outcome {
            invoice_id: "inv-2".into(),
            state: Success,
            transaction_no: Some("t2".into()),
            error_code: None,
            error_message: None,
        };
        assert_eq!(journal.record(&[paid]).unwrap(), 1);
        journal.unclaim(&["inv-3".into()]).unwrap();
        assert_eq!(
            states(&journal, batch),
            [Success, Planned, Sending, Planned, Planned]
        );
        // Recording over a planned row changes nothing.
        let early = Outcome {
            invoice_id: "inv-5".into(),
            state: Success,
            transaction_no: None,
            error_code: None,
            error_message: None,
        };
        assert_eq!(journal.record(&[early]).unwrap(), 0);

        // A later claim takes the put-back row again, then the rest; the
        // row still sending is never handed out twice.
        let again = journal.claim(batch, 0, 10).unwrap();
        assert_eq!(again.iter().map(|r| r.row).collect::<Vec<_>>(), [3, 5, 6]);
        assert_eq!(
            states(&journal, batch),
            [Success, Sending, Sending, Sending, Sending]
        );
        assert!(journal.claim(batch, 0, 10).unwrap().is_empty());
        let tally: u64 = journal
            .tally(batch)
            .unwrap()
            .iter()
            .filter(|t| t.state == Sending)
            .map(|t| t.rows)
            .sum();
        assert_eq!(tally, 4);
        assert_eq!(
            journal.row_by_invoice_id("inv-4").unwrap().unwrap().state,
            Sending
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    fn plan_time(journal: &SqliteJournal, batch: i64) -> String {
        journal
            .with(|c| {
                c.query_row(
                    "SELECT created_at FROM batches WHERE id = ?1",
                    params![batch],
                    |r| r.get(0),
                )
                .map_err(failed("test"))
            })
            .unwrap()
    }

    #[test]
    fn a_journal_of_the_per_row_claims_opens_with_its_states_kept() {
        use RowState::*;
        let path = temp("migrate");
        {
            // The tables as journals made before claims were ranges had them.
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE batches (id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE,
                   source TEXT NOT NULL, created_at TEXT NOT NULL, rows INTEGER NOT NULL,
                   invalid INTEGER NOT NULL);
                 CREATE TABLE payouts (batch INTEGER NOT NULL REFERENCES batches(id),
                   row_no INTEGER NOT NULL, invoice_id TEXT NOT NULL UNIQUE,
                   currency TEXT NOT NULL, cents INTEGER NOT NULL, params TEXT NOT NULL,
                   idempotency_key TEXT NOT NULL, state TEXT NOT NULL, transaction_no TEXT,
                   error_code TEXT, error_message TEXT, updated_at TEXT NOT NULL,
                   PRIMARY KEY (batch, row_no));
                 CREATE INDEX payouts_by_state ON payouts (batch, state, row_no);
                 INSERT INTO batches VALUES (1, 'd', 'f.csv', 't0', 3, 0);
                 INSERT INTO payouts VALUES (1, 2, 'a', 'USD', 1, '{}', 'k1', 'success', 'T', NULL, NULL, 't1');
                 INSERT INTO payouts VALUES (1, 3, 'b', 'USD', 1, '{}', 'k2', 'sending', NULL, NULL, NULL, 't2');
                 INSERT INTO payouts VALUES (1, 4, 'c', 'USD', 1, '{}', 'k3', 'planned', NULL, NULL, NULL, 't0');",
            )
            .unwrap();
        }
        let journal = SqliteJournal::open(&path).unwrap();
        assert_eq!(states(&journal, 1), [Success, Sending, Planned]);
        let sending = journal.rows(1, &[Sending], 0, 10).unwrap();
        assert_eq!(sending[0].updated_at, "t2");
        let claimed = journal.claim(1, 0, 10).unwrap();
        assert_eq!(claimed.iter().map(|r| r.row).collect::<Vec<_>>(), [4]);
        assert_eq!(states(&journal, 1), [Success, Sending, Sending]);
        drop(journal);
        // Opening it again changes nothing.
        let journal = SqliteJournal::open(&path).unwrap();
        assert_eq!(states(&journal, 1), [Success, Sending, Sending]);
        drop(journal);

        // An older build's per-row claim is refused, not misread.
        let old = Connection::open(&path).unwrap();
        let refused = old
            .execute(
                "UPDATE payouts SET state = 'sending' WHERE state = 'planned'",
                [],
            )
            .unwrap_err();
        assert!(
            refused.to_string().contains("claims rows as a range"),
            "{refused}"
        );
        // A newer layout is refused by this build.
        old.pragma_update(None, "user_version", LAYOUT + 1).unwrap();
        drop(old);
        let error = SqliteJournal::open(&path).unwrap_err();
        assert_eq!(error.code(), "BATCH_JOURNAL");
        assert!(
            error.to_string().contains("newer pockyt-payouts"),
            "{error}"
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
