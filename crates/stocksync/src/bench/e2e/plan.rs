//! What an e2e run does: which marketplaces take part, how often each
//! polled one is polled, where each order is placed, and how long to wait
//! for the last quantity changes.
//!
//! Polling intervals are the shortest each API's published limits allow at
//! this load (BENCHMARKS.md has the arithmetic):
//! - Amazon: `getOrders` refills 0.0167 calls a second (burst 20) [spec:
//!   ordersV0.json]: one poll a minute, from the connector's `RATES`.
//! - Walmart: allowances are per seller and API, unpublished, and stated on
//!   every answer (`x-current-token-count`), which the connector obeys; the
//!   simulator allows 1,000 order calls a minute. A poll costs a call per
//!   200 orders in its window (interval + 15 s overlap, 5 minutes once a
//!   minute): at this bench's 33 Walmart orders/s, polling every second
//!   costs about 230 calls a minute, under a quarter of the allowance.
//! - Etsy: 10,000 requests a day per app, shared with pushes (two requests
//!   per listing): the connector's default, a minute.
//! - eBay: every second, as before: a poll is a few `getOrders` pages, well
//!   inside the Fulfillment API bucket (20/s).
//! - Shopify, WooCommerce: their webhooks carry the orders; the poll is the
//!   safety net, once a minute.

use std::collections::BTreeMap;
use std::time::Duration;

use stocksync_channels::amazon::{RATES, UPDATED_BEFORE_LAG_MS};
use stocksync_core::channel::{ChannelKind, POLL_INTERVAL_MAX_S, POLL_INTERVAL_MIN_S};

use super::Args;

/// Default `--amazon-orders`: what `getOrderItems`' burst reads at once.
pub const AMAZON_ORDERS: usize = RATES.get_order_items.burst as usize;
/// Slack after a change should have arrived: pushes queued behind others, a slow poll.
const SLACK_S: f64 = 30.0;

#[derive(Debug)]
pub struct Plan {
    /// Taking part, each both an origin and a receiver.
    pub markets: Vec<ChannelKind>,
    /// Where each order is placed, in placing order.
    pub origins: Vec<ChannelKind>,
    /// Polling interval of each polled marketplace, in seconds.
    pub poll_s: BTreeMap<ChannelKind, u32>,
    /// Longest wait after the last order.
    pub drain: Duration,
    /// Why no order is placed on Amazon although it takes part.
    pub amazon_skipped: Option<String>,
}

impl Plan {
    pub fn new(args: &Args) -> anyhow::Result<Self> {
        let mut markets: Vec<ChannelKind> = args.channels.clone();
        markets.sort_unstable();
        markets.dedup();
        if markets.len() < 2 {
            anyhow::bail!("--channels: name at least two channels, an order's origin and a receiver");
        }
        if !(args.rate.is_finite() && args.rate > 0.0 && args.seconds.is_finite() && args.seconds > 0.0) {
            anyhow::bail!("--rate and --seconds must be positive");
        }
        let mut poll_s: BTreeMap<ChannelKind, u32> =
            markets.iter().filter(|&&m| m != ChannelKind::Api).map(|&m| (m, poll_interval_s(m))).collect();
        for &(kind, s) in &args.poll_s {
            poll_s.insert(kind, s);
        }
        let total = (args.rate * args.seconds).round().max(markets.len() as f64) as usize;
        let (amazon_orders, drain, amazon_skipped) = amazon(args, &markets, &poll_s, total);
        let origins = schedule(&markets, total, amazon_orders);
        Ok(Self { markets, origins, poll_s, drain, amazon_skipped })
    }

    pub fn describe(&self, rate: f64) -> String {
        let mut counts: BTreeMap<ChannelKind, usize> = BTreeMap::new();
        for &o in &self.origins {
            *counts.entry(o).or_default() += 1;
        }
        let each: Vec<String> = self
            .markets
            .iter()
            .map(|m| {
                let n = counts.get(m).copied().unwrap_or(0);
                match self.poll_s.get(m) {
                    Some(s) => format!("{} {n} (polled every {s}s)", m.as_str()),
                    None => format!("{} {n}", m.as_str()),
                }
            })
            .collect();
        format!("{} orders at {rate} orders/s: {}", self.origins.len(), each.join(", "))
    }
}

/// The polling interval this bench gives `market` (see the module comment).
fn poll_interval_s(market: ChannelKind) -> u32 {
    match market {
        ChannelKind::Amazon => (1.0 / RATES.get_orders.per_second).ceil() as u32,
        ChannelKind::Ebay | ChannelKind::Walmart => 1,
        ChannelKind::Etsy => ChannelKind::Etsy.default_poll_interval_s(),
        ChannelKind::Shopify | ChannelKind::Woocommerce | ChannelKind::Api => 60,
    }
}

