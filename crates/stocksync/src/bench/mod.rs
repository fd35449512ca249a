//! `stocksync bench …`: throughput and latency scenarios of PRODUCT.md §10.
//! Each prints progress to stderr and, as the last line of stdout, one JSON
//! object with the fields every scenario shares (`Report`; `ui` reports per page).

mod allocation;
mod e2e;
mod flash_sale;
mod http;
mod ingest;
mod ui;
mod upload;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde::Serialize;
use stocksync_core::Timestamp;
use stocksync_core::catalog::FcSpec;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::order::IncomingOrder;
use stocksync_store::{NewChannel, Store};

use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum Scenario {
    /// Single-line orders over a large catalog in 3 FCs.
    Ingest(ingest::Args),
    /// One SKU, limited stock, many racing one-unit orders.
    FlashSale(flash_sale::Args),
    /// Multi-line orders over 10 FCs with random stock-outs; verifies the priority rule on every order.
    Allocation(allocation::Args),
    /// Orders over HTTP from 32 concurrent clients to the API.
    Http(http::Args),
    /// Orders on every simulated marketplace and through the API at a steady rate; latency until every other channel shows the new quantity.
    E2e(e2e::Args),
    /// A generated inventory CSV (items × FCs) through the upload path of `POST /uploads/inventory`.
    Upload(upload::Args),
    /// The web UI's orders workspace over a large order book: server time of the first and filtered pages.
    Ui(ui::Args),
}

/// The JSON line every scenario prints last.
#[derive(Debug, Serialize)]
pub struct Report {
    pub scenario: &'static str,
    pub backend: &'static str,
    pub orders: u64,
    pub lines: u64,
    pub seconds: f64,
    pub orders_per_s: f64,
    pub lines_per_s: f64,
    pub allocated_units: i64,
    pub backordered_units: i64,
    pub oversold_units: i64,
    pub latency_ms: Latency,
    /// Per-path latencies, for scenarios that measure several (`e2e`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paths: Option<serde_json::Value>,
    /// Per-receiver latencies and rates (`e2e`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receivers: Option<serde_json::Value>,
    /// CSV rows, for the upload scenario (whose `orders` and `lines` are 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_per_s: Option<f64>,
}

/// Milliseconds. `e2e` gives NaN (null in the JSON) for a percentile that
/// some order never reached within its drain.
#[derive(Debug, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
}

