//! `bench allocation`: multi-line orders (stock items and bundles) over 10
//! FCs with random stock-outs. After the run, every order is verified
//! against the rule of PRODUCT.md §3: the orders are replayed in the order
//! the store applied them, and each stored decision is checked by
//! `allocation::check_plan` against the stock that existed just before it.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, bail};
use stocksync_core::allocation::{LinePlan, Mode, Need, Plan, check_plan};
use stocksync_core::books::Books;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::ChannelKind;
use stocksync_core::mem::MemBooks;
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::{self, Ctx, StockTarget};
use stocksync_core::{FcId, ItemId, Timestamp};
use stocksync_store::Store;
use stocksync_store::views::OrderView;

use super::{Report, placed, report, seed_channel, seed_fcs, submit, verify};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 20_000)]
    orders: usize,
    #[arg(long, default_value_t = 2_000)]
    skus: usize,
    #[arg(long, default_value_t = 10)]
    fcs: usize,
    #[arg(long, default_value_t = 512)]
    concurrency: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let t = Instant::now();
    let fcs: Vec<String> = (1..=args.fcs).map(|i| format!("FC{i:02}")).collect();
    seed_fcs(store, &fcs).await?;
    let mut mem = MemBooks::default();
    for (i, f) in fcs.iter().enumerate() {
        mem.add_fc(f, i as i64 + 1, true);
    }
    let skus: Vec<String> = (0..args.skus).map(|i| format!("A-{i:05}")).collect();
    let mut drafts: Vec<ItemDraft> =
        skus.iter().map(|s| ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }).collect();
    let bundles: Vec<String> = (0..args.skus / 10).map(|i| format!("KIT-{i:04}")).collect();
    for b in &bundles {
        let (x, y) = (rng.usize(0..skus.len()), rng.usize(0..skus.len()));
        if x == y {
            continue;
        }
        drafts.push(ItemDraft {
            sku: b.clone(),
            kind: "bundle".into(),
            components: vec![(skus[x].clone(), rng.i64(1..=2)), (skus[y].clone(), 1)],
            ..Default::default()
        });
    }
    for d in &drafts {
        mem.add_item(d).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    store.create_items(drafts, "bench").await?;
    let sellable: Vec<String> = mem.items.iter().map(|i| i.sku.as_str().to_owned()).collect();

    // Random stock-outs: most (item, FC) pairs are empty.
    let mut rows = Vec::new();
    for s in &skus {
        for f in &fcs {
            if rng.u8(0..10) < 3 {
                rows.push((s.clone(), f.clone(), StockTarget::OnHand(rng.i64(1..=8))));
            }
        }
    }
    let channel = seed_channel(store, "bench-api", ChannelKind::Api).await?;
    let mem_channel = mem.add_channel("bench-api", true, None);
    let cx = Ctx { at: Timestamp(0), actor: "bench" };
    for (sku, fc, target) in &rows {
        workflow::set_stock(&mut mem, sku, fc, *target, None, "", &cx).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    store.set_stock_many(rows, Some("bench seed".into()), "bench".into(), "bench").await?;
    eprintln!(
        "bench allocation: seeded {} items over {} FCs in {:.1}s",
        sellable.len(),
        fcs.len(),
        t.elapsed().as_secs_f64()
    );

    let mut line_count = 0u64;
    let mut orders = Vec::with_capacity(args.orders);
    for i in 0..args.orders {
        let n = rng.usize(1..=4);
        let mut lines: Vec<(String, String, i64)> = Vec::new();
        while lines.len() < n {
            let sku = &sellable[rng.usize(0..sellable.len())];
            if !lines.iter().any(|l| &l.1 == sku) {
                lines.push(((lines.len() + 1).to_string(), sku.clone(), rng.i64(1..=3)));
            }
        }
        line_count += n as u64;
        orders.push(IncomingOrder::new(channel, &format!("AL-{i}"), SourceStatus::Open, placed(i), None, &lines)?);
    }
    let (seconds, latencies) = submit(store, orders.clone(), args.concurrency).await?;
    let report = report(store, "allocation", seconds, line_count, &latencies).await?;

    let t = Instant::now();
    let by_external: HashMap<&str, &IncomingOrder> = orders.iter().map(|o| (o.external_id.as_str(), o)).collect();
    let fc_ids: HashMap<String, FcId> = mem.fcs.iter().map(|f| (f.code.as_str().to_owned(), f.id)).collect();
    let mut verified = 0;
    for id in 1..=args.orders as i64 {
        let view = store.order(id).await?.with_context(|| format!("order {id} is missing"))?;
        let inc = by_external.get(view.external_id.as_str()).context("unknown order")?;
        let inc = IncomingOrder { channel: mem_channel, ..(*inc).clone() };
        verify_order(&mut mem, &inc, &view, &fc_ids).with_context(|| format!("order {id} ({})", view.external_id))?;
        workflow::import_order(&mut mem, &inc, &cx).map_err(|e| anyhow::anyhow!("{e}"))?;
        verified += 1;
    }
    eprintln!("bench allocation: priority rule verified on {verified} orders in {:.1}s", t.elapsed().as_secs_f64());
    let ok = verify(store).await? && report.oversold_units == 0;
    Ok((report, ok))
}

/// Checks the store's decision for one order against the rule, given the
/// reference model's stock just before the order.
fn verify_order(
    mem: &mut MemBooks,
    inc: &IncomingOrder,
    view: &OrderView,
    fc_ids: &HashMap<String, FcId>,
) -> anyhow::Result<()> {
    let rules = mem.channel_rules(inc.channel).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut resolved = Vec::new();
    for l in &inc.lines {
        let r = mem.resolve(inc.channel, &l.channel_sku).map_err(|e| anyhow::anyhow!("{e}"))?.context("unmapped")?;
        resolved.push(r);
    }
    let needs: Vec<Need<'_>> = resolved
        .iter()
        .zip(&inc.lines)
        .enumerate()
        .map(|(i, (r, l))| Need { line_no: i + 1, label: r.sku.as_str(), parts: &r.parts, units: l.quantity })
        .collect();
    let mut stock: HashMap<(ItemId, FcId), i64> = HashMap::new();
    for r in &resolved {
        for p in &r.parts {
            for f in &rules.fcs {
                stock.insert((p.item, f.id), mem.level_of(p.item, f.id).available());
            }
        }
    }
    let mut plan = Plan::default();
    for (need, line) in needs.iter().zip(&view.lines) {
        let first = &need.parts[0];
        let mut takes = Vec::new();
        for a in line.allocations.iter().filter(|a| a.sku == first.sku.as_str()) {
            let fc = fc_ids.get(&a.fc).context("unknown FC")?;
            let idx = rules.fcs.iter().position(|f| f.id == *fc).context("FC not a candidate")?;
            takes.push((idx, (a.quantity / i64::from(first.per_unit)) as u32));
        }
        takes.sort();
        plan.lines.push(LinePlan { takes, backordered: line.backordered });
    }
    if let Err(e) = check_plan(&needs, &rules.fcs, &stock, Mode { whole_order_first: true, allow_split: true }, &plan) {
        bail!("priority rule violated: {e}");
    }
    Ok(())
}
