//! `bench ui`: the web UI's orders workspace over a large order book.
//! Seeds `--orders` single-line orders (some backordered, some unmapped)
//! over 3 FCs, then times the workspace's first page and filtered pages
//! through the router in process, signed in: server time, i.e. the query,
//! the rendering and the session lookup, without the network.

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use serde::Serialize;
use stocksync_core::auth::Role;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::StockTarget;
use stocksync_store::Store;
use tower::ServiceExt;

use super::{Latency, placed, seed_channel, seed_fcs, submit};
use crate::http::{AppState, router};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 100_000)]
    orders: usize,
    #[arg(long, default_value_t = 1000)]
    skus: usize,
    /// Requests timed per page.
    #[arg(long, default_value_t = 50)]
    requests: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[derive(Debug, Serialize)]
struct PageTiming {
    path: String,
    rows: usize,
    latency_ms: Latency,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct UiReport {
    scenario: &'static str,
    backend: &'static str,
    orders: u64,
    pages: Vec<PageTiming>,
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(UiReport, bool)> {
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let t = Instant::now();
    let fcs: Vec<String> = ["EAST", "CENTRAL", "WEST"].map(String::from).to_vec();
    seed_fcs(store, &fcs).await?;
    let skus: Vec<String> = (0..args.skus).map(|i| format!("SKU-{i:05}")).collect();
    let drafts =
        skus.iter().map(|s| ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }).collect();
    store.create_items(drafts, "bench").await?;
    // Enough stock for most orders; the last tenth of the SKUs has none (backorders).
    let per_level = (args.orders / args.skus.max(1)) as i64 / 2 + 1;
    let rows: Vec<_> = skus
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let n = if i * 10 >= args.skus * 9 { 0 } else { per_level };
            fcs.iter().map(move |f| (s.clone(), f.clone(), StockTarget::OnHand(n)))
        })
        .collect();
    store.set_stock_many(rows, Some("bench seed".into()), "bench".into(), "bench").await?;
    let channel = seed_channel(store, "bench-ebay", ChannelKind::Ebay).await?;
    let orders = (0..args.orders)
        .map(|i| {
            // One order in a hundred names a SKU no item has: needs attention.
            let sku =
                if rng.u32(0..100) == 0 { format!("UNKNOWN-{i}") } else { skus[rng.usize(0..skus.len())].clone() };
            IncomingOrder::new(
                channel,
                &format!("ORD-{i}"),
                SourceStatus::Open,
                placed(i),
                None,
                &[("1".to_owned(), sku, 1)],
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    submit(store, orders, 2048).await?;
    eprintln!("bench ui: seeded {} orders in {:.1}s", args.orders, t.elapsed().as_secs_f64());

    let hash = tokio::task::spawn_blocking(|| crate::ui::password::hash("bench-password")).await??;
    store.create_user("bench", Role::Viewer, &hash).await?;
    let secret = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
    store.create_session("bench", &secret, stocksync_core::Timestamp(i64::MAX / 2)).await?;
    let app = router(AppState::new(store.clone()));
    let paths = [
        "/orders".to_owned(),
        "/orders?status=backordered".to_owned(),
        "/orders?status=needs_attention".to_owned(),
        "/orders?fc=WEST".to_owned(),
        format!("/orders?sku={}", skus[args.skus / 2]),
        format!("/orders?channel={}&status=allocated&fc=CENTRAL", channel.0),
    ];
    let mut pages = Vec::new();
    let mut ok = true;
    for path in paths {
        let mut micros = Vec::with_capacity(args.requests);
        let mut rows = 0;
        for _ in 0..args.requests.max(1) {
            let req = Request::get(&path).header("cookie", format!("stocksync_session={secret}")).body(Body::empty())?;
            let started = Instant::now();
            let res = app.clone().oneshot(req).await?;
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            micros.push(started.elapsed().as_micros() as u32);
            ok &= status.is_success();
            rows = String::from_utf8_lossy(&body).matches("data-order=\"").count();
        }
        let max_ms = f64::from(micros.iter().copied().max().unwrap_or(0)) / 1000.0;
        let latency_ms = super::percentiles(&micros);
        eprintln!(
            "bench ui: {path}: {rows} rows, p50 {:.1} ms, p99 {:.1} ms, max {max_ms:.1} ms",
            latency_ms.p50, latency_ms.p99
        );
        pages.push(PageTiming { path, rows, latency_ms, max_ms });
    }
    Ok((UiReport { scenario: "ui", backend: "sqlite", orders: args.orders as u64, pages }, ok))
}
