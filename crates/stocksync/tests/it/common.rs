//! Helpers: running the binary in isolation, seeding a database through
//! the store directly (the CLI cannot create catalog data yet), and giving
//! each test its own database on the backend `STOCKSYNC_TEST_BACKEND` names.

use std::path::{Path, PathBuf};
use std::process::Command;

use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::workflow::StockTarget;
use stocksync_store::Store;

/// A temporary directory holding the test's database and files.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `sqlite://` URL of a file named `name` in the sandbox.
    pub fn url(&self, name: &str) -> String {
        sqlite_url(&self.path(name))
    }

    /// The binary, run in the sandbox, with no `STOCKSYNC*` variables
    /// inherited from the environment running the tests, and with its
    /// temporary files (bench databases) kept inside the sandbox.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_stocksync"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().to_ascii_uppercase().starts_with("STOCKSYNC") {
                cmd.env_remove(key);
            }
        }
        let tmp = self.path("tmp");
        std::fs::create_dir_all(&tmp).expect("sandbox tmp dir");
        cmd.current_dir(self.dir.path()).env("TMPDIR", tmp).env("STOCKSYNC_LOG", "warn");
        cmd
    }

    /// Runs the binary with `args` and collects what it did.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::of(self.cmd().args(args))
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn of(cmd: &mut Command) -> Self {
        let out = cmd.output().expect("run stocksync");
        Self {
            code: out.status.code(),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    /// Panics, showing both streams, unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "unexpected exit code\n{self}");
        self
    }

    /// Panics, showing both streams, unless the process exited non-zero.
    #[track_caller]
    pub fn expect_failure(&self) -> &Self {
        assert!(self.code.is_some_and(|c| c != 0), "expected a non-zero exit\n{self}");
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Creates (and migrates) the database at `url` and gives it one FC and one
/// stock item with `on_hand` units there; the store is shut down on return.
pub fn seed_one_level(url: &str, on_hand: i64) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let store = Store::open(url).expect("open store");
        store.create_fc(FcSpec::new("EAST", "East", 1, true).expect("valid FC")).await.expect("create FC");
        store
            .create_item(ItemDraft { sku: "SKU-1".into(), kind: "stock".into(), ..Default::default() }, "test")
            .await
            .expect("create item");
        store.set_stock("SKU-1", "EAST", StockTarget::OnHand(on_hand), Some("seed"), "test").await.expect("set stock");
        drop(store);
    });
}

/// A raw connection to the database file behind `path`, for tampering.
pub fn raw(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("raw connection");
    conn.busy_timeout(std::time::Duration::from_secs(10)).expect("busy timeout");
    conn
}

/// The backend the app tests run on: `STOCKSYNC_TEST_BACKEND` = `sqlite`
/// (the default, so `cargo test` needs nothing running) or `postgres`. CI
/// runs this binary once with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn chosen() -> Self {
        match std::env::var("STOCKSYNC_TEST_BACKEND").as_deref() {
            Err(_) | Ok("" | "sqlite") => Self::Sqlite,
            Ok("postgres") => Self::Postgres,
            Ok(other) => panic!("STOCKSYNC_TEST_BACKEND={other:?}: expected sqlite or postgres"),
        }
    }

    /// As `Store::backend_name` and the benches' reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// A test's own database on the chosen backend: a file in the sandbox, or
/// a fresh PostgreSQL database dropped with this value. Declare it after
/// every store and server that uses it, so that they close first.
pub struct TestDb {
    pub url: String,
    place: Place,
}

enum Place {
    Sqlite(PathBuf),
    Postgres(PgDatabase),
}

