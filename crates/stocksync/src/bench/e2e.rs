//! `bench e2e`: an order seen by stocksync → the new quantity received by
//! every other channel (PRODUCT.md §10: p50 ≤ 100 ms, p99 ≤ 1 s at 200
//! orders/s). The server runs in process on a loopback port with its
//! workers; orders arrive through the HTTP API at a steady rate on one
//! channel; every other channel is a simulated receiver on its own port.
//! Each order takes one unit of its own SKU, so the first push of that SKU
//! after the baseline is the one the order caused; its latency is measured
//! from just before the order's request to its arrival at the last receiver.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use serde_json::json;
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_core::auth::Role;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, NewListing, Store};

use super::{Report, seed_fcs};
use crate::http::AppState;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Orders per second, steady.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of orders.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Receiving channels (each a simulator) besides the ordering one.
    #[arg(long, default_value_t = 3)]
    pub receivers: usize,
}

const SECRET: &str = "bench-signing-secret";
/// How long to wait for the last pushes after the last order.
const DRAIN: Duration = Duration::from_secs(15);

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    let orders = (args.rate * args.seconds).round().max(1.0) as usize;
    seed_fcs(store, &["EAST".to_owned(), "WEST".to_owned()]).await?;
    let skus: Vec<String> = (0..orders).map(|i| format!("E2E-{i:06}")).collect();
    let drafts =
        skus.iter().map(|s| ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }).collect();
    store.create_items(drafts, "bench").await?;
    let rows = skus.iter().map(|s| (s.clone(), "EAST".to_owned(), StockTarget::OnHand(5))).collect();
    store.set_stock_many(rows, Some("seed".into()), "bench".into(), "bench").await?;
    let shop = store
        .create_channel(NewChannel {
            name: "shop".into(),
            kind: ChannelKind::Api,
            base_url: None,
            credentials_json: "{}".into(),
            settings: ChannelSettings { push_quantities: false, ..ChannelSettings::defaults(ChannelKind::Api) },
        })
        .await?;
    let mut sims = Vec::new();
    for r in 0..args.receivers {
        let sim = ApiSim::new(SECRET, Faults::default());
        let running = sim::spawn(sim.router(), "127.0.0.1:0").await?;
        let ch = store
            .create_channel(NewChannel {
                name: format!("receiver-{r}"),
                kind: ChannelKind::Api,
                base_url: Some(running.url()),
                credentials_json: format!(r#"{{"signing_secret":"{SECRET}"}}"#),
                settings: ChannelSettings::defaults(ChannelKind::Api),
            })
            .await?;
        let listings = skus.iter().map(|s| NewListing { channel_sku: s.clone(), ..Default::default() }).collect();
        store.create_listings(ch, listings, "bench").await?;
        sims.push((sim, running));
    }
    let token = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_token("bench", Role::Admin, &token).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/api/v1", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::commands::serve::serve(listener, AppState::new(store.clone()), async {
        let _ = stopped.await;
    }));

    eprintln!("bench: waiting for the receivers to get every starting quantity");
    wait_until(Duration::from_secs(60), || sims.iter().all(|(s, _)| s.state().listings.len() == orders)).await?;
    let baseline: Vec<_> = sims.iter().map(|(s, _)| s.state()).collect();

    stocksync_channels::install_tls_provider();
    let client = reqwest::Client::new();
    let every = Duration::from_secs_f64(1.0 / args.rate);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut sent_at = vec![0i64; orders];
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    eprintln!("bench: {orders} orders at {} orders/s to {} receivers", args.rate, args.receivers);
    for (i, sku) in skus.iter().enumerate() {
        tick.tick().await;
        sent_at[i] = now_ms();
        let req = client.post(format!("{base}/channels/{}/orders", shop.0)).bearer_auth(&token).json(
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
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("bench: orders in; waiting for the last pushes");
    let moved = |s: &ApiSim, b: &stocksync_channels::sim::api::ReceiverState| {
        let st = s.state();
        skus.iter().all(|k| st.listings[k].version > b.listings[k].version)
    };
    let converged = wait_until(DRAIN, || sims.iter().zip(&baseline).all(|((s, _), b)| moved(s, b))).await.is_ok();
    let mut latencies_us = Vec::with_capacity(orders);
    for (i, sku) in skus.iter().enumerate() {
        let last = sims.iter().map(|(s, _)| s.state().listings[sku].at_ms).max().unwrap_or(0);
        latencies_us.push(((last - sent_at[i]).max(0) * 1000).min(i64::from(u32::MAX)) as u32);
    }
    let _ = stop.send(());
    server.await??;
    let stale: usize = sims.iter().map(|(s, _)| s.state().stale.len()).sum();
    let ok = converged && stale == 0 && super::verify(store).await?;
    let mut report = super::report(store, "e2e", seconds, orders as u64, &latencies_us).await?;
    report.orders_per_s = (orders as f64 / seconds).round();
    Ok((report, ok))
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let t = Instant::now();
    while !done() {
        if t.elapsed() > limit {
            bail!("gave up after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}
