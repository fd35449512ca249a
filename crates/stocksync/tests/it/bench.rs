//! Bench smoke tests: small sizes, so they finish in seconds in debug
//! builds. Timings are never asserted (the machine is shared and noisy).

use std::process::Stdio;

use serde_json::Value;

use stocksync_core::catalog::ItemDraft;
use stocksync_store::Store;

use crate::common::{Run, Sandbox, TestDb, seed_one_level};

/// The keys of the JSON report, exactly.
const REPORT_KEYS: [&str; 11] = [
    "scenario",
    "backend",
    "orders",
    "lines",
    "seconds",
    "orders_per_s",
    "lines_per_s",
    "allocated_units",
    "backordered_units",
    "oversold_units",
    "latency_ms",
];

/// Runs a bench, checks it succeeded and that its last stdout line is a
/// well-formed report; returns the report.
fn bench(sb: &Sandbox, args: &[&str]) -> Value {
    let mut full = vec!["bench"];
    full.extend_from_slice(args);
    let run = sb.run(&full);
    run.expect_code(0);
    report(&run)
}

/// As `bench`, on the test's own database on the chosen backend (`TestDb`)
/// rather than the bench's temporary SQLite file.
fn bench_on_test_db(sb: &Sandbox, args: &[&str]) -> Value {
    let db = TestDb::new(sb, "bench.db");
    let v = bench(sb, &[args, &["--database-url", db.url.as_str()]].concat());
    assert_eq!(v["backend"], db.backend().name(), "{v}");
    v
}

fn report(run: &Run) -> Value {
    let last = run.stdout.lines().last().unwrap_or_else(|| panic!("no stdout\n{run}"));
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("last line is not JSON ({e})\n{run}"));
    let obj = v.as_object().unwrap_or_else(|| panic!("report is not an object\n{run}"));
    // Scenario-specific extras (per-path latencies, CSV rows) may follow the shared keys.
    let mut keys: Vec<&str> =
        obj.keys().map(String::as_str).filter(|k| !["paths", "receivers", "rows", "rows_per_s"].contains(k)).collect();
    keys.sort_unstable();
    let mut expected = REPORT_KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "report keys\n{run}");

    for k in ["scenario", "backend"] {
        assert!(v[k].is_string(), "{k} should be a string\n{run}");
    }
    assert!(v["backend"] == "sqlite" || v["backend"] == "postgres", "{run}");
    for k in ["orders", "lines"] {
        assert!(v[k].is_u64(), "{k} should be a non-negative integer\n{run}");
    }
    for k in ["allocated_units", "backordered_units", "oversold_units"] {
        assert!(v[k].is_i64(), "{k} should be an integer\n{run}");
    }
    for k in ["seconds", "orders_per_s", "lines_per_s"] {
        assert!(v[k].is_number(), "{k} should be a number\n{run}");
    }
    let latency = v["latency_ms"].as_object().unwrap_or_else(|| panic!("latency_ms is not an object\n{run}"));
    let mut lk: Vec<&str> = latency.keys().map(String::as_str).collect();
    lk.sort_unstable();
    assert_eq!(lk, ["p50", "p99"], "latency_ms keys\n{run}");
    assert!(latency.values().all(Value::is_number), "{run}");
    assert_eq!(v["oversold_units"], 0, "{run}");
    v
}

fn int(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} is not an integer in {v}"))
}

#[test]
fn bench_reports_sqlite_by_default() {
    let sb = Sandbox::new();
    let v = bench(&sb, &["flash-sale", "--orders", "20", "--stock", "10"]);
    assert_eq!(v["backend"], "sqlite", "{v}");
}

/// `--database-url postgres://…`: the same report, `"backend": "postgres"`,
/// the database left checkable, and a second run refused.
#[test]
fn bench_on_postgres_reports_it_and_leaves_a_clean_database() {
    let Some(db) = crate::common::PgDatabase::create() else { return };
    let sb = Sandbox::new();
    let v = bench(&sb, &["flash-sale", "--orders", "300", "--stock", "70", "--database-url", &db.url]);
    assert_eq!((v["backend"].as_str(), int(&v, "allocated_units")), (Some("postgres"), 70), "{v}");
    let check = sb.run(&["check", "--database-url", &db.url]);
    check.expect_code(0);
    assert!(check.stdout.contains("check: clean"), "{check}");
    let migrate = sb.run(&["migrate", "--database-url", &db.url]);
    migrate.expect_code(0);
    assert!(migrate.stderr.contains("up to date"), "{migrate}");
    let again = sb.run(&["bench", "ingest", "--orders", "10", "--skus", "10", "--database-url", &db.url]);
    again.expect_failure();
    assert!(again.stderr.contains("not empty"), "{again}");
    // `check` never creates what it should inspect: a database that does not exist is missing.
    let missing = format!("{}_missing", db.url);
    let check = sb.run(&["check", "--database-url", &missing]);
    check.expect_code(2);
    assert!(check.stderr.contains("no database at"), "{check}");
}

