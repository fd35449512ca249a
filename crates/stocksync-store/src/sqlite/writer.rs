//! The single writer: one thread owns the write connection and drains a
//! queue of jobs, many per transaction (group commit). One fsync then
//! acknowledges a whole batch, which is what lets ingest run at tens of
//! thousands of orders per second on a durable (`synchronous=FULL`) file.
//!
//! Each job runs inside its own savepoint: a job that fails rolls back alone
//! and the rest of the batch commits. Replies are sent only after COMMIT, so
//! an acknowledged job is on disk.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

use rusqlite::Connection;
use stocksync_core::allocation::FcRef;
use stocksync_core::books::{ChannelRules, Level, Resolved};
use stocksync_core::{ChannelId, FcId, ItemId, Sku, Timestamp};
use tokio::sync::oneshot;

use crate::dirty::{Dirty, queue_rows};
use crate::error::{Result, StoreError};
use crate::{Clock, Isolation};

/// Most jobs in one transaction. Larger batches amortise the fsync further
/// but delay every reply in the batch; 4,096 single-line orders take ~100 ms.
const JOBS_PER_TRANSACTION_MAX: usize = 4096;
/// Jobs waiting for the writer before senders wait too (back-pressure).
pub const QUEUE_MAX: usize = 65_536;
/// Cached levels before the cache is dropped: bounds memory on huge catalogs
/// (each entry is ~40 bytes; 2 M entries ≈ 80 MB).
const LEVEL_CACHE_MAX: usize = 2_000_000;

/// How often the writer indexes new movements, in milliseconds. Each run
/// sorts about this much ledger by level and inserts it in order, touching
/// each index page once; queries scan at most this much unindexed tail.
const MOVEMENT_INDEX_INTERVAL_MS: i64 = 1000;

/// What the writer knows between batches. Every cache is dropped when
/// another connection commits (`PRAGMA data_version` changes) or a job fails.
#[derive(Default)]
pub struct WriterState {
    data_version: i64,
    pub(crate) next_order_id: Option<i64>,
    pub(crate) rules: HashMap<ChannelId, ChannelRules>,
    pub(crate) resolved: HashMap<(ChannelId, String), Resolved>,
    pub(crate) levels: HashMap<(ItemId, FcId), Level>,
    pub(crate) bundles_of: HashMap<ItemId, Vec<ItemId>>,
    pub(crate) bundles_loaded: bool,
    pub(crate) skus: HashMap<ItemId, Sku>,
    pub(crate) fcs: HashMap<String, FcRef>,
    /// Items whose listings must be marked for a push before COMMIT.
    pub(crate) dirty_items: Dirty,
    /// When the movement index last caught up (writer clock, ms).
    movements_indexed_at: i64,
}

impl std::fmt::Debug for WriterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterState").field("levels", &self.levels.len()).finish_non_exhaustive()
    }
}

impl WriterState {
    pub(crate) fn clear_caches(&mut self) {
        self.next_order_id = None;
        self.rules.clear();
        self.resolved.clear();
        self.levels.clear();
        self.bundles_of.clear();
        self.bundles_loaded = false;
        self.skus.clear();
        self.fcs.clear();
    }

    /// Drops caches derived from the catalog and channel settings.
    pub(crate) fn catalog_changed(&mut self) {
        self.rules.clear();
        self.resolved.clear();
        self.bundles_of.clear();
        self.bundles_loaded = false;
        self.fcs.clear();
    }
}

/// One job's view of the open transaction.
pub struct Session<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) st: &'a mut WriterState,
    pub(crate) now: Timestamp,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("now", &self.now).finish_non_exhaustive()
    }
}

/// Sends a job's result, or the commit error that undid it.
type Reply = Box<dyn FnOnce(Option<&str>) + Send>;

struct Done {
    ok: bool,
    /// The job failed with something other than a rejection: its partial
    /// writes cannot be undone alone (it ran without a savepoint).
    fatal: bool,
    reply: Reply,
}

struct Job {
    /// Run inside a savepoint, so that a failure undoes this job alone.
    guarded: bool,
    run: Box<dyn FnOnce(&mut Session<'_>) -> Done + Send>,
}

/// The handle to the writer thread.
#[derive(Clone)]
pub struct Writer {
    queue: SyncSender<Job>,
    /// Ticks after every commit that appended to the push outbox.
    outbox: tokio::sync::watch::Receiver<u64>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    /// Starts the writer thread on `conn`.
    pub fn start(conn: Connection, clock: Clock) -> Result<Self> {
        let (queue, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE_MAX);
        let (outbox_tx, outbox) = tokio::sync::watch::channel(0u64);
        std::thread::Builder::new()
            .name("stocksync-writer".into())
            .spawn(move || run(conn, rx, clock, outbox_tx))
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { queue, outbox })
    }

