//! The PostgreSQL writer: as on SQLite, one thread owns the write connection
//! and drains a queue of jobs, many per transaction (group commit), and
//! replies only after COMMIT.
//!
//! Across processes, every writer transaction first takes a transaction-level
//! advisory lock (`WRITER_LOCK`), so writer transactions of all processes
//! sharing the database run one after another: what a writer reads under the
//! lock is current until it commits, and two processes can never both take
//! the last unit. The stock levels a batch changed are then written with a
//! compare-and-set on the values read (`pending`), so even a writer that
//! bypassed the lock could not cause a lost update: the batch would fail.
//!
//! The lock also keeps the caches honest: each transaction bumps
//! `writer_epoch`; a writer that finds another value than the one it
//! committed knows another process wrote, and drops its caches (SQLite's
//! `PRAGMA data_version`).
//!
//! Writes on the hot path (levels, movements, orders and their side indexes)
//! are buffered in `WriterState::pending` and flushed with a few set-based
//! statements per batch: a round trip per row would cap ingest at a few
//! thousand orders per second.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};

use stocksync_core::allocation::FcRef;
use stocksync_core::books::{ChannelRules, Resolved};
use stocksync_core::{ChannelId, FcId, ItemId, Sku, Timestamp};
use tokio::sync::oneshot;

use super::pending::{CachedLevel, Pending};
use super::{Conn, WRITER_LOCK};
use crate::dirty::{Dirty, queue_rows};
use crate::error::{Result, StoreError};
use crate::lines::OrderRow;
use crate::{Clock, Isolation};

/// Most jobs in one transaction (as on SQLite).
const JOBS_PER_TRANSACTION_MAX: usize = 4096;
/// Jobs waiting for the writer before senders wait too (back-pressure).
const QUEUE_MAX: usize = 65_536;
/// Cached levels before the cache is dropped: bounds memory on huge catalogs.
const LEVEL_CACHE_MAX: usize = 2_000_000;
/// How often the writer indexes new movements, in milliseconds.
const MOVEMENT_INDEX_INTERVAL_MS: i64 = 1000;
/// Pause before reconnecting after the connection was lost, in ms.
const RECONNECT_PAUSE_MS: u64 = 200;

/// What the writer knows between batches. Every cache is dropped when
/// another process wrote (`writer_epoch` moved) or a job fails.
#[derive(Default)]
pub struct WriterState {
    /// The epoch this writer's last transaction committed.
    epoch: Option<i64>,
    pub(crate) next_order_id: Option<i64>,
    pub(crate) next_movement_id: Option<i64>,
    pub(crate) rules: HashMap<ChannelId, ChannelRules>,
    pub(crate) resolved: HashMap<(ChannelId, String), Resolved>,
    pub(crate) levels: HashMap<(ItemId, FcId), CachedLevel>,
    pub(crate) bundles_of: HashMap<ItemId, Vec<ItemId>>,
    pub(crate) bundles_loaded: bool,
    pub(crate) skus: HashMap<ItemId, Sku>,
    pub(crate) fcs: HashMap<String, FcRef>,
    /// Items whose listings must be marked for a push before COMMIT.
    pub(crate) dirty_items: Dirty,
    /// Writes not yet sent to the database.
    pub(crate) pending: Pending,
    /// This batch's import jobs' orders, looked up together (`prefetch`).
    pub(crate) known: HashMap<(ChannelId, String), Option<OrderRow>>,
    movements_indexed_at: i64,
}

impl std::fmt::Debug for WriterState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriterState").field("levels", &self.levels.len()).finish_non_exhaustive()
    }
}

impl WriterState {
    /// Drops every cache and every unsent write.
    pub(crate) fn clear_caches(&mut self) {
        self.next_order_id = None;
        self.next_movement_id = None;
        self.rules.clear();
        self.resolved.clear();
        self.levels.clear();
        self.bundles_of.clear();
        self.bundles_loaded = false;
        self.skus.clear();
        self.fcs.clear();
        self.pending = Pending::default();
        self.known.clear();
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
    pub(crate) conn: &'a mut Conn,
    pub(crate) st: &'a mut WriterState,
    pub(crate) now: Timestamp,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("now", &self.now).finish_non_exhaustive()
    }
}