#[test]
fn bench_ingest_smoke() {
    let sb = Sandbox::new();
    let v = bench_on_test_db(&sb, &["ingest", "--orders", "2000", "--skus", "500"]);
    assert_eq!(v["scenario"], "ingest");
    assert_eq!(int(&v, "orders"), 2000);
    assert_eq!(int(&v, "lines"), 2000);
    // Single-line, one-unit orders: each unit is either allocated or backordered.
    assert_eq!(int(&v, "allocated_units") + int(&v, "backordered_units"), 2000, "{v}");
}

#[test]
fn bench_flash_sale_allocates_exactly_the_stock() {
    let sb = Sandbox::new();
    let v = bench_on_test_db(&sb, &["flash-sale", "--orders", "3000", "--stock", "700"]);
    assert_eq!(v["scenario"], "flash-sale");
    assert_eq!(int(&v, "orders"), 3000);
    assert_eq!(int(&v, "allocated_units"), 700, "{v}");
    assert_eq!(int(&v, "backordered_units"), 2300, "{v}");
}

#[test]
fn bench_allocation_smoke() {
    let sb = Sandbox::new();
    let v = bench_on_test_db(&sb, &["allocation", "--orders", "500", "--skus", "200"]);
    assert_eq!(v["scenario"], "allocation");
    assert_eq!(int(&v, "orders"), 500);
    let lines = int(&v, "lines");
    assert!((500..=2000).contains(&lines), "1 to 4 lines per order, got {lines}");
}

/// Every simulator takes part; Etsy is polled every second (its limits
/// allow once a minute) so the run is short, and the drain is too short
/// for Amazon's orders, which the report says instead of measuring them.
#[test]
fn bench_e2e_delivers_every_order_to_every_other_marketplace() {
    let sb = Sandbox::new();
    let v = bench_on_test_db(&sb, &["e2e", "--rate", "60", "--seconds", "1", "--poll-s", "etsy=1", "--drain-s", "90"]);
    assert_eq!(v["scenario"], "e2e");
    assert_eq!((int(&v, "orders"), int(&v, "allocated_units"), int(&v, "oversold_units")), (60, 60, 0));
    let markets = ["ebay", "shopify", "etsy", "woocommerce", "walmart", "api"];
    for path in markets {
        let p = &v["paths"][path];
        assert_eq!(p["orders"], 10, "{path}: {v}");
        assert_eq!(p["all"]["reached"], 10, "{path} reached every other marketplace: {v}");
        let (p50, p99, max) = (p["all"]["p50"].as_f64(), p["all"]["p99"].as_f64(), p["all"]["max"].as_f64());
        assert!(p50.is_some_and(|p| p > 0.0) && p50 <= p99 && p99 <= max, "{path}: {v}");
        assert_eq!(p["receivers"].as_object().map(|r| r.len()), Some(6), "{path}: {v}");
    }
    assert_eq!(v["paths"]["shopify"]["via"], "webhook", "{v}");
    assert_eq!(v["paths"]["walmart"]["poll_interval_s"], 1, "{v}");
    let amazon = &v["paths"]["amazon"];
    assert_eq!((amazon["orders"].as_u64(), amazon["measured"].as_bool()), (Some(0), Some(false)), "{v}");
    assert!(amazon["reason"].as_str().is_some_and(|r| r.contains("LastUpdatedBefore")), "{v}");
    // Amazon still receives every change, as every marketplace does.
    for receiver in ["amazon", "ebay", "shopify", "etsy", "woocommerce", "walmart", "api"] {
        let r = &v["receivers"][receiver];
        assert!(r["orders"].as_u64().is_some_and(|n| n >= 50) && r["reached"] == r["orders"], "{receiver}: {v}");
    }
    assert!(v["latency_ms"]["p99"].as_f64().is_some_and(|p| p > 0.0), "{v}");
}

#[test]
fn bench_http_submits_every_order_over_http() {
    let sb = Sandbox::new();
    let v = bench_on_test_db(&sb, &["http", "--orders", "300", "--skus", "50", "--clients", "4"]);
    assert_eq!(v["scenario"], "http");
    assert_eq!((int(&v, "orders"), int(&v, "oversold_units")), (300, 0));
    assert_eq!(int(&v, "allocated_units") + int(&v, "backordered_units"), 300);
}

