//! Helpers: a fresh database per test on either backend, a controllable
//! clock, seeding, dumps, and `on_both!`, which runs a test on each backend.
//!
//! PostgreSQL is found through `STOCKSYNC_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`): each test creates its own
//! database there and drops it at the end. When the server cannot be
//! reached, the PostgreSQL variants are skipped with a message, except under
//! `CI=true`, where they fail.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rusqlite::Connection;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::{Clock, NewChannel, Store};

/// Where the PostgreSQL variants create their databases, unless `STOCKSYNC_TEST_POSTGRES` says otherwise.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Runs `async fn $name(b: Backend)` once per backend, as tests
/// `$name::sqlite` and `$name::postgres`.
macro_rules! on_both {
    ($name:ident) => {
        on_both!($name; );
    };
    ($name:ident; $($flavor:tt)*) => {
        mod $name {
            #[tokio::test($($flavor)*)]
            async fn sqlite() {
                super::$name(crate::common::Backend::Sqlite).await
            }
            #[tokio::test($($flavor)*)]
            async fn postgres() {
                if crate::common::postgres_ready() {
                    super::$name(crate::common::Backend::Postgres).await
                }
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

fn admin_url() -> String {
    std::env::var("STOCKSYNC_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// Runs `f` with a client on a plain thread: the synchronous client must not
/// run inside the test's async runtime.
pub fn with_pg<T: Send>(url: &str, f: impl FnOnce(&mut postgres::Client) -> T + Send) -> T {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect to PostgreSQL");
            f(&mut client)
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Whether the PostgreSQL variants can run. Skips (with a message) when the
/// server is unreachable, unless `CI=true`.
pub fn postgres_ready() -> bool {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let url = admin_url();
        std::thread::spawn(move || {
            postgres::Client::connect(&url, postgres::NoTls)
                .map(drop)
                .map_err(|e| format!("PostgreSQL is not reachable at {url} ({e}); set STOCKSYNC_TEST_POSTGRES"))
        })
        .join()
        .unwrap_or_else(|_| Err("connecting to PostgreSQL panicked".into()))
    });
    match ready {
        Ok(()) => true,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("{e} (CI=true: not skipping)"),
        Err(e) => {
            eprintln!("skipped: {e}");
            false
        }
    }
}

/// A fresh PostgreSQL database, dropped with the value.
struct PgDatabase {
    name: String,
}

impl PgDatabase {
    fn create() -> (Self, String) {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("stocksync_test_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let admin = admin_url();
        with_pg(&admin, |c| c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database"));
        let url = match admin.rfind('/') {
            Some(i) if admin[..i].ends_with(|c: char| c != '/') => format!("{}/{name}", &admin[..i]),
            _ => panic!("STOCKSYNC_TEST_POSTGRES must name a database: {admin}"),
        };
        (Self { name }, url)
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = std::thread::scope(|s| {
            s.spawn(|| {
                let mut client = postgres::Client::connect(&admin_url(), postgres::NoTls)?;
                client.batch_execute(&sql)
            })
            .join()
        });
    }
}

/// A database that lives as long as the value.
pub struct TestDb {
    pub backend: Backend,
    pub store: Store,
    pub url: String,
    /// Dropped after the store: the SQLite file's folder, or the PostgreSQL database.
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        Self::with_clock(backend, fixed_clock(1_795_000_000_000).0)
    }

    pub fn with_clock(backend: Backend, clock: Clock) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let store = Store::open_with_clock(&url, clock).expect("open store");
                Self { backend, store, url, _dir: Some(dir), _pg: None }
            }
            Backend::Postgres => {
                let (db, url) = PgDatabase::create();
                let store = Store::open_with_clock(&url, clock).expect("open store");
                Self { backend, store, url, _dir: None, _pg: Some(db) }
            }
        }
    }

    /// The SQLite file (SQLite only).
    pub fn path(&self) -> std::path::PathBuf {
        self._dir.as_ref().expect("a SQLite test database").path().join("test.db")
    }

    /// A raw SQLite connection, for SQLite-only checks.
    fn raw_sqlite(&self) -> Connection {
        Connection::open(self.path()).expect("raw connection")
    }

    /// Each row of the backend's query, its columns as text joined by spaces.
    pub fn rows(&self, sqlite: &str, postgres: &str) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => {
                let conn = self.raw_sqlite();
                let mut st = conn.prepare(sqlite).unwrap();
                let cols = st.column_count();
                st.query_map([], |r| {
                    let mut s = Vec::with_capacity(cols);
                    for i in 0..cols {
                        s.push(match r.get::<_, rusqlite::types::Value>(i)? {
                            rusqlite::types::Value::Null => "NULL".to_owned(),
                            rusqlite::types::Value::Integer(n) => n.to_string(),
                            rusqlite::types::Value::Real(f) => f.to_string(),
                            rusqlite::types::Value::Text(t) => t,
                            rusqlite::types::Value::Blob(b) => format!("{b:?}"),
                        });
                    }
                    Ok(s.join(" "))
                })
                .unwrap()
                .map(Result::unwrap)
                .collect()
            }
            Backend::Postgres => with_pg(&self.url, |c| {
                let mut out = Vec::new();
                for m in c.simple_query(postgres).unwrap() {
                    if let postgres::SimpleQueryMessage::Row(r) = m {
                        let cols: Vec<&str> = (0..r.len()).map(|i| r.get(i).unwrap_or("NULL")).collect();
                        out.push(cols.join(" "));
                    }
                }
                out
            }),
        }
    }

    /// The same query on either backend, for one number.
    pub fn count(&self, sql: &str) -> i64 {
        self.rows(sql, sql)[0].parse().unwrap()
    }

    /// Runs a statement behind the store's back (tampering); the database's
    /// own message on failure.
    pub fn execute(&self, sql: &str) -> Result<u64, String> {
        match self.backend {
            Backend::Sqlite => self.raw_sqlite().execute(sql, []).map(|n| n as u64).map_err(|e| e.to_string()),
            Backend::Postgres => with_pg(&self.url, |c| {
                c.execute(sql, &[])
                    .map_err(|e| e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_owned()))
            }),
        }
    }

    /// Everything that describes the state, as sorted text rows, without row
    /// ids that depend on timing.
    pub fn dump(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (sqlite, postgres) in DUMP {
            out.extend(self.rows(sqlite, postgres));
        }
        out.sort();
        out
    }
}

