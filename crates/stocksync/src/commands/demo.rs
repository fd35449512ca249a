//! `stocksync demo`: the whole thing on a fresh machine. A fresh SQLite
//! file, simulated marketplaces on loopback (`crate::markets`: the six
//! marketplaces and a seller's own store, an `api` channel), a seeded
//! catalog, the server with its workers, and live simulated shoppers:
//! orders placed on each marketplace's simulator (imported by webhook where
//! it sends them, by polling in every case) and through the HTTP API. At
//! the end it waits for every listing on every marketplace to show its
//! computed quantity, runs `check`, and prints a summary; it exits non-zero
//! if anything is off.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use stocksync_channels::sim::control::OrderChange;
use stocksync_core::auth::Role;
use stocksync_core::channel::ChannelKind;
use stocksync_store::Store;
use tokio::net::TcpListener;

use crate::commands::serve;
use crate::config::Config;
use crate::http::AppState;
use crate::markets::{Markets, channel_name};

/// The demo's database unless `--database-url` names another.
const DEMO_DB: &str = "stocksync-demo.db";
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
    let markets = Markets::start().await?;
    let token = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_token("demo-admin", Role::Admin, &token).await?;
    let password = crate::commands::user::create_with_generated_password(&store, "demo", Role::Admin).await?;

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
    let catalog = seed(&api, &markets, &base).await?;
    println!("stocksync demo");
    println!("  database   {url}");
    println!("  server     {base}   (API under {base}/api/v1, OpenAPI at {base}/api/v1/openapi.json)");
    println!("  web UI     {base}/   (sign in as demo, password {password})");
    println!("  token      {token}   (admin; try: curl -H 'Authorization: Bearer {token}' {base}/api/v1/sync/status)");
    println!("  channels   ebay (polled) at {}", markets.url(ChannelKind::Ebay));
    println!("             shopify (webhooks + polling) at {}", markets.url(ChannelKind::Shopify));
    println!(
        "             amazon (polled; its orders show 2 minutes late, as on SP-API) at {}",
        markets.url(ChannelKind::Amazon)
    );
    println!("             etsy (polled) at {}", markets.url(ChannelKind::Etsy));
    println!("             woocommerce (webhooks + polling) at {}", markets.url(ChannelKind::Woocommerce));
    println!("             walmart (polled) at {}", markets.url(ChannelKind::Walmart));
    println!(
        "             my-store (api: orders through the API, quantities signed POSTs) at {}",
        markets.url(ChannelKind::Api)
    );
    println!(
        "  catalog    {} stock items, {} bundles, 3 fulfillment centers",
        catalog.stock.len(),
        catalog.bundles.len()
    );

    let shoppers = shop(&api, &catalog, &args, &markets);
    tokio::select! {
        r = shoppers => r?,
        _ = tokio::signal::ctrl_c() => println!("\ninterrupted: stopping the shoppers"),
    }
    let converged = converge(&api, &catalog, &markets).await?;
    let violations = store.check().await?;
    let stats = store.stats().await?;
    println!("summary");
    println!(
        "  orders {}, units allocated {}, backordered {}, oversold {}",
        stats.orders, stats.allocated_units, stats.backordered_units, stats.oversold_units
    );
    let rs = markets.api.state();
    println!(
        "  marketplace orders: ebay {}, shopify {}, amazon {} (those of the last 2 minutes not yet visible), etsy {}, woocommerce {}, walmart {}",
        markets.ebay.view().orders,
        markets.shop.view().orders,
        markets.amazon.view().orders,
        markets.etsy.view().orders,
        markets.woo.view().orders,
        markets.walmart.view().orders,
    );
    println!("  my-store received {} push batches; stale pushes {}", rs.batches, rs.stale.len());
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
    /// `(channel id, marketplace)`.
    channels: Vec<(i64, ChannelKind)>,
}

