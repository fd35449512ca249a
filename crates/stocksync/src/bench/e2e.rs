//! `bench e2e`: an order visible at one marketplace → its quantity change
//! received by every other marketplace (PRODUCT.md §10: p50 ≤ 100 ms,
//! p99 ≤ 1 s). The server runs in process with its workers; the eBay,
//! Shopify and `api` simulators run on loopback ports. Orders are spread
//! over the three at a steady total rate: on Shopify (reaching stocksync
//! by webhook), on eBay (by polling, every second), and through the API
//! (the seller's own store). Each order takes one unit of its own SKU, so
//! the first quantity change of that SKU at a simulator is the one the
//! order caused. `latency_ms` is the webhook path; `paths` gives each.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::ebay::{self, EbaySim};
use stocksync_channels::sim::shopify::{self, ShopifySim, WebhookTarget};
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::auth::Role;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, Store};

use super::{Report, percentiles, seed_fcs};
use crate::http::AppState;
use crate::workers::now;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Orders per second in total, steady.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of orders.
    #[arg(long, default_value_t = 60.0)]
    pub seconds: f64,
}

const SECRET: &str = "bench-secret";
const TOKEN: &str = "bench-token";
/// Units of each SKU at the start (every marketplace already shows them).
const START: i64 = 5;
/// How long to wait for the last pushes after the last order.
const DRAIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Path {
    Webhook,
    Polling,
    Api,
}

struct Sims {
    ebay: EbaySim,
    shop: ShopifySim,
    api: ApiSim,
    _running: Vec<sim::Running>,
}

/// What the three simulators show, read once: `(quantity, set at ms)` by SKU.
struct Shown {
    ebay: BTreeMap<String, (i64, i64)>,
    shop: BTreeMap<String, (i64, i64)>,
    api: BTreeMap<String, (i64, i64)>,
}

impl Sims {
    fn shown(&self) -> Shown {
        Shown {
            ebay: self.ebay.view().listings.into_iter().map(|(k, v)| (k, (v.quantity, v.set_at_ms))).collect(),
            shop: self.shop.view().listings.into_iter().map(|(k, v)| (k, (v.quantity, v.set_at_ms))).collect(),
            api: self.api.state().listings.into_iter().map(|(k, v)| (k, (v.quantity, v.at_ms))).collect(),
        }
    }
}

impl Shown {
    /// When the last of the simulators other than `origin` (where the
    /// order came from) set `sku` to `want`, if they all have.
    fn arrival(&self, origin: Path, sku: &str, want: i64) -> Option<i64> {
        let others = [
            (origin != Path::Polling).then_some(&self.ebay),
            (origin != Path::Webhook).then_some(&self.shop),
            (origin != Path::Api).then_some(&self.api),
        ];
        let mut last = 0;
        for shown in others.into_iter().flatten() {
            let &(quantity, at) = shown.get(sku)?;
            (quantity == want).then_some(())?;
            last = last.max(at);
        }
        Some(last)
    }
}

