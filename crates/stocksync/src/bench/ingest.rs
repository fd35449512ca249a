//! `bench ingest`: single-line orders over a large catalog in 3 FCs, every
//! SKU listed on two channels (the ordering one and another).

use std::time::Instant;

use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewListing, Store};

use super::{Report, placed, report, seed_channel, seed_fcs, submit, verify};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 200_000)]
    orders: usize,
    #[arg(long, default_value_t = 100_000)]
    skus: usize,
    /// Orders in flight at once. The default models a busy hub: a dozen
    /// channel pollers each handing over pages of 100–250 orders, plus
    /// webhooks arriving meanwhile, which puts a couple of thousand orders in
    /// flight together.
    #[arg(long, default_value_t = 2048)]
    concurrency: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let t = Instant::now();
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
            rows.push((s.clone(), f.clone(), StockTarget::OnHand(rng.i64(0..=3))));
        }
    }
    for chunk in rows.chunks(20_000) {
        store.set_stock_many(chunk.to_vec(), Some("bench seed".into()), "bench".into(), "bench").await?;
    }
    let ebay = seed_channel(store, "bench-ebay", ChannelKind::Ebay).await?;
    let shop = seed_channel(store, "bench-shopify", ChannelKind::Shopify).await?;
    // Steady state: every SKU is already listed on both channels.
    for channel in [ebay, shop] {
        for chunk in skus.chunks(10_000) {
            let listings = chunk.iter().map(|s| NewListing { channel_sku: s.clone(), ..Default::default() }).collect();
            store.create_listings(channel, listings, "bench").await?;
        }
    }
    eprintln!(
        "bench ingest: seeded {} SKUs × {} FCs, 2 channels in {:.1}s",
        skus.len(),
        fcs.len(),
        t.elapsed().as_secs_f64()
    );

    let orders = (0..args.orders)
        .map(|i| {
            let sku = &skus[rng.usize(0..skus.len())];
            let lines = [("1".to_owned(), sku.clone(), 1)];
            IncomingOrder::new(ebay, &format!("ORD-{i}"), SourceStatus::Open, placed(i), None, &lines)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (seconds, latencies) = submit(store, orders, args.concurrency).await?;
    let report = report(store, "ingest", seconds, args.orders as u64, &latencies).await?;
    let ok = verify(store).await? && report.oversold_units == 0;
    Ok((report, ok))
}