#[test]
fn bench_leaves_no_temporary_database_behind() {
    let sb = Sandbox::new();
    let run = sb.run(&["bench", "flash-sale", "--orders", "20", "--stock", "10"]);
    run.expect_code(0);
    report(&run);
    let tmp = sb.path("tmp");
    assert!(run.stderr.contains(&tmp.display().to_string()), "bench should use TMPDIR ({})\n{run}", tmp.display());
    let left: Vec<_> = std::fs::read_dir(sb.path("tmp")).expect("sandbox tmp").collect();
    assert!(left.is_empty(), "bench left {left:?} in its temporary directory");
}

#[test]
fn bench_on_a_named_new_database_leaves_it_checkable() {
    let sb = Sandbox::new();
    let url = sb.url("named.db");
    let v = bench(&sb, &["flash-sale", "--orders", "300", "--stock", "70", "--database-url", &url]);
    assert_eq!(int(&v, "allocated_units"), 70, "{v}");
    assert!(sb.path("named.db").is_file(), "a named database is kept");
    let check = sb.run(&["check", "--database-url", &url]);
    check.expect_code(0);
    assert!(check.stdout.contains("check: clean"), "{check}");
}

#[test]
fn bench_refuses_a_database_that_is_not_empty() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "busy.db");
    let url = &db.url;
    seed_one_level(url, 3);

    let run = sb.run(&["bench", "ingest", "--orders", "10", "--skus", "10", "--database-url", url]);
    run.expect_failure();
    assert!(run.stderr.contains("not empty"), "{run}");
    assert!(run.stderr.contains(url), "the error should name the database\n{run}");
    assert!(run.stdout.trim().is_empty(), "no report for a refused bench\n{run}");

    // And the seeded data is untouched.
    let check = sb.run(&["check", "--database-url", url]);
    check.expect_code(0);
    assert_eq!(db.count("SELECT COUNT(*) FROM fulfillment_centers"), 1);
}

#[test]
fn bench_refuses_a_database_holding_only_an_item() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "item-only.db");
    let url = &db.url;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        let store = Store::open(url).expect("open store");
        store
            .create_item(ItemDraft { sku: "SKU-1".into(), kind: "stock".into(), ..Default::default() }, "test")
            .await
            .expect("create item");
        assert!(store.fcs().await.expect("list FCs").is_empty(), "the database should have no FCs");
        assert!(!store.is_empty().await.expect("is_empty"), "a database with an item is not empty");
    });

    let run = sb.run(&["bench", "flash-sale", "--orders", "10", "--stock", "5", "--database-url", url]);
    run.expect_failure();
    assert!(run.stderr.contains("not empty"), "{run}");
    assert!(run.stdout.trim().is_empty(), "no report for a refused bench\n{run}");
    assert_eq!(db.count("SELECT COUNT(*) FROM fulfillment_centers"), 0, "the refused bench must not seed anything");
}

#[test]
fn bench_temporary_directory_is_not_named_by_the_pid_alone() {
    let sb = Sandbox::new();
    let child = sb
        .cmd()
        .args(["bench", "flash-sale", "--orders", "5", "--stock", "5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stocksync");
    let pid = child.id();
    let out = child.wait_with_output().expect("wait for stocksync");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    };
    run.expect_code(0);
    report(&run);
    let url = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("bench: database "))
        .unwrap_or_else(|| panic!("no database line\n{run}"));
    let dir = std::path::Path::new(url.trim_start_matches("sqlite://"))
        .parent()
        .and_then(|d| d.file_name())
        .unwrap_or_else(|| panic!("no directory in {url}"))
        .to_string_lossy()
        .into_owned();
    // A killed run leaves its directory behind; a later run given the same
    // pid must not land in it, so the pid alone cannot be the name.
    assert_ne!(dir, format!("stocksync-bench-{pid}"), "{run}");
    assert!(dir.starts_with("stocksync-bench-"), "{run}");
    let left: Vec<_> = std::fs::read_dir(sb.path("tmp")).expect("sandbox tmp").collect();
    assert!(left.is_empty(), "bench left {left:?} in its temporary directory");
}

#[test]
fn bench_ui_times_every_workspace_page() {
    let sb = Sandbox::new();
    let db = TestDb::new(&sb, "bench.db");
    let args = ["bench", "ui", "--orders", "300", "--skus", "20", "--requests", "2", "--database-url", &db.url];
    let run = sb.run(&args);
    run.expect_code(0);
    let last = run.stdout.lines().last().unwrap_or_else(|| panic!("no stdout\n{run}"));
    let v: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("last line is not JSON ({e})\n{run}"));
    assert_eq!((v["scenario"].as_str(), v["orders"].as_u64()), (Some("ui"), Some(300)));
    let pages = v["pages"].as_array().expect("pages");
    assert_eq!(pages.len(), 6);
    assert_eq!(pages[0]["rows"].as_u64(), Some(50), "the first page is full: {v}");
    assert!(pages.iter().all(|p| p["latency_ms"]["p50"].is_number()), "{v}");
}