async fn channel(
    store: &Store,
    name: &str,
    kind: ChannelKind,
    url: String,
    creds: String,
    poll_s: u32,
) -> anyhow::Result<stocksync_core::ChannelId> {
    let mut settings = ChannelSettings::defaults(kind);
    settings.poll_interval_s = poll_s;
    Ok(store
        .create_channel(NewChannel { name: name.into(), kind, base_url: Some(url), credentials_json: creds, settings })
        .await?)
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    let orders = (args.rate * args.seconds).round().max(3.0) as usize;
    seed_fcs(store, &["EAST".to_owned(), "WEST".to_owned()]).await?;
    let skus: Vec<String> = (0..orders).map(|i| format!("E2E-{i:06}")).collect();
    for chunk in skus.chunks(10_000) {
        let drafts =
            chunk.iter().map(|s| ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }).collect();
        store.create_items(drafts, "bench").await?;
    }
    for chunk in skus.chunks(20_000) {
        let rows = chunk.iter().map(|s| (s.clone(), "EAST".to_owned(), StockTarget::OnHand(START))).collect();
        store.set_stock_many(rows, Some("seed".into()), "bench".into(), "bench").await?;
    }
    let sims = {
        let ebay = EbaySim::new(TOKEN, Faults::default());
        let shop = ShopifySim::new(TOKEN, 1, Faults::default());
        let api = ApiSim::new(SECRET, Faults::default());
        let running = vec![
            sim::spawn(ebay.router(), "127.0.0.1:0").await?,
            sim::spawn(shop.router(), "127.0.0.1:0").await?,
            sim::spawn(api.router(), "127.0.0.1:0").await?,
        ];
        Sims { ebay, shop, api, _running: running }
    };
    let mut gids = Vec::with_capacity(orders);
    for sku in &skus {
        sims.ebay.add_item(ebay::ItemSeed { sku: sku.clone(), quantity: START, offer_ids: vec![] });
        gids.push(sims.shop.add_item(shopify::ItemSeed { sku: sku.clone(), quantity: START }));
    }
    let urls: Vec<String> = sims._running.iter().map(sim::Running::url).collect();
    // eBay is polled every second; Shopify relies on webhooks (its poll is the slow safety net).
    let ebay =
        channel(store, "ebay", ChannelKind::Ebay, urls[0].clone(), format!(r#"{{"access_token":"{TOKEN}"}}"#), 1)
            .await?;
    let shop_creds = format!(r#"{{"access_token":"{TOKEN}","location_id":"1","webhook_secret":"{SECRET}"}}"#);
    let shop = channel(store, "shopify", ChannelKind::Shopify, urls[1].clone(), shop_creds, 60).await?;
    let own = channel(
        store,
        "my-store",
        ChannelKind::Api,
        urls[2].clone(),
        format!(r#"{{"signing_secret":"{SECRET}"}}"#),
        60,
    )
    .await?;
    // Every marketplace already shows the starting quantity: the listings
    // say so, and nothing needs pushing before the first order.
    for (ch, with_gid) in [(ebay, false), (shop, true), (own, false)] {
        for (chunk, ids) in skus.chunks(5_000).zip(gids.chunks(5_000)) {
            let rows =
                chunk.iter().zip(ids).map(|(s, gid)| (s.clone(), with_gid.then(|| gid.clone()), Some(START))).collect();
            store.import_listings(ch, rows, "bench").await?;
        }
    }
    let token = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_token("bench", Role::Operator, &token).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    sims.shop
        .set_webhook(Some(WebhookTarget { url: format!("http://{addr}/webhooks/{}", shop.0), secret: SECRET.into() }));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::commands::serve::serve(listener, AppState::new(store.clone()), async {
        let _ = stopped.await;
    }));
    // Let the workers start (the channel loops are found within two seconds).
    tokio::time::sleep(Duration::from_secs(3)).await;

    stocksync_channels::install_tls_provider();
    let client = reqwest::Client::new();
    let api_url = format!("http://{addr}/api/v1/channels/{}/orders", own.0);
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut placed: Vec<(Path, i64)> = Vec::with_capacity(orders);
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    eprintln!(
        "bench e2e: {orders} orders at {} orders/s over Shopify (webhooks), eBay (polling) and the API",
        args.rate
    );
    for (i, sku) in skus.iter().enumerate() {
        tick.tick().await;
        let path = [Path::Webhook, Path::Polling, Path::Api][i % 3];
        let t0 = now().0;
        match path {
            Path::Webhook => drop(sims.shop.apply(OrderChange::create(&[(sku, 1)])).map_err(|e| anyhow::anyhow!(e.0))?),
            Path::Polling => drop(sims.ebay.apply(OrderChange::create(&[(sku, 1)])).map_err(|e| anyhow::anyhow!(e.0))?),
            Path::Api => {
                let req = client.post(&api_url).bearer_auth(&token).json(
                    &json!({"external_id": format!("E2E-{i}"), "lines": [{"line_id": "1", "channel_sku": sku, "quantity": 1}]}),
                );
                tasks.spawn(async move {
                    let res = req.send().await.context("submitting an order")?;
                    if !res.status().is_success() {
                        bail!("order answered {}", res.status());
                    }
                    anyhow::Ok(())
                });
            }
        }
        placed.push((path, t0));
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("bench e2e: orders placed in {seconds:.1}s; waiting for the last pushes");
    let drain = Instant::now();
    let mut arrivals: Vec<Option<i64>> = vec![None; orders];
    loop {
        let shown = sims.shown();
        for (i, sku) in skus.iter().enumerate() {
            if arrivals[i].is_none() {
                arrivals[i] = shown.arrival(placed[i].0, sku, START - 1);
            }
        }
        if arrivals.iter().all(Option::is_some) || drain.elapsed() > DRAIN {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut latencies: BTreeMap<Path, Vec<u32>> = BTreeMap::new();
    let mut missing = 0;
    for (&(path, t0), arrived) in placed.iter().zip(&arrivals) {
        match arrived {
            Some(at) => {
                latencies.entry(path).or_default().push(((at - t0).max(0) * 1000).min(i64::from(u32::MAX)) as u32)
            }
            None => missing += 1,
        }
    }
    let _ = stop.send(());
    server.await??;
    if missing > 0 {
        eprintln!("bench e2e: {missing} orders never reached every other marketplace within {DRAIN:?}");
    }
    let stale = sims.api.state().stale.len();
    let ok = missing == 0 && stale == 0 && super::verify(store).await?;
    let webhook = latencies.get(&Path::Webhook).cloned().unwrap_or_default();
    let mut report = super::report(store, "e2e", seconds, orders as u64, &webhook).await?;
    report.orders = orders as u64;
    report.orders_per_s = (orders as f64 / seconds).round();
    report.lines_per_s = report.orders_per_s;
    let paths: serde_json::Map<String, serde_json::Value> = latencies
        .iter()
        .map(|(p, v)| {
            let l = percentiles(v);
            (format!("{p:?}").to_lowercase(), json!({"orders": v.len(), "p50": l.p50, "p99": l.p99}))
        })
        .collect();
    report.paths = Some(serde_json::Value::Object(paths));
    Ok((report, ok))
}
