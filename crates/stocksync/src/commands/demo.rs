//! `stocksync demo`: the whole thing on a fresh machine. A fresh SQLite
//! file, simulated marketplaces on loopback, a seeded catalog, the server
//! with its workers, and live simulated orders through the HTTP API. At the
//! end it waits for every listing to converge, runs `check`, and prints a
//! summary; it exits non-zero if anything is off.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::auth::Role;
use stocksync_store::Store;
use tokio::net::TcpListener;

use crate::commands::serve;
use crate::config::Config;
use crate::http::AppState;

/// The demo's database unless `--database-url` names another.
const DEMO_DB: &str = "stocksync-demo.db";
const SIGNING_SECRET: &str = "demo-signing-secret";
/// How long the demo waits for every listing to converge after the orders stop.
const CONVERGE_WITHIN: Duration = Duration::from_secs(20);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds of live orders; 0 runs until Ctrl-C.
    #[arg(long, default_value_t = 30)]
    pub duration_s: u64,
    /// Simulated orders per second.
    #[arg(long, default_value_t = 20.0)]
    pub orders_per_s: f64,
    /// Where the server listens (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Seed of the simulated shoppers.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn run(config: &Config, url_given: bool, args: Args) -> anyhow::Result<ExitCode> {
    let url = if url_given { config.database.url.clone() } else { fresh_demo_db()? };
    let store = Store::open(&url).context("opening the demo database")?;
    // What is printed never carries a PostgreSQL password.
    let url = stocksync_store::DatabaseUrl::redacted(&url);
    if !store.is_empty().await? {
        bail!(
            "{url} already holds data; the demo needs an empty database (omit --database-url to use a fresh {DEMO_DB})"
        );
    }
    let receiver = ApiSim::new(SIGNING_SECRET, Faults::default());
    let receiver_run = sim::spawn(receiver.router(), "127.0.0.1:0").await?;
    let token = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_token("demo-admin", Role::Admin, &token).await?;

    let listener = match TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("demo: cannot listen on {} ({e}); using a free port", args.listen);
            TcpListener::bind("127.0.0.1:0").await?
        }
    };
    let base = format!("http://{}", listener.local_addr()?);
    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve::serve(listener, AppState::new(store.clone()), async {
        let _ = server_stopped.await;
    }));

    let api = Client::new(&base, &token)?;
    let catalog = seed(&api, &receiver_run.url()).await?;
    println!("stocksync demo");
    println!("  database   {url}");
    println!("  server     {base}   (API under {base}/api/v1, OpenAPI at {base}/api/v1/openapi.json)");
    println!("  token      {token}   (admin; try: curl -H 'Authorization: Bearer {token}' {base}/api/v1/sync/status)");
    println!("  channel    my-store (api) pushing to the simulator at {}", receiver_run.url());
    println!(
        "  catalog    {} stock items, {} bundles, 3 fulfillment centers",
        catalog.stock.len(),
        catalog.bundles.len()
    );

    let shoppers = shop(&api, &catalog, &args, &receiver);
    tokio::select! {
        r = shoppers => r?,
        _ = tokio::signal::ctrl_c() => println!("\ninterrupted: stopping the shoppers"),
    }
    let converged = converge(&api, catalog.channel, &receiver).await?;
    let violations = store.check().await?;
    let stats = store.stats().await?;
    println!("summary");
    println!(
        "  orders {}, units allocated {}, backordered {}, oversold {}",
        stats.orders, stats.allocated_units, stats.backordered_units, stats.oversold_units
    );
    let rs = receiver.state();
    println!(
        "  pushes received {} (batches {}), stale pushes {}",
        rs.listings.values().map(|l| l.pushes).sum::<u64>(),
        rs.batches,
        rs.stale.len()
    );
    println!("  every listing converged: {converged}");
    println!("  check: {}", if violations.is_empty() { "clean".to_owned() } else { violations.join("; ") });
    let _ = stop_server.send(());
    server.await??;
    Ok(if converged && violations.is_empty() && rs.stale.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Deletes the previous demo database (and its WAL files) and returns its URL.
fn fresh_demo_db() -> anyhow::Result<String> {
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{DEMO_DB}{suffix}");
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing the previous demo database {path}")),
        }
    }
    Ok(format!("sqlite://{DEMO_DB}"))
}

/// A small API client: the demo drives stocksync the way a seller's tools would.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        stocksync_channels::install_tls_provider();
        Ok(Self { http: reqwest::Client::builder().build()?, base: format!("{base}/api/v1"), token: token.to_owned() })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> anyhow::Result<(u16, Value)> {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let value = res.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn ok(&self, method: reqwest::Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let (status, v) = self.call(method.clone(), path, Some(body)).await?;
        if !(200..300).contains(&status) {
            bail!("{method} {path} answered {status}: {v}");
        }
        Ok(v)
    }
}

struct Catalog {
    stock: Vec<String>,
    bundles: Vec<String>,
    channel: i64,
}