/// Amazon's orders, the drain, and why Amazon places none if it does not.
/// An Amazon order needs `LastUpdatedBefore` to pass it, up to two polls,
/// and its item reads beyond the burst; the drain stretches to cover that
/// unless `--drain-s` is given shorter, which places none.
fn amazon(
    args: &Args,
    markets: &[ChannelKind],
    poll_s: &BTreeMap<ChannelKind, u32>,
    total: usize,
) -> (usize, Duration, Option<String>) {
    let given = args.drain_s.map(|s| s.max(0.0));
    // Without Amazon: the longest interval at which an origin without
    // webhooks is polled, so the last orders are found, and then slack.
    let longest_poll = poll_s
        .iter()
        .filter(|(m, _)| !matches!(m, ChannelKind::Amazon | ChannelKind::Shopify | ChannelKind::Woocommerce))
        .map(|(_, &s)| f64::from(s))
        .fold(0.0, f64::max);
    let drain_s = longest_poll + SLACK_S;
    let plain = Duration::from_secs_f64(given.unwrap_or(drain_s));
    let Some(&poll) = poll_s.get(&ChannelKind::Amazon) else { return (0, plain, None) };
    if args.amazon_orders == 0 {
        return (0, plain, Some("--amazon-orders 0".into()));
    }
    let orders = args.amazon_orders.min(total / markets.len().max(1));
    let beyond_burst = orders.saturating_sub(RATES.get_order_items.burst as usize) as f64;
    let needs_s = UPDATED_BEFORE_LAG_MS as f64 / 1000.0
        + 2.0 * f64::from(poll)
        + beyond_burst / RATES.get_order_items.per_second
        + SLACK_S;
    // Amazon's orders are among the first: they need `needs_s` from the start.
    let drain_s = (needs_s - args.seconds).max(drain_s);
    match given {
        Some(g) if args.seconds + g < needs_s => {
            let why = format!(
                "a run of {:.0}s (orders and drain) is shorter than the {needs_s:.0}s an Amazon order needs: \
                 getOrders shows it once LastUpdatedBefore (now - {}s) has passed it, then up to two polls \
                 {poll}s apart, and getOrderItems reads 0.5 orders/s after a burst of {}",
                args.seconds + g,
                UPDATED_BEFORE_LAG_MS / 1000,
                RATES.get_order_items.burst
            );
            (0, plain, Some(why))
        }
        Some(g) => (orders, Duration::from_secs_f64(g), None),
        None => (orders, Duration::from_secs_f64(drain_s), None),
    }
}

/// Round robin over `markets`, Amazon only for its first `amazon` turns.
fn schedule(markets: &[ChannelKind], total: usize, amazon: usize) -> Vec<ChannelKind> {
    let mut origins = Vec::with_capacity(total);
    let mut on_amazon = 0;
    let mut turn = 0;
    while origins.len() < total {
        let m = markets[turn % markets.len()];
        turn += 1;
        if m == ChannelKind::Amazon {
            if on_amazon >= amazon {
                continue;
            }
            on_amazon += 1;
        }
        origins.push(m);
    }
    origins
}

pub fn parse_kind(raw: &str) -> Result<ChannelKind, String> {
    ChannelKind::parse("channels", raw.trim()).map_err(|e| e.to_string())
}

/// `KIND=SECONDS`.
pub fn parse_poll(raw: &str) -> Result<(ChannelKind, u32), String> {
    let (kind, s) = raw.split_once('=').ok_or_else(|| format!("expected KIND=SECONDS, got {raw:?}"))?;
    let kind = parse_kind(kind)?;
    let s: u32 = s.trim().parse().map_err(|e| format!("{s:?}: {e}"))?;
    if !(POLL_INTERVAL_MIN_S..=POLL_INTERVAL_MAX_S).contains(&s) {
        return Err(format!("seconds must be between {POLL_INTERVAL_MIN_S} and {POLL_INTERVAL_MAX_S}"));
    }
    Ok((kind, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_takes_only_its_first_turns() {
        let markets = [ChannelKind::Ebay, ChannelKind::Amazon, ChannelKind::Api];
        let o = schedule(&markets, 10, 2);
        assert_eq!(o.len(), 10);
        assert_eq!(o.iter().filter(|&&m| m == ChannelKind::Amazon).count(), 2);
        assert_eq!(&o[..4], &[ChannelKind::Ebay, ChannelKind::Amazon, ChannelKind::Api, ChannelKind::Ebay]);
        assert!(schedule(&markets, 10, 0).iter().all(|&m| m != ChannelKind::Amazon));
    }

    #[test]
    fn amazon_polls_once_a_minute_from_its_bucket() {
        assert_eq!(poll_interval_s(ChannelKind::Amazon), 60);
        assert_eq!(parse_poll("etsy=5"), Ok((ChannelKind::Etsy, 5)));
        assert!(parse_poll("etsy").is_err() && parse_poll("etsy=0").is_err() && parse_poll("nope=3").is_err());
    }
}
