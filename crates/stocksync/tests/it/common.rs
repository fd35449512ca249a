//! Helpers: running the binary in isolation, and seeding a database through
//! the store directly (the CLI cannot create catalog data yet).

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

/// A fresh PostgreSQL database for a test, dropped with the value; `None`
/// (after saying so) when `STOCKSYNC_TEST_POSTGRES` (default
/// `postgres://postgres@127.0.0.1:5432/test`) cannot be reached, except under
/// `CI=true`, where that fails the test.
pub struct PgDatabase {
    admin: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Option<Self> {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let admin = std::env::var("STOCKSYNC_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let mut client = match postgres::Client::connect(&admin, postgres::NoTls) {
            Ok(c) => c,
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("PostgreSQL is not reachable at {admin}: {e} (CI=true: not skipping)")
            }
            Err(e) => {
                eprintln!("skipped: PostgreSQL is not reachable at {admin} ({e}); set STOCKSYNC_TEST_POSTGRES");
                return None;
            }
        };
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("stocksync_cli_test_{}_{n}_{nanos}", std::process::id());
        client.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        let base = admin.rsplit_once('/').map(|(base, _)| base).expect("STOCKSYNC_TEST_POSTGRES names a database");
        Some(Self { url: format!("{base}/{name}"), admin, name })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}
