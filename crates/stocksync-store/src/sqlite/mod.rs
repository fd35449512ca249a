//! The SQLite backend: one writer thread with group commit (`writer`), the
//! `Books` of the workflow over SQL (`books`), catalog and channel commands
//! (`catalog`), API tokens stored hashed (`tokens`), queries on separate
//! reader connections (`read`), web UI users and sessions (`users`), the
//! dashboard's queries (`attention`), and the
//! invariant checks (`check`).

pub mod attention;
pub mod books;
pub mod bulk;
pub mod catalog;
pub mod check;
pub mod edit;
pub mod idempotency;
pub mod push;
pub mod query;
pub mod read;
pub mod tokens;
pub mod users;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Result, StoreError};
use crate::now_ms;

/// Embedded migrations, applied in order; each runs once, in a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../../migrations/sqlite/0002_leases.sql")),
    (3, include_str!("../../migrations/sqlite/0003_stale_since.sql")),
];

/// How long a connection waits for another process's write lock, in ms.
/// Long enough to ride out another process's batch, short enough to report a wedged lock.
const BUSY_TIMEOUT_MS: u64 = 10_000;
/// Idle reader connections kept open. Readers are cheap; this bounds file handles.
const READERS_IDLE_MAX: usize = 8;

/// Opens a connection with the pragmas every connection needs. Why each
/// (figures from `bench ingest`, see BENCHMARKS.md):
/// - `page_size` 2 KiB (bytes; applies when the file is created): an order
///   dirties a few random pages, and a commit writes each whole; 1–2 KiB
///   pages measured ~20% faster than SQLite's 4 KiB.
/// - WAL: readers never block the writer, nor the writer them.
/// - `synchronous=FULL`: the WAL is fsynced at every commit, so a write the
///   writer acknowledged survives power loss, not only a crash.
/// - `cache_size` 16 MiB: enough for a batch's dirty pages; reads come
///   through `mmap_size` (1 GiB of address space, not memory). Larger caches
///   measured slower: SQLite walks the cache's hash table at every commit.
/// - `wal_autocheckpoint` 16,384 pages (32 MiB): the writer's own checkpoint,
///   which finds most frames already copied by the background checkpointer
///   and lets the WAL rewind.
pub fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))?;
    conn.execute_batch(
        "PRAGMA page_size = 2048;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16384;
         PRAGMA temp_store = MEMORY;
         PRAGMA mmap_size = 1073741824;
         PRAGMA wal_autocheckpoint = 16384;",
    )?;
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// Creates the file if missing and applies pending migrations.
pub fn migrate(conn: &mut Connection) -> Result<Vec<i64>> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let mut applied = Vec::new();
    for &(version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)", [version], |r| {
                r.get(0)
            })?;
        if !done {
            tx.execute_batch(sql).map_err(|e| StoreError::Internal(format!("migration {version} failed: {e}")))?;
            tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", [version, now_ms()])?;
            applied.push(version);
        }
        tx.commit()?;
    }
    Ok(applied)
}

/// How often the background checkpointer copies committed WAL frames into
/// the database file, in ms. It does the copying on another core; the
/// writer's own autocheckpoint (`wal_autocheckpoint`) then finds little left
/// to copy, and because it runs right after the writer's commit, it
/// completes and lets the next transaction rewind the WAL.
const CHECKPOINT_INTERVAL_MS: u64 = 50;

/// Starts the checkpointer thread. It stops when `alive` can no longer be
/// upgraded, i.e. when the last clone of the store is dropped.
pub fn start_checkpointer(path: PathBuf, alive: std::sync::Weak<()>) -> Result<()> {
    let conn = connect(&path)?;
    std::thread::Builder::new()
        .name("stocksync-checkpoint".into())
        .spawn(move || {
            while alive.upgrade().is_some() {
                std::thread::sleep(Duration::from_millis(CHECKPOINT_INTERVAL_MS));
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "background checkpoint failed; will retry");
                }
            }
        })
        .map_err(|e| StoreError::Internal(format!("cannot start the checkpointer: {e}")))?;
    Ok(())
}

/// Reader connections, opened on demand and reused.
#[derive(Debug, Clone)]
pub struct Readers {
    path: PathBuf,
    idle: Arc<Mutex<Vec<Connection>>>,
}

impl Readers {
    pub fn new(path: PathBuf) -> Self {
        Self { path, idle: Arc::default() }
    }

    /// Runs `f` on a reader connection on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = match this.idle.lock().expect("reader pool lock").pop() {
                Some(c) => c,
                None => {
                    let c = connect(&this.path)?;
                    c.execute_batch("PRAGMA query_only = ON")?;
                    c
                }
            };
            let out = f(&conn);
            let mut idle = this.idle.lock().expect("reader pool lock");
            if idle.len() < READERS_IDLE_MAX {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task failed: {e}")))?
    }
}