async fn seed(api: &Client, markets: &Markets, server: &str) -> anyhow::Result<Catalog> {
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
    let all: Vec<&String> = stock.iter().chain(&bundles).collect();
    let ids: Vec<std::collections::BTreeMap<ChannelKind, String>> =
        all.iter().map(|sku| markets.list(sku, 0)).collect();
    let mut channels = Vec::new();
    for market in ChannelKind::ALL {
        let settings = match market {
            ChannelKind::Ebay => json!({"poll_interval_s": 1}),
            ChannelKind::Walmart => json!({"poll_interval_s": 2}),
            ChannelKind::Amazon => json!({"poll_interval_s": 60}),
            ChannelKind::Api => json!({"max_visible": 25}),
            _ => json!({"poll_interval_s": 5}),
        };
        let spec = json!({"name": channel_name(market), "kind": market.as_str(),
            "base_url": markets.url(market), "credentials": markets.credentials(market), "settings": settings});
        let id = api.ok(Method::POST, "/channels", spec).await?["id"].as_i64().context("channel id")?;
        for (sku, ext) in all.iter().zip(&ids) {
            let body = json!({"channel_sku": sku, "external_id": ext.get(&market)});
            let path = format!("/channels/{id}/listings");
            // The channel's import loop starts as soon as the channel exists
            // and its first read of the marketplace's listings may link this
            // one by SKU (with the marketplace's external id) before we ask:
            // 409 then means the listing is there, as wanted.
            let (status, v) = api.call(Method::POST, &path, Some(body)).await?;
            if !(200..300).contains(&status) && status != 409 {
                bail!("POST {path} answered {status}: {v}");
            }
        }
        markets.hook(market, format!("{server}/webhooks/{id}"));
        channels.push((id, market));
    }
    Ok(Catalog { stock, bundles, channels })
}

/// Places orders at the given rate, spread over the marketplaces; now and
/// then cancels one or receives a delivery.
async fn shop(api: &Client, catalog: &Catalog, args: &Args, markets: &Markets) -> anyhow::Result<()> {
    use reqwest::Method;
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let every = Duration::from_secs_f64(1.0 / args.orders_per_s.max(0.1));
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut placed: Vec<(ChannelKind, String)> = Vec::new();
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
            let (market, id) = placed.swap_remove(rng.usize(0..placed.len()));
            match market {
                ChannelKind::Api => {
                    drop(api.call(Method::POST, &format!("/orders/{id}/cancel"), Some(json!({}))).await?)
                }
                m => drop(markets.place(m, OrderChange::modify(&id).cancel())?),
            }
        } else if roll < 10 {
            let sku = &catalog.stock[rng.usize(0..catalog.stock.len())];
            let fc = ["EAST", "WEST", "NORTH"][rng.usize(0..3)];
            let body = json!({"delta": rng.i64(1..6), "reason": "delivery"});
            api.ok(Method::POST, &format!("/inventory/{sku}/{fc}/adjustments"), body).await?;
        } else {
            let lines: Vec<(String, u32)> = (0..rng.usize(1..3))
                .map(|_| {
                    let sku = if rng.u32(0..10) == 0 {
                        catalog.bundles[rng.usize(0..catalog.bundles.len())].clone()
                    } else {
                        catalog.stock[rng.usize(0..catalog.stock.len())].clone()
                    };
                    (sku, rng.u32(1..3))
                })
                .collect();
            let (channel, market) = catalog.channels[rng.usize(0..catalog.channels.len())];
            if market == ChannelKind::Api {
                let lines: Vec<Value> = lines
                    .iter()
                    .enumerate()
                    .map(|(l, (sku, q))| json!({"line_id": (l + 1).to_string(), "channel_sku": sku, "quantity": q}))
                    .collect();
                let order = json!({"external_id": format!("WEB-{n:06}"), "lines": lines});
                let v = api.ok(Method::POST, &format!("/channels/{channel}/orders"), order).await?;
                placed.extend(v["id"].as_i64().map(|id| (market, id.to_string())));
            } else {
                let refs: Vec<(&str, u32)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
                placed.push((market, markets.place(market, OrderChange::create(&refs))?));
            }
        }
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            let (_, sync) = api.call(Method::GET, "/sync/status", None).await?;
            let mut line = format!("  t={:>3}s orders placed {:>5} |", started.elapsed().as_secs(), placed.len());
            for ch in sync["channels"].as_array().into_iter().flatten() {
                line.push_str(&format!(
                    " {} pending {} p50 {} ms p99 {} ms |",
                    ch["name"].as_str().unwrap_or("?"),
                    ch["pending_pushes"],
                    ch["push_latency_ms"]["p50"],
                    ch["push_latency_ms"]["p99"]
                ));
            }
            println!("{line}");
        }
    }
}

/// Waits until every listing on every marketplace shows its computed quantity.
async fn converge(api: &Client, catalog: &Catalog, markets: &Markets) -> anyhow::Result<bool> {
    let started = Instant::now();
    loop {
        let mut behind = Vec::new();
        for &(channel, market) in &catalog.channels {
            let (_, page) =
                api.call(reqwest::Method::GET, &format!("/channels/{channel}/listings?limit=1000"), None).await?;
            let shown = markets.shown(market);
            for l in page["listings"].as_array().into_iter().flatten() {
                let sku = l["channel_sku"].as_str().unwrap_or_default();
                if shown.get(sku).map(|s| s.quantity) != l["quantity"].as_i64() {
                    behind.push(format!("{market:?} {sku}"));
                }
            }
        }
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