    /// Changes whenever a commit appended to the push outbox, so the push
    /// worker wakes at once instead of polling.
    pub fn outbox_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.outbox.clone()
    }

    /// Runs `f` in the writer's next transaction and returns its result
    /// once that transaction has committed.
    pub async fn write<T, F>(&self, isolation: Isolation, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Session<'_>) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let run = Box::new(move |s: &mut Session<'_>| {
            let r = f(s);
            Done {
                ok: r.is_ok(),
                fatal: matches!(&r, Err(e) if !matches!(e, StoreError::Rejected(_))),
                reply: Box::new(move |commit_error| {
                    let _ = tx.send(match commit_error {
                        Some(e) => Err(StoreError::Commit(e.to_owned())),
                        None => r,
                    });
                }),
            }
        });
        let mut job = Some(Job { guarded: isolation == Isolation::Savepoint, run });
        loop {
            match self.queue.try_send(job.take().expect("job is present")) {
                Ok(()) => break,
                Err(TrySendError::Full(j)) => {
                    job = Some(j);
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                Err(TrySendError::Disconnected(_)) => return Err(StoreError::Closed),
            }
        }
        rx.await.map_err(|_| StoreError::Commit("the writer dropped the request".into()))?
    }
}

fn run(conn: Connection, rx: Receiver<Job>, clock: Clock, outbox: tokio::sync::watch::Sender<u64>) {
    let mut st = WriterState::default();
    while let Ok(first) = rx.recv() {
        let mut jobs = Vec::with_capacity(64);
        jobs.push(first);
        while jobs.len() < JOBS_PER_TRANSACTION_MAX {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let now = clock();
        let mut done = Vec::with_capacity(jobs.len());
        let outcome = run_batch(&conn, &mut st, jobs, now, &mut done);
        if let Ok(true) = outcome {
            outbox.send_modify(|v| *v = v.wrapping_add(1));
        }
        let error = outcome.err().map(|e| e.to_string());
        if let Some(e) = &error {
            tracing::error!(error = %e, jobs = done.len(), "write transaction failed; rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            st.clear_caches();
            st.dirty_items.clear();
        }
        for d in done {
            (d.reply)(error.as_deref());
        }
    }
}

fn run_batch(
    conn: &Connection,
    st: &mut WriterState,
    jobs: Vec<Job>,
    now: Timestamp,
    done: &mut Vec<Done>,
) -> Result<bool> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    // Only under the write lock: another process may commit while this one
    // waits for it, and what it wrote must not meet stale caches.
    let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    if version != st.data_version {
        st.clear_caches();
        st.data_version = version;
    }
    if st.levels.len() > LEVEL_CACHE_MAX {
        st.levels.clear();
    }
    for job in jobs {
        if !job.guarded {
            let d = run_job(job, &mut Session { conn, st, now })?;
            let fatal = d.fatal;
            done.push(d);
            if fatal {
                return Err(StoreError::Internal("a job failed after writing; the batch is rolled back".into()));
            }
            continue;
        }
        conn.prepare_cached("SAVEPOINT job")?.execute([])?;
        let d = run_job(job, &mut Session { conn, st, now })?;
        if !d.ok {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
            st.clear_caches();
        }
        conn.prepare_cached("RELEASE job")?.execute([])?;
        done.push(d);
    }
    let marked = mark_outbox(conn, st, now)?;
    if now.0 - st.movements_indexed_at >= MOVEMENT_INDEX_INTERVAL_MS {
        index_movements(conn)?;
        st.movements_indexed_at = now.0;
    }
    conn.execute_batch("COMMIT")?;
    Ok(marked)
}

/// Runs one job. A panic inside a job is a bug; it must not take the writer
/// down with it, but whatever the job wrote cannot be trusted, so the whole
/// batch is rolled back (the panicking job's caller sees its request dropped).
fn run_job(job: Job, session: &mut Session<'_>) -> Result<Done> {
    session.st.dirty_items.set_source(None);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(session)))
        .map_err(|_| StoreError::Internal("a write job panicked; the batch is rolled back".into()))
}

/// Adds every movement not yet in `movement_index` to it, sorted by level
/// so that each index page is written once, and advances the mark.
pub(crate) fn index_movements(conn: &Connection) -> Result<()> {
    let upto: i64 = conn
        .prepare_cached("SELECT indexed_upto FROM movement_index_state WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let last: Option<i64> = conn.prepare_cached("SELECT MAX(id) FROM movements")?.query_row([], |r| r.get(0))?;
    let Some(last) = last.filter(|&l| l > upto) else { return Ok(()) };
    conn.prepare_cached(
        "INSERT INTO movement_index (item_id, fc_id, movement_id)
         SELECT item_id, fc_id, id FROM movements WHERE id > ?1 AND id <= ?2 ORDER BY item_id, fc_id, id",
    )?
    .execute([upto, last])?;
    conn.prepare_cached("UPDATE movement_index_state SET indexed_upto = ?1 WHERE id = 1")?.execute([last])?;
    Ok(())
}

/// Appends to the push queue rows naming every item changed in this batch
/// and every bundle containing one, in the batch's transaction: their
/// listings, on every channel, may now show another quantity. Items go in
/// one row per stale-since time (see `Dirty`).
fn mark_outbox(conn: &Connection, st: &mut WriterState, now: Timestamp) -> Result<bool> {
    if st.dirty_items.is_empty() {
        return Ok(false);
    }
    let mut affected = Vec::with_capacity(st.dirty_items.len());
    for (item, since) in st.dirty_items.take() {
        affected.push((item, since));
        affected.extend(super::books::bundles_containing(conn, st, item)?.into_iter().map(|b| (b, since)));
    }
    let mut insert =
        conn.prepare_cached("INSERT INTO push_queue (marked_at, stale_since, items) VALUES (?1, ?2, ?3)")?;
    for (stale_since, items) in queue_rows(affected, now) {
        insert.execute((now.0, stale_since, items))?;
    }
    Ok(true)
}
