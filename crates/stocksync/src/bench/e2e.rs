//! `bench e2e`: an order placed on one marketplace → its quantity change
//! received by every other marketplace (PRODUCT.md §10: p50 ≤ 100 ms,
//! p99 ≤ 1 s at 200 orders/s). The server runs in process with its
//! workers; the simulators of `crate::markets` run on loopback ports, all
//! seven unless `--channels` names fewer. Orders are placed round robin
//! over the channels at a steady total rate: on Shopify and WooCommerce
//! (they reach stocksync by webhook), on eBay, Etsy, Walmart and Amazon
//! (found by polling, at the interval each API's limits allow: `plan`),
//! and through the API (the seller's own store). Each order takes one unit
//! of its own SKU, so that SKU's first change at a marketplace is the one
//! the order caused, and every other marketplace must receive it.
//!
//! Amazon shows an order to `getOrders` only once `LastUpdatedBefore`
//! (now − 2 min 10 s) has passed it, and its items are read at 0.5 orders
//! a second (`getOrderItems`, burst 30), a 57th of 1/7 of 200 orders/s.
//! So Amazon's orders (`--amazon-orders`, the burst by default) are placed
//! first and the run waits for them, a bounded drain of about four
//! minutes; a run too short for them places none and says why in the JSON.
//!
//! The JSON's `paths` gives per origin the p50/p99/max of order placed →
//! every other marketplace shows it (`all`), the same over the receivers
//! that kept up with every order (`kept_up`), and per receiver; `receivers`
//! gives each receiver over every origin. A percentile that some order
//! never reached within the drain is null. `latency_ms` is the Shopify
//! (webhook) path's `all`, as before.
//!
//! - `plan`: who takes part, polling intervals, the order schedule, the drain.
//! - `setup`: the catalog, the simulators, the channels and the server.
//! - `measure`: arrivals read from the simulators, and their statistics.

mod measure;
mod plan;
mod setup;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;
use stocksync_channels::sim::control::OrderChange;
use stocksync_core::channel::ChannelKind;
use stocksync_store::Store;

use self::measure::Placed;
use self::plan::Plan;
use super::Report;
use crate::workers::now;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Orders per second in total, steady.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of orders.
    #[arg(long, default_value_t = 60.0)]
    pub seconds: f64,
    /// The channels taking part, each both where orders are placed and a
    /// receiver of the others' quantity changes: kinds, comma-separated, at least two.
    #[arg(long, value_delimiter = ',', value_parser = plan::parse_kind,
          default_value = "ebay,shopify,amazon,etsy,woocommerce,walmart,api")]
    pub channels: Vec<ChannelKind>,
    /// Orders placed on Amazon, among the first of the run. Amazon's
    /// getOrderItems reads 30 orders at once, then one every 2 s.
    #[arg(long, default_value_t = plan::AMAZON_ORDERS)]
    pub amazon_orders: usize,
    /// A channel's order polling interval instead of the one its API's
    /// limits allow (`KIND=SECONDS`, repeatable), e.g. for a quick smoke run.
    #[arg(long = "poll-s", value_parser = plan::parse_poll)]
    pub poll_s: Vec<(ChannelKind, u32)>,
    /// Longest wait for the last quantity changes after the last order, in
    /// seconds [default: the longest polling interval of a channel without
    /// webhooks plus 30, or what Amazon's orders need].
    #[arg(long)]
    pub drain_s: Option<f64>,
    /// Also write every order's arrival at every receiver to this CSV file
    /// (`order,origin,placed_ms,receiver,shown_ms`).
    #[arg(long)]
    pub trace: Option<std::path::PathBuf>,
}

/// Units of each SKU at the start (every marketplace already shows them).
const START: i64 = 5;

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    let plan = Plan::new(&args)?;
    let world = setup::World::build(store, &plan, START).await?;
    eprintln!("bench e2e: {}", plan.describe(args.rate));
    let started = Instant::now();
    let placed = place(&world, &plan, args.rate).await?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "bench e2e: {} orders placed in {seconds:.1}s; waiting up to {:.0}s for the last quantity changes",
        placed.len(),
        plan.drain.as_secs_f64()
    );
    let arrivals = measure::drain(&world.markets, &plan.markets, &world.skus, &placed, START - 1, plan.drain).await;
    let ended_ms = now().0;
    let stale = world.markets.api.state().stale.len();
    world.stop().await?;

    if let Some(path) = &args.trace {
        measure::write_trace(path, &plan.markets, &placed, &arrivals)
            .with_context(|| format!("writing the trace to {}", path.display()))?;
    }
    let stats = measure::Stats::new(&plan, &placed, &arrivals, seconds, ended_ms);
    stats.print_missing();
    let mut report = super::report(store, "e2e", seconds, placed.len() as u64, &[]).await?;
    report.orders = placed.len() as u64;
    report.orders_per_s = (placed.len() as f64 / seconds).round();
    report.latency_ms = stats.headline();
    report.paths = Some(stats.paths_json(&plan));
    report.receivers = Some(stats.receivers_json());
    // Every order must have been imported (each took a unit it could have);
    // deliveries a rate-limited receiver could not make within the drain
    // are a measured result in the JSON, not a failure.
    let imported = report.allocated_units == placed.len() as i64;
    if !imported {
        eprintln!("bench e2e: {} of {} orders were imported", report.allocated_units, placed.len());
    }
    if stale > 0 {
        eprintln!("bench e2e: {stale} stale pushes reached the api receiver");
    }
    let ok = imported && stale == 0 && super::verify(store).await?;
    Ok((report, ok))
}

/// Places the plan's orders at `rate` a second; returns each order's origin
/// and the time it was placed, in placing order (the i-th takes `skus[i]`).
async fn place(world: &setup::World, plan: &Plan, rate: f64) -> anyhow::Result<Vec<Placed>> {
    stocksync_channels::install_tls_provider();
    let client = reqwest::Client::new();
    let api_url = world.api_orders_url();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut placed = Vec::with_capacity(plan.origins.len());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (&origin, sku)) in plan.origins.iter().zip(&world.skus).enumerate() {
        tick.tick().await;
        let at_ms = now().0;
        if origin == ChannelKind::Api {
            let req = client.post(api_url.as_deref().context("no api channel")?).bearer_auth(&world.token).json(
                &json!({"external_id": format!("E2E-{i}"), "lines": [{"line_id": "1", "channel_sku": sku, "quantity": 1}]}),
            );
            tasks.spawn(async move {
                let res = req.send().await.context("submitting an order")?;
                if !res.status().is_success() {
                    bail!("order answered {}", res.status());
                }
                anyhow::Ok(())
            });
        } else {
            world.markets.place(origin, OrderChange::create(&[(sku, 1)]))?;
        }
        placed.push(Placed { origin, at_ms });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(placed)
}