async fn seed(api: &Client, receiver_url: &str) -> anyhow::Result<Catalog> {
    use reqwest::Method;
    for (code, name, priority) in
        [("EAST", "East warehouse", 1), ("WEST", "West warehouse", 2), ("NORTH", "North store", 3)]
    {
        api.ok(Method::POST, "/fulfillment-centers", json!({"code": code, "name": name, "priority": priority})).await?;
    }
    let mut stock = Vec::new();
    for i in 1..=12 {
        let sku = format!("MUG-{i:02}");
        api.ok(
            Method::POST,
            "/items",
            json!({"sku": sku, "title": format!("Mug no. {i}"), "aliases": [format!("mug{i}")]}),
        )
        .await?;
        for (fc, n) in [("EAST", (i * 3) % 11), ("WEST", (i * 5) % 7), ("NORTH", i % 3)] {
            api.ok(Method::PUT, &format!("/inventory/{sku}/{fc}"), json!({"on_hand": n, "reason": "demo seed"}))
                .await?;
        }
        stock.push(sku);
    }
    let mut bundles = Vec::new();
    for (sku, parts) in [("GIFT-SET", vec![("MUG-01", 1), ("MUG-02", 1)]), ("MUG-01-X4", vec![("MUG-01", 4)])] {
        let components: Vec<Value> = parts.iter().map(|(s, q)| json!({"sku": s, "quantity": q})).collect();
        api.ok(Method::POST, "/items", json!({"sku": sku, "kind": "bundle", "components": components})).await?;
        bundles.push(sku.to_owned());
    }
    let ch = api
        .ok(
            Method::POST,
            "/channels",
            json!({"name": "my-store", "kind": "api", "base_url": receiver_url,
                   "credentials": {"signing_secret": SIGNING_SECRET}, "settings": {"max_visible": 25}}),
        )
        .await?;
    let channel = ch["id"].as_i64().context("channel id")?;
    for sku in stock.iter().chain(&bundles) {
        api.ok(Method::POST, &format!("/channels/{channel}/listings"), json!({"channel_sku": sku})).await?;
    }
    Ok(Catalog { stock, bundles, channel })
}

/// Places orders at the given rate; now and then cancels one or restocks.
async fn shop(api: &Client, catalog: &Catalog, args: &Args, receiver: &ApiSim) -> anyhow::Result<()> {
    use reqwest::Method;
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let every = Duration::from_secs_f64(1.0 / args.orders_per_s.max(0.1));
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut placed: Vec<i64> = Vec::new();
    let mut n = 0u64;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if args.duration_s > 0 && started.elapsed() >= Duration::from_secs(args.duration_s) {
            return Ok(());
        }
        n += 1;
        let roll = rng.u32(0..100);
        if roll < 5 && !placed.is_empty() {
            let id = placed.swap_remove(rng.usize(0..placed.len()));
            api.call(Method::POST, &format!("/orders/{id}/cancel"), Some(json!({}))).await?;
        } else if roll < 10 {
            let sku = &catalog.stock[rng.usize(0..catalog.stock.len())];
            let fc = ["EAST", "WEST", "NORTH"][rng.usize(0..3)];
            api.ok(
                Method::POST,
                &format!("/inventory/{sku}/{fc}/adjustments"),
                json!({"delta": rng.i64(1..6), "reason": "delivery"}),
            )
            .await?;
        } else {
            let lines: Vec<Value> = (0..rng.usize(1..3))
                .map(|l| {
                    let sku = if rng.u32(0..10) == 0 {
                        catalog.bundles[rng.usize(0..catalog.bundles.len())].clone()
                    } else {
                        catalog.stock[rng.usize(0..catalog.stock.len())].clone()
                    };
                    json!({"line_id": (l + 1).to_string(), "channel_sku": sku, "quantity": rng.i64(1..3)})
                })
                .collect();
            let order = json!({"external_id": format!("WEB-{n:06}"), "lines": lines});
            let v = api.ok(Method::POST, &format!("/channels/{}/orders", catalog.channel), order).await?;
            placed.extend(v["id"].as_i64());
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            let (_, sync) = api.call(Method::GET, "/sync/status", None).await?;
            let ch = &sync["channels"][0];
            println!(
                "  t={:>3}s orders placed {:>5} | pending pushes {:>3} | push latency p50 {} ms, p99 {} ms | listings at the receiver {}",
                started.elapsed().as_secs(),
                placed.len(),
                ch["pending_pushes"],
                ch["push_latency_ms"]["p50"],
                ch["push_latency_ms"]["p99"],
                receiver.state().listings.len()
            );
        }
    }
}

/// Waits until every listing's computed quantity is what the receiver has.
async fn converge(api: &Client, channel: i64, receiver: &ApiSim) -> anyhow::Result<bool> {
    let started = Instant::now();
    loop {
        let (_, page) =
            api.call(reqwest::Method::GET, &format!("/channels/{channel}/listings?limit=1000"), None).await?;
        let listings = page["listings"].as_array().cloned().unwrap_or_default();
        let got = receiver.state();
        let behind: Vec<String> = listings
            .iter()
            .filter(|l| {
                let sku = l["channel_sku"].as_str().unwrap_or_default();
                got.listings.get(sku).map(|r| r.quantity) != l["quantity"].as_i64()
            })
            .map(|l| l["channel_sku"].as_str().unwrap_or_default().to_owned())
            .collect();
        if behind.is_empty() {
            return Ok(true);
        }
        if started.elapsed() > CONVERGE_WITHIN {
            println!("  not converged after {CONVERGE_WITHIN:?}: {behind:?}");
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
