//! The PostgreSQL backend, shaped like the SQLite one: one writer thread per
//! process with group commit (`writer`), whose writes are buffered and
//! flushed set-based (`pending`); the `Books` of the workflow (`books`);
//! catalog, edits, tokens, idempotency and the push outbox; web UI users
//! and sessions (`users`); CSV bulk lookups and upserts (`bulk`); queries on
//! a pool of reader connections (`read`, `query`, `attention`); the invariant checks
//! (`check`). Module and function names match `crate::sqlite`, so each
//! `Store` method is written once for both (see `crate::dispatch`).
//!
//! The client is the synchronous `postgres` crate: the writer and the
//! readers block on their own threads as SQLite's do. It owns a small
//! runtime per connection, which must be neither created nor dropped inside
//! an async task; `blocking` and the pools see to that. Connections are
//! plain (no TLS): stocksync expects its database on the same host or a
//! private network.

pub mod attention;
pub mod books;
pub mod bulk;
pub mod catalog;
pub mod check;
pub mod edit;
pub mod idempotency;
pub mod pending;
mod prefetch;
pub mod push;
pub mod query;
pub mod read;
pub mod tokens;
pub mod users;
pub mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

use crate::Clock;
use crate::error::{Result, StoreError};

/// Embedded migrations, applied in order; each runs once, in a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (2, include_str!("../../migrations/postgres/0002_leases.sql")),
    (3, include_str!("../../migrations/postgres/0003_stale_since.sql")),
];
/// Advisory lock keys (any fixed numbers; these spell "stocksync" loosely).
/// Migrations take one so that two processes starting together do not both
/// create the schema; every writer transaction takes the other, so writer
/// transactions of all processes run one at a time, as on SQLite.
const MIGRATION_LOCK: i64 = 0x5354_4f43_4b00_0001;
pub(crate) const WRITER_LOCK: i64 = 0x5354_4f43_4b00_0002;
/// Idle reader connections kept open. Each is a server process; this bounds them.
const READERS_IDLE_MAX: usize = 8;
/// Prepared statements kept per connection before the cache starts over.
const STATEMENTS_MAX: usize = 512;

/// Parameters of a query, as the client takes them.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A connection with a cache of prepared statements: each SQL text is
/// parsed and planned once per connection, then only bound and executed
/// (one round trip instead of two).
pub struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("statements", &self.statements.len()).finish_non_exhaustive()
    }
}

impl Conn {
    /// Connects; must not be called from inside an async task (see `blocking`).
    pub fn connect(url: &str) -> Result<Self> {
        let mut config: postgres::Config =
            url.parse().map_err(|e| StoreError::BadUrl(format!("{}: {e}", redacted(url))))?;
        config.application_name("stocksync");
        let client = config.connect(NoTls)?;
        Ok(Self { client, statements: HashMap::new() })
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    fn prepared(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        if self.statements.len() >= STATEMENTS_MAX {
            self.statements.clear();
        }
        let s = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub fn query(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        let s = self.prepared(sql)?;
        Ok(self.client.query(&s, params)?)
    }

    pub fn query_opt(&mut self, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
        let s = self.prepared(sql)?;
        Ok(self.client.query_opt(&s, params)?)
    }

    pub fn query_one(&mut self, sql: &str, params: Params<'_>) -> Result<Row> {
        let s = self.prepared(sql)?;
        Ok(self.client.query_one(&s, params)?)
    }

    pub fn execute(&mut self, sql: &str, params: Params<'_>) -> Result<u64> {
        let s = self.prepared(sql)?;
        Ok(self.client.execute(&s, params)?)
    }

    /// A query whose text varies (built from filters): not cached.
    pub fn query_uncached(&mut self, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
        Ok(self.client.query(sql, params)?)
    }

    /// Statements without parameters, sent together in one round trip.
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.client.batch_execute(sql)?)
    }

    /// Statements without parameters in one round trip; the text of the
    /// first column of every row they return.
    pub fn simple(&mut self, sql: &str) -> Result<Vec<Option<String>>> {
        let mut out = Vec::new();
        for m in self.client.simple_query(sql)? {
            if let postgres::SimpleQueryMessage::Row(r) = m {
                out.push(r.get(0).map(str::to_owned));
            }
        }
        Ok(out)
    }
}