pub async fn run(scenario: Scenario, config: &Config, url_given: bool) -> anyhow::Result<ExitCode> {
    let db = BenchDb::open(config, url_given).await?;
    let result = match scenario {
        Scenario::Ingest(args) => ingest::run(&db.store, args).await,
        Scenario::FlashSale(args) => flash_sale::run(&db.store, args).await,
        Scenario::Allocation(args) => allocation::run(&db.store, args).await,
        Scenario::E2e(args) => e2e::run(&db.store, args).await,
        Scenario::Http(args) => http::run(&db.store, args).await,
        Scenario::Upload(args) => upload::run(&db.store, args).await,
        Scenario::Ui(args) => {
            // Its report is per page, not per order: printed here in its own shape.
            let result = ui::run(&db.store, args).await;
            drop(db);
            let (report, ok) = result?;
            println!("{}", serde_json::to_string(&report)?);
            return Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
    };
    drop(db);
    let (report, ok) = result?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The database a bench runs on: a fresh temporary file unless
/// `--database-url` names one, which must then be empty.
struct BenchDb {
    store: Store,
    /// Declared after `store` so the store is dropped before the directory
    /// holding its files is removed.
    _temp: Option<TempDir>,
}

impl BenchDb {
    async fn open(config: &Config, url_given: bool) -> anyhow::Result<Self> {
        let (url, temp) = if url_given {
            (config.database.url.clone(), None)
        } else {
            let temp = TempDir::create()?;
            (format!("sqlite://{}", temp.0.join("bench.db").display()), Some(temp))
        };
        // Messages never carry a PostgreSQL password.
        let shown = stocksync_store::DatabaseUrl::redacted(&url);
        eprintln!("bench: database {shown}");
        let store = Store::open(&url).with_context(|| format!("opening {shown}"))?;
        if !store.is_empty().await? {
            bail!("{shown} is not empty: a bench seeds its own catalog; give it a new file or database");
        }
        Ok(Self { store, _temp: temp })
    }
}

/// A bench's own directory under the system temporary directory, removed on
/// drop (also when opening the database in it fails).
#[derive(Debug)]
struct TempDir(std::path::PathBuf);

impl TempDir {
    /// The name carries the pid and the current time in nanoseconds: a run
    /// that was killed leaves its directory behind, and a later run that
    /// happens to get the same pid must not open that leftover database and
    /// refuse to run because it is not empty. The directory is created with
    /// `create_dir`, not `create_dir_all`, so any clash is an error rather
    /// than a silent reuse (and later removal) of another run's files.
    fn create() -> anyhow::Result<Self> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("stocksync-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Creates FCs named by `codes`, priority in the given order.
pub async fn seed_fcs(store: &Store, codes: &[String]) -> anyhow::Result<()> {
    for (i, code) in codes.iter().enumerate() {
        store.create_fc(FcSpec::new(code, &format!("FC {code}"), i as i64 + 1, true)?).await?;
    }
    Ok(())
}

pub async fn seed_channel(store: &Store, name: &str, kind: ChannelKind) -> anyhow::Result<stocksync_core::ChannelId> {
    Ok(store
        .create_channel(NewChannel {
            name: name.into(),
            kind,
            base_url: None,
            credentials_json: "{}".into(),
            settings: ChannelSettings::defaults(kind),
        })
        .await?)
}

/// Submits `orders` from `concurrency` tasks; returns wall seconds and each
/// order's acknowledgement latency in microseconds (in submission order).
pub async fn submit(store: &Store, orders: Vec<IncomingOrder>, concurrency: usize) -> anyhow::Result<(f64, Vec<u32>)> {
    let n = orders.len();
    let orders = Arc::new(orders);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let progress = {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                eprintln!("  {}/{n} orders", done.load(Ordering::Relaxed));
            }
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (store, orders, next, done) = (store.clone(), orders.clone(), next.clone(), done.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(order) = orders.get(i) else { break };
                let t = Instant::now();
                store.import_order(order.clone(), "bench").await?;
                lat.push((i, t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32));
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(lat)
        });
    }
    let mut latencies = vec![0u32; n];
    while let Some(r) = tasks.join_next().await {
        for (i, us) in r.context("bench task panicked")?? {
            latencies[i] = us;
        }
    }
    progress.abort();
    Ok((started.elapsed().as_secs_f64(), latencies))
}

pub fn percentiles(latencies_us: &[u32]) -> Latency {
    let mut v = latencies_us.to_vec();
    v.sort_unstable();
    let at = |p: f64| {
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        (f64::from(v[i]) / 1000.0 * 1000.0).round() / 1000.0
    };
    Latency { p50: at(0.50), p99: at(0.99) }
}

/// Placed times one millisecond apart from a fixed instant, so runs repeat.
pub fn placed(i: usize) -> Timestamp {
    Timestamp(1_795_000_000_000 + i as i64)
}

pub async fn report(
    store: &Store,
    scenario: &'static str,
    seconds: f64,
    lines: u64,
    latencies: &[u32],
) -> anyhow::Result<Report> {
    let stats = store.stats().await?;
    let orders = latencies.len() as u64;
    Ok(Report {
        scenario,
        backend: store.backend_name(),
        orders,
        lines,
        seconds: (seconds * 1000.0).round() / 1000.0,
        orders_per_s: (orders as f64 / seconds).round(),
        lines_per_s: (lines as f64 / seconds).round(),
        allocated_units: stats.allocated_units,
        backordered_units: stats.backordered_units,
        oversold_units: stats.oversold_units,
        latency_ms: percentiles(latencies),
        paths: None,
        receivers: None,
        rows: None,
        rows_per_s: None,
    })
}

/// Runs `stocksync check` over the bench's database, printing violations.
pub async fn verify(store: &Store) -> anyhow::Result<bool> {
    let t = Instant::now();
    let violations = store.check().await?;
    for v in &violations {
        eprintln!("  violation: {v}");
    }
    eprintln!(
        "bench: check {} in {:.1}s",
        if violations.is_empty() { "clean" } else { "FAILED" },
        t.elapsed().as_secs_f64()
    );
    Ok(violations.is_empty())
}