const DUMP: [(&str, &str); 6] = [
    (
        "SELECT 'level', item_id, fc_id, on_hand, committed FROM stock_levels",
        "SELECT 'level', item_id, fc_id, on_hand, committed FROM stock_levels",
    ),
    (
        "SELECT 'order', channel_id, external_id, status, source_status, source_updated_at FROM orders",
        "SELECT 'order', channel_id, external_id, status, source_status, source_updated_at FROM orders",
    ),
    (
        "SELECT 'line', o.external_id, j.value ->> 'id', j.value ->> 'cs', j.value ->> 'it', j.value ->> 'p',
                j.value ->> 'q', j.value ->> 'bo', COALESCE(j.value ->> 'rm', 0)
           FROM orders o, json_each(o.lines) j",
        "SELECT 'line', o.external_id, j ->> 'id', j ->> 'cs', j ->> 'it', j ->> 'p', j ->> 'q', j ->> 'bo',
                COALESCE(j ->> 'rm', 'false')
           FROM orders o, jsonb_array_elements(o.lines::jsonb) j",
    ),
    (
        "SELECT 'alloc', o.external_id, j.value ->> 'id', a.value ->> '$[0]', a.value ->> '$[1]', a.value ->> '$[3]',
                a.value ->> '$[2]'
           FROM orders o, json_each(o.lines) j, json_each(j.value, '$.a') a",
        "SELECT 'alloc', o.external_id, j ->> 'id', a ->> 0, a ->> 1, a ->> 3, a ->> 2
           FROM orders o, jsonb_array_elements(o.lines::jsonb) j, jsonb_array_elements(COALESCE(j -> 'a', '[]')) a",
    ),
    (
        "SELECT 'ledger', item_id, fc_id, COUNT(*), SUM(on_hand_delta), SUM(committed_delta) FROM movements GROUP BY 2, 3",
        "SELECT 'ledger', item_id, fc_id, COUNT(*), SUM(on_hand_delta), SUM(committed_delta) FROM movements GROUP BY 2, 3",
    ),
    (
        "SELECT 'listing', channel_id, channel_sku, item_id FROM listings",
        "SELECT 'listing', channel_id, channel_sku, item_id FROM listings",
    ),
];

/// A clock that returns `start` and advances by 1 ms per reading.
pub fn fixed_clock(start: i64) -> (Clock, Arc<AtomicI64>) {
    let now = Arc::new(AtomicI64::new(start));
    let n = now.clone();
    (Arc::new(move || Timestamp(n.fetch_add(1, Ordering::Relaxed))), now)
}

pub async fn fc(store: &Store, code: &str, priority: i64) {
    store.create_fc(FcSpec::new(code, code, priority, true).unwrap()).await.unwrap();
}

pub async fn stock_item(store: &Store, sku: &str) {
    store.create_item(ItemDraft { sku: sku.into(), kind: "stock".into(), ..Default::default() }, "test").await.unwrap();
}

pub async fn channel(store: &Store, name: &str, allow_split: bool) -> ChannelId {
    let mut settings = ChannelSettings::defaults(ChannelKind::Api);
    settings.allow_split = allow_split;
    store
        .create_channel(NewChannel {
            name: name.into(),
            kind: ChannelKind::Api,
            base_url: None,
            credentials_json: "{}".into(),
            settings,
        })
        .await
        .unwrap()
}

pub async fn on_hand(store: &Store, sku: &str, fc: &str, n: i64) {
    store.set_stock(sku, fc, StockTarget::OnHand(n), Some("seed"), "test").await.unwrap();
}