/// Runs `f` on a plain thread and waits for it: the client may neither be
/// created nor dropped inside an async task, and `Store::open` is called
/// from both sync and async code.
pub(crate) fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// The URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Applies pending migrations on `conn`; returns the versions applied.
fn migrate(conn: &mut Conn) -> Result<Vec<i64>> {
    conn.batch(&format!(
        "BEGIN;
         SELECT pg_advisory_xact_lock({MIGRATION_LOCK});
         CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
         COMMIT;"
    ))?;
    let mut applied = Vec::new();
    for &(version, sql) in MIGRATIONS {
        conn.batch(&format!("BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))?;
        let result = (|| {
            let done: bool = conn
                .query_one("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", &[&version])?
                .get(0);
            if !done {
                conn.batch(sql).map_err(|e| StoreError::Internal(format!("migration {version} failed: {e}")))?;
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                    &[&version, &crate::now_ms()],
                )?;
                applied.push(version);
            }
            conn.batch("COMMIT")
        })();
        if result.is_err() {
            let _ = conn.batch("ROLLBACK");
        }
        result?;
    }
    Ok(applied)
}

/// Connects to `url` and applies pending migrations.
pub fn migrate_url(url: &str) -> Result<Vec<i64>> {
    blocking(|| migrate(&mut Conn::connect(url)?))
}

/// Whether the database at `url` exists and holds stocksync's schema.
pub fn has_schema(url: &str) -> Result<bool> {
    blocking(|| {
        let mut conn = match Conn::connect(url) {
            Ok(c) => c,
            Err(StoreError::Postgres(e)) if e.code() == Some(&postgres::error::SqlState::INVALID_CATALOG_NAME) => {
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        Ok(conn.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])?.get(0))
    })
}

/// A PostgreSQL store's handles: its writer and its readers.
#[derive(Debug, Clone)]
pub struct Pg {
    pub(crate) writer: writer::Writer,
    pub(crate) readers: Readers,
}

impl Pg {
    /// Migrates the database, then starts the writer and the reader pool.
    pub fn open(url: &str, clock: Clock) -> Result<Self> {
        migrate_url(url)?;
        Ok(Self { writer: writer::Writer::start(url, clock)?, readers: Readers::new(url) })
    }
}

/// Reader connections, opened on demand and reused.
#[derive(Debug, Clone)]
pub struct Readers {
    url: Arc<str>,
    idle: Arc<Idle>,
}

/// Idle connections. Dropped on a plain thread (see `blocking`): the last
/// clone of a store may well be dropped inside an async task.
#[derive(Debug, Default)]
struct Idle(Mutex<Vec<Conn>>);

impl Drop for Idle {
    fn drop(&mut self) {
        let conns = std::mem::take(self.0.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner));
        if !conns.is_empty() {
            let _ = std::thread::Builder::new().name("stocksync-pg-close".into()).spawn(move || drop(conns));
        }
    }
}

impl Readers {
    pub fn new(url: &str) -> Self {
        Self { url: url.into(), idle: Arc::default() }
    }

    /// Runs `f` on a reader connection on the blocking pool. Each read is
    /// its own implicit transaction (autocommit), as on SQLite's readers.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let idle = this.idle.0.lock().expect("reader pool lock").pop();
            let mut conn = match idle {
                Some(c) if !c.is_closed() => c,
                _ => Conn::connect(&this.url)?,
            };
            let out = f(&mut conn);
            let mut idle = this.idle.0.lock().expect("reader pool lock");
            if idle.len() < READERS_IDLE_MAX && !conn.is_closed() {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn urls_in_messages_never_carry_a_password() {
        assert_eq!(redacted("postgres://app:s3cret@db:5432/stock"), "postgres://app:***@db:5432/stock");
        assert_eq!(redacted("postgresql://app@db/stock"), "postgresql://app@db/stock");
        assert_eq!(redacted("sqlite://a@b.db"), "sqlite://a@b.db");
    }
}