impl Session<'_> {
    /// Sends every buffered write: before a query that reads what they change.
    pub(crate) fn flush(&mut self) -> Result<()> {
        super::pending::flush(self.conn, self.st)
    }
}

/// Sends a job's result, or the commit error that undid it.
type Reply = Box<dyn FnOnce(Option<&str>) + Send>;

struct Done {
    ok: bool,
    /// The job failed with something other than a rejection.
    fatal: bool,
    reply: Reply,
}

struct Job {
    guarded: bool,
    /// The `(channel, external_id)` of the order an import job will look for.
    order_key: Option<(ChannelId, String)>,
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
    /// Starts the writer thread, which connects first: a database that
    /// cannot be reached fails here, not at the first write.
    pub fn start(url: &str, clock: Clock) -> Result<Self> {
        let (queue, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE_MAX);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (outbox_tx, outbox) = tokio::sync::watch::channel(0u64);
        let url = url.to_owned();
        std::thread::Builder::new()
            .name("stocksync-pg-writer".into())
            .spawn(move || match Conn::connect(&url) {
                Ok(conn) => {
                    let _ = ready_tx.send(Ok(()));
                    run(conn, &url, rx, clock, outbox_tx);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        ready_rx.recv().map_err(|_| StoreError::Internal("the writer thread died while connecting".into()))??;
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
        self.write_keyed(isolation, None, f).await
    }

    /// As `write`, for a job that will look for the order `order_key`: the
    /// batch looks up all such orders in one query before its jobs run.
    pub async fn write_keyed<T, F>(
        &self,
        isolation: Isolation,
        order_key: Option<(ChannelId, String)>,
        f: F,
    ) -> Result<T>
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
        let mut job = Some(Job { guarded: isolation == Isolation::Savepoint, order_key, run });
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

fn run(mut conn: Conn, url: &str, rx: Receiver<Job>, clock: Clock, outbox: tokio::sync::watch::Sender<u64>) {
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
        if conn.is_closed() {
            match Conn::connect(url) {
                Ok(c) => conn = c,
                Err(e) => {
                    tracing::error!(error = %e, jobs = jobs.len(), "the database connection is lost; cannot reconnect");
                    fail_unrun(jobs, &e.to_string());
                    std::thread::sleep(std::time::Duration::from_millis(RECONNECT_PAUSE_MS));
                    continue;
                }
            }
        }
        let now = clock();
        let mut done = Vec::with_capacity(jobs.len());
        let outcome = run_batch(&mut conn, &mut st, jobs, now, &mut done);
        if let Ok(true) = outcome {
            outbox.send_modify(|v| *v = v.wrapping_add(1));
        }
        let error = outcome.err().map(|e| e.to_string());
        if let Some(e) = &error {
            tracing::error!(error = %e, jobs = done.len(), "write transaction failed; rolled back");
            let _ = conn.batch("ROLLBACK");
            st.clear_caches();
            st.dirty_items.clear();
            st.epoch = None;
        }
        for d in done {
            (d.reply)(error.as_deref());
        }
    }
}

/// Drops jobs that never ran: their callers see the request dropped (a
/// commit failure); nothing was written.
fn fail_unrun(jobs: Vec<Job>, error: &str) {
    tracing::warn!(error, jobs = jobs.len(), "requests dropped: no database connection");
    drop(jobs);
}

fn run_batch(
    conn: &mut Conn,
    st: &mut WriterState,
    jobs: Vec<Job>,
    now: Timestamp,
    done: &mut Vec<Done>,
) -> Result<bool> {
    begin(conn, st)?;
    super::prefetch::orders(conn, st, jobs.iter().filter_map(|j| j.order_key.as_ref()))?;
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
        // The savepoint must cover exactly this job's writes: send what
        // earlier jobs buffered first.
        super::pending::flush(conn, st)?;
        conn.execute("SAVEPOINT job", &[])?;
        let d = run_job(job, &mut Session { conn, st, now })?;
        if !d.ok {
            conn.execute("ROLLBACK TO SAVEPOINT job", &[])?;
            st.clear_caches();
        }
        conn.execute("RELEASE SAVEPOINT job", &[])?;
        done.push(d);
    }
    super::pending::flush(conn, st)?;
    st.known.clear();
    let marked = mark_outbox(conn, st, now)?;
    if now.0 - st.movements_indexed_at >= MOVEMENT_INDEX_INTERVAL_MS {
        index_movements(conn)?;
        st.movements_indexed_at = now.0;
    }
    commit(conn, st)?;
    Ok(marked)
}

/// Opens the batch's transaction under the writer lock, and drops the
/// caches if another process wrote since this writer's last commit.
fn begin(conn: &mut Conn, st: &mut WriterState) -> Result<()> {
    let rows =
        conn.simple(&format!("BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK}); SELECT epoch FROM writer_epoch"))?;
    let epoch = rows.last().cloned().flatten().and_then(|e| e.parse::<i64>().ok());
    if epoch.is_none() || epoch != st.epoch {
        st.clear_caches();
    }
    if st.levels.len() > LEVEL_CACHE_MAX {
        st.levels.clear();
    }
    Ok(())
}

/// Bumps the epoch and commits, in one round trip.
fn commit(conn: &mut Conn, st: &mut WriterState) -> Result<()> {
    st.epoch = None;
    let rows = conn.simple("UPDATE writer_epoch SET epoch = epoch + 1 RETURNING epoch; COMMIT")?;
    st.epoch = rows.first().cloned().flatten().and_then(|e| e.parse::<i64>().ok());
    Ok(())
}

/// Runs one job; a panic fails the whole batch (see the SQLite writer).
fn run_job(job: Job, session: &mut Session<'_>) -> Result<Done> {
    session.st.dirty_items.set_source(None);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(session)))
        .map_err(|_| StoreError::Internal("a write job panicked; the batch is rolled back".into()))
}

