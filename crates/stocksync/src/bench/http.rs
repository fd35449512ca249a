//! `bench http`: order submission over real HTTP. The server runs in process
//! on a loopback port (with its workers); 32 clients each POST single-line
//! orders to `/api/v1/channels/{id}/orders` one after another, as a seller's
//! store or an integration would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use stocksync_core::auth::Role;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, Store};

use super::{Report, report, seed_fcs, verify};
use crate::http::AppState;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 50_000)]
    orders: usize,
    #[arg(long, default_value_t = 10_000)]
    skus: usize,
    /// Concurrent clients, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let fcs: Vec<String> = ["EAST", "CENTRAL", "WEST"].map(String::from).to_vec();
    seed_fcs(store, &fcs).await?;
    let skus: Vec<String> = (0..args.skus).map(|i| format!("SKU-{i:06}")).collect();
    for chunk in skus.chunks(10_000) {
        let drafts =
            chunk.iter().map(|s| ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }).collect();
        store.create_items(drafts, "bench").await?;
    }
    let mut rows = Vec::with_capacity(skus.len() * fcs.len());
    for s in &skus {
        for f in &fcs {
            rows.push((s.clone(), f.clone(), StockTarget::OnHand(rng.i64(0..=5))));
        }
    }
    for chunk in rows.chunks(20_000) {
        store.set_stock_many(chunk.to_vec(), Some("bench seed".into()), "bench".into(), "bench").await?;
    }
    let shop = store
        .create_channel(NewChannel {
            name: "shop".into(),
            kind: ChannelKind::Api,
            base_url: None,
            credentials_json: "{}".into(),
            // Nobody to push to: this bench measures the order path.
            settings: ChannelSettings { push_quantities: false, ..ChannelSettings::defaults(ChannelKind::Api) },
        })
        .await?;
    let token = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_token("bench", Role::Operator, &token).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/api/v1/channels/{}/orders", listener.local_addr()?, shop.0);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(crate::commands::serve::serve(listener, AppState::new(store.clone()), async {
        let _ = stopped.await;
    }));

    stocksync_channels::install_tls_provider();
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.clients).build()?;
    let picks: Arc<Vec<usize>> = Arc::new((0..args.orders).map(|_| rng.usize(0..skus.len())).collect());
    let skus = Arc::new(skus);
    let next = Arc::new(AtomicUsize::new(0));
    eprintln!("bench http: {} orders from {} clients to {url}", args.orders, args.clients);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.clients.max(1) {
        let (client, url, token, picks, skus, next) =
            (client.clone(), url.clone(), token.clone(), picks.clone(), skus.clone(), next.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&pick) = picks.get(i) else { break };
                let body = json!({"external_id": format!("H-{i}"), "lines": [{"line_id": "1", "channel_sku": skus[pick], "quantity": 1}]});
                let t = Instant::now();
                let res = client.post(&url).bearer_auth(&token).json(&body).send().await.context("POST order")?;
                let status = res.status();
                let _ = res.bytes().await;
                if status.as_u16() != 201 {
                    bail!("order {i} answered {status}");
                }
                lat.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
            }
            anyhow::Ok(lat)
        });
    }
    let progress = {
        let next = next.clone();
        let n = args.orders;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                eprintln!("  {}/{n} orders", next.load(Ordering::Relaxed).min(n));
            }
        })
    };
    let mut latencies = Vec::with_capacity(args.orders);
    while let Some(r) = tasks.join_next().await {
        latencies.extend(r.context("client task panicked")??);
    }
    let seconds = started.elapsed().as_secs_f64();
    progress.abort();
    let _ = stop.send(());
    server.await??;
    let report = report(store, "http", seconds, args.orders as u64, &latencies).await?;
    let ok = verify(store).await? && report.oversold_units == 0;
    Ok((report, ok))
}