impl TestDb {
    /// A new, empty database (not yet created on SQLite, not yet migrated on
    /// PostgreSQL); `name` is its file name in the sandbox on SQLite. Asked
    /// for explicitly, PostgreSQL never skips: an unreachable server fails.
    pub fn new(sb: &Sandbox, name: &str) -> Self {
        match Backend::chosen() {
            Backend::Sqlite => Self { url: sb.url(name), place: Place::Sqlite(sb.path(name)) },
            Backend::Postgres => {
                let db = PgDatabase::try_create().unwrap_or_else(|e| panic!("STOCKSYNC_TEST_BACKEND=postgres: {e}"));
                Self { url: db.url.clone(), place: Place::Postgres(db) }
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self.place {
            Place::Sqlite(_) => Backend::Sqlite,
            Place::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether stocksync's schema is there: on SQLite, whether the file
    /// exists (stocksync never leaves one unmigrated).
    pub fn has_schema(&self) -> bool {
        match &self.place {
            Place::Sqlite(path) => path.exists(),
            Place::Postgres(db) => db
                .client(|c| c.query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[]))
                .expect("look for the schema")
                .get(0),
        }
    }

    /// Runs statements on a raw connection, bypassing the store, as
    /// corruption or a hand edit would.
    pub fn tamper(&self, sql: &str) {
        match &self.place {
            Place::Sqlite(path) => raw(path).execute_batch(sql).expect("tamper with the database"),
            Place::Postgres(db) => db.client(|c| c.batch_execute(sql)).expect("tamper with the database"),
        }
    }

    /// The single integer a query such as `SELECT COUNT(*) FROM t` returns.
    pub fn count(&self, sql: &str) -> i64 {
        match &self.place {
            Place::Sqlite(path) => raw(path).query_row(sql, [], |r| r.get(0)).expect("count"),
            Place::Postgres(db) => db.client(|c| c.query_one(sql, &[])).expect("count").get(0),
        }
    }

    /// Whether `text` appears anywhere the database keeps data: in its files
    /// on SQLite (WAL included), in any row of any table on PostgreSQL.
    pub fn holds_text(&self, text: &str) -> bool {
        match &self.place {
            Place::Sqlite(path) => {
                let db = std::fs::read(path).expect("the database file");
                let wal = std::fs::read(format!("{}-wal", path.display())).unwrap_or_default();
                [db, wal].iter().any(|bytes| bytes.windows(text.len()).any(|w| w == text.as_bytes()))
            }
            Place::Postgres(db) => db
                .client(|c| {
                    let tables = c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", &[])?;
                    for t in tables {
                        let table: String = t.get(0);
                        let sql = format!("SELECT EXISTS (SELECT 1 FROM \"{table}\" t WHERE strpos(t::text, $1) > 0)");
                        if c.query_one(&sql, &[&text])?.get::<_, bool>(0) {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                })
                .expect("search the database"),
        }
    }
}

/// Runs `f` on a plain thread: the `postgres` client may be neither created
/// nor dropped inside an async task, and async tests call these helpers.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
}

/// A fresh PostgreSQL database for a test, dropped with the value. Made by
/// `TestDb` under `STOCKSYNC_TEST_BACKEND=postgres`, and by the few tests
/// that exist for PostgreSQL alone (see `create`).
pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// For a test about PostgreSQL alone: `None` (after saying so) when
    /// `STOCKSYNC_TEST_POSTGRES` (default
    /// `postgres://postgres@127.0.0.1:5432/test`) cannot be reached, except
    /// under `CI=true`, where that fails the test.
    pub fn create() -> Option<Self> {
        match Self::try_create() {
            Ok(db) => Some(db),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("{e} (CI=true: not skipping)"),
            Err(e) => {
                eprintln!("skipped: {e}; set STOCKSYNC_TEST_POSTGRES");
                None
            }
        }
    }

    fn try_create() -> Result<Self, String> {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let admin = std::env::var("STOCKSYNC_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("stocksync_cli_test_{}_{n}_{nanos}", std::process::id());
        off_runtime(|| {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .map_err(|e| format!("PostgreSQL is not reachable at {admin} ({e})"))?;
            client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
            Ok::<_, String>(())
        })?;
        let base = admin.rsplit_once('/').map(|(base, _)| base).expect("STOCKSYNC_TEST_POSTGRES names a database");
        Ok(Self { url: format!("{base}/{name}"), admin, name })
    }

    /// Runs `f` on a new connection to this database.
    fn client<T: Send>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error> + Send,
    ) -> Result<T, postgres::Error> {
        off_runtime(|| f(&mut postgres::Client::connect(&self.url, postgres::NoTls)?))
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        off_runtime(|| {
            if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
            }
        });
    }
}

/// A port free on loopback right now, for a server the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A plain HTTP client, with the TLS provider installed first (reqwest is
/// built without one).
pub fn client() -> reqwest::Client {
    stocksync_channels::install_tls_provider();
    reqwest::Client::new()
}

/// Waits until `{base}/healthz` answers; returns how long that took (for
/// printing: this machine is shared, so it is never asserted). Fails after
/// 30 s.
pub async fn healthy(client: &reqwest::Client, base: &str) -> std::time::Duration {
    let t = std::time::Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return t.elapsed();
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(30), "{base} did not come up");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