/// Adds every movement not yet in `movement_index` to it, sorted by level,
/// and advances the mark. Safe under the writer lock: movement ids grow in
/// commit order because only one writer transaction runs at a time.
pub(crate) fn index_movements(conn: &mut Conn) -> Result<()> {
    conn.execute(
        "WITH mark AS (SELECT indexed_upto AS upto, (SELECT MAX(id) FROM movements) AS last
                       FROM movement_index_state WHERE id = 1),
              added AS (INSERT INTO movement_index (item_id, fc_id, movement_id)
                        SELECT m.item_id, m.fc_id, m.id FROM movements m, mark
                        WHERE m.id > mark.upto AND m.id <= mark.last ORDER BY 1, 2, 3)
         UPDATE movement_index_state SET indexed_upto = mark.last FROM mark
         WHERE movement_index_state.id = 1 AND mark.last > mark.upto",
        &[],
    )?;
    Ok(())
}

/// Appends to the push queue rows naming every item changed in this batch
/// and every bundle containing one, one row per stale-since time (see
/// `Dirty`); whether it appended any.
fn mark_outbox(conn: &mut Conn, st: &mut WriterState, now: Timestamp) -> Result<bool> {
    if st.dirty_items.is_empty() {
        return Ok(false);
    }
    let mut affected = Vec::with_capacity(st.dirty_items.len());
    for (item, since) in st.dirty_items.take() {
        affected.push((item, since));
        affected.extend(super::books::bundles_containing(conn, st, item)?.into_iter().map(|b| (b, since)));
    }
    for (stale_since, items) in queue_rows(affected, now) {
        conn.execute(
            "INSERT INTO push_queue (marked_at, stale_since, items) VALUES ($1, $2, $3)",
            &[&now.0, &stale_since, &items],
        )?;
    }
    Ok(true)
}
