//! The pay workers of a run: as many tasks as the run's concurrency, each
//! taking the next row from one shared queue, paying it and leaving the
//! outcome for the run's loop. Workers wake the loop when it has
//! something to do (outcomes enough for a write, rows running low, every
//! worker idle, a stop), not once per row; the loop also looks every
//! `RECORD_DELAY`. A pay costs no task spawn and no hand-off beyond what
//! a caller paying directly would have.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::journal::JournalRow;
use super::run::{handle, Handled, Pace};
use crate::client::Client;

/// The queue of rows to pay and the outcomes not yet taken by the loop.
pub(super) struct Lanes {
    shared: Mutex<Shared>,
    /// Wakes the run's loop (a stored permit if it is busy).
    wake_loop: Notify,
    /// Wakes workers waiting for rows (rows added, or no more coming).
    rows_ready: Notify,
    /// Queue length at which the loop is told rows are running low.
    low_water: usize,
    /// Outcomes waiting at which the loop is told to write them.
    write_at: usize,
    /// Pays in a row that never reached the server at which the loop is
    /// told to stop.
    unreached_limit: u64,
    /// The batch's stop: once set, workers take no more rows.
    stop: Arc<AtomicBool>,
    /// The run's own stop (a journal failure, pays not reaching the
    /// server): the same for the workers.
    halted: AtomicBool,
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<JournalRow>,
    done: Vec<Handled>,
    /// No more rows will be queued: a worker finding the queue empty ends.
    closed: bool,
    /// Rows being paid now.
    busy: usize,
    unreached_in_a_row: u64,
    /// `unreached_limit` pays in a row failed to reach the server (kept
    /// once reached, whatever comes after).
    unreached_limit_hit: bool,
}

/// What the loop learns when it takes the outcomes.
pub(super) struct Taken {
    /// Rows still queued.
    pub queued: usize,
    /// No row queued and none being paid.
    pub idle: bool,
    /// That many pays in a row never reached the server that the run
    /// must stop.
    pub unreached_limit_hit: bool,
}

impl Lanes {
    /// Lanes that wake the loop at `low_water` rows left, `write_at`
    /// outcomes waiting, or `unreached_limit` unreached pays in a row;
    /// their workers take no row once `stop` is set.
    pub(super) fn new(
        low_water: usize,
        write_at: usize,
        unreached_limit: u64,
        stop: Arc<AtomicBool>,
    ) -> Arc<Lanes> {
        Arc::new(Lanes {
            shared: Mutex::new(Shared::default()),
            wake_loop: Notify::new(),
            rows_ready: Notify::new(),
            low_water,
            write_at: write_at.max(1),
            unreached_limit,
            stop,
            halted: AtomicBool::new(false),
        })
    }

    fn shared(&self) -> MutexGuard<'_, Shared> {
        // Nothing is left half-done under the lock: a panic elsewhere
        // does not make its contents wrong.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts `count` workers paying through `client` at `pace`. Dropping
    /// the set aborts them: rows being paid stay `sending`, for the next
    /// run to settle.
    pub(super) fn spawn_workers(
        self: &Arc<Self>,
        count: usize,
        client: &Client,
        pace: Option<Arc<Pace>>,
    ) -> JoinSet<()> {
        let mut workers = JoinSet::new();
        for _ in 0..count {
            let (lanes, client, pace) = (Arc::clone(self), client.clone(), pace.clone());
            workers.spawn(async move { lanes.work(&client, pace.as_deref()).await });
        }
        workers
    }

    /// One worker: the next row, paid, its outcome left; until the queue
    /// is empty and closed.
    async fn work(&self, client: &Client, pace: Option<&Pace>) {
        loop {
            // The turn first, then the row: a row is sent as soon as it is
            // taken, so the latest claim (which a resume waits from before
            // settling rows left `sending`) is never long before a send.
            if let Some(pace) = pace {
                if !pace.wait(&|| self.stopping()).await {
                    self.wake_loop.notify_one();
                    return;
                }
            }
            let Some(row) = self.next_row().await else {
                return;
            };
            let handled = handle(client, &row, || self.stopping()).await;
            let wake = {
                let mut shared = self.shared();
                shared.busy -= 1;
                match &handled {
                    Handled::Unsent(_) => shared.unreached_in_a_row += 1,
                    Handled::Done(_) | Handled::Keep => shared.unreached_in_a_row = 0,
                }
                shared.done.push(handled);
                let limit_hit = !shared.unreached_limit_hit
                    && shared.unreached_in_a_row >= self.unreached_limit;
                shared.unreached_limit_hit |= limit_hit;
                shared.done.len() == self.write_at
                    || (shared.busy == 0 && shared.queue.is_empty())
                    || limit_hit
            };
            if wake {
                self.wake_loop.notify_one();
            }
        }
    }

    /// The next row to pay, waiting while the queue is empty but open;
    /// `None` once it is empty and closed, or the batch is stopping (the
    /// loop, woken, puts the rows left back).
    async fn next_row(&self) -> Option<JournalRow> {
        loop {
            let ready = self.rows_ready.notified();
            tokio::pin!(ready);
            // Registered before the stop and the queue are looked at: a
            // halt or rows added after the look still wake this worker.
            ready.as_mut().enable();
            if self.stopping() {
                self.wake_loop.notify_one();
                return None;
            }
            {
                let mut shared = self.shared();
                if let Some(row) = shared.queue.pop_front() {
                    shared.busy += 1;
                    if shared.queue.len() == self.low_water {
                        self.wake_loop.notify_one();
                    }
                    return Some(row);
                }
                if shared.closed {
                    return None;
                }
            }
            ready.await;
        }
    }

    /// Whether the batch or the run is stopping.
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.halted.load(Ordering::SeqCst)
    }

    /// Stops the workers taking rows (the run stops on its own account).
    pub(super) fn halt(&self) {
        self.halted.store(true, Ordering::SeqCst);
        self.rows_ready.notify_waiters();
    }

    /// Queues rows for the workers.
    pub(super) fn add(&self, rows: impl IntoIterator<Item = JournalRow>) {
        self.shared().queue.extend(rows);
        self.rows_ready.notify_waiters();
    }

    /// Takes every row still queued (the run is stopping).
    pub(super) fn take_queue(&self) -> Vec<JournalRow> {
        self.shared().queue.drain(..).collect()
    }

    /// No more rows will come: workers end once the queue is empty.
    pub(super) fn close(&self) {
        self.shared().closed = true;
        self.rows_ready.notify_waiters();
    }

    /// Moves the outcomes left so far into `into`, and tells where the
    /// workers are.
    pub(super) fn take_done(&self, into: &mut Vec<Handled>) -> Taken {
        let mut shared = self.shared();
        into.append(&mut shared.done);
        Taken {
            queued: shared.queue.len(),
            idle: shared.busy == 0 && shared.queue.is_empty(),
            unreached_limit_hit: shared.unreached_limit_hit,
        }
    }

    /// Waits until a worker has something for the loop (returns at once
    /// when one told it since the last wait).
    pub(super) async fn wait(&self) {
        self.wake_loop.notified().await;
    }
}
