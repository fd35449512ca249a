//! `bench flash-sale`: one SKU, limited stock spread over 3 FCs, many racing
//! one-unit orders. Exactly the stock must be allocated, never more.

use std::time::Instant;

use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::StockTarget;
use stocksync_store::Store;

use super::{Report, placed, report, seed_channel, seed_fcs, submit, verify};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 50_000)]
    orders: usize,
    /// Units in stock, split 50/30/20 over the three FCs.
    #[arg(long, default_value_t = 10_000)]
    stock: i64,
    #[arg(long, default_value_t = 1024)]
    concurrency: usize,
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    let t = Instant::now();
    let fcs: Vec<String> = ["EAST", "CENTRAL", "WEST"].map(String::from).to_vec();
    seed_fcs(store, &fcs).await?;
    store.create_item(ItemDraft { sku: "FLASH-1".into(), kind: "stock".into(), ..Default::default() }, "bench").await?;
    let split = [args.stock / 2, args.stock * 3 / 10, args.stock - args.stock / 2 - args.stock * 3 / 10];
    let rows = fcs.iter().zip(split).map(|(f, n)| ("FLASH-1".to_owned(), f.clone(), StockTarget::OnHand(n))).collect();
    store.set_stock_many(rows, Some("bench seed".into()), "bench".into(), "bench").await?;
    let shop = seed_channel(store, "bench-shopify", ChannelKind::Shopify).await?;
    seed_channel(store, "bench-ebay", ChannelKind::Ebay).await?;
    eprintln!("bench flash-sale: seeded in {:.1}s", t.elapsed().as_secs_f64());

    let orders = (0..args.orders)
        .map(|i| {
            let lines = [("1".to_owned(), "FLASH-1".to_owned(), 1)];
            IncomingOrder::new(shop, &format!("FS-{i}"), SourceStatus::Open, placed(i), None, &lines)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (seconds, latencies) = submit(store, orders, args.concurrency).await?;
    let report = report(store, "flash-sale", seconds, args.orders as u64, &latencies).await?;
    let expected = args.stock.min(args.orders as i64);
    let exact = report.allocated_units == expected && report.oversold_units == 0;
    if !exact {
        eprintln!(
            "bench flash-sale: FAILED: allocated {} (expected {expected}), oversold {}",
            report.allocated_units, report.oversold_units
        );
    }
    let ok = verify(store).await? && exact;
    Ok((report, ok))
}
