//! When each receiver showed each order's change, read from the
//! simulators (each stamps the time a quantity was set), and what that
//! makes per origin and per receiver. An order a receiver never showed
//! within the drain counts as slower than any: a percentile that lands on
//! one is null, and so is the max.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::plan::Plan;
use crate::bench::Latency;
use stocksync_core::channel::ChannelKind;

use crate::markets::Markets;

/// How often the simulators are read while waiting. Arrival times are the
/// simulators' own stamps, so this only sets how soon the wait ends.
const SWEEP: Duration = Duration::from_secs(1);

/// One order: where it was placed and when, in ms since the epoch.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub origin: ChannelKind,
    pub at_ms: i64,
}

/// `arrivals[order][receiver]`: when the receiver (an index into the plan's
/// markets) showed the order's SKU at `want`, in ms since the epoch.
pub type Arrivals = Vec<Vec<Option<i64>>>;

/// Reads the simulators until every receiver shows every order's SKU at
/// `want`, or `within` has passed.
pub async fn drain(
    markets: &Markets,
    receivers: &[ChannelKind],
    skus: &[String],
    placed: &[Placed],
    want: i64,
    within: Duration,
) -> Arrivals {
    let started = Instant::now();
    let mut last_note = Instant::now();
    let mut at: Arrivals = vec![vec![None; receivers.len()]; placed.len()];
    let mut pending: Vec<usize> = receivers.iter().map(|&r| placed.iter().filter(|p| p.origin != r).count()).collect();
    loop {
        for (r, &receiver) in receivers.iter().enumerate() {
            if pending[r] == 0 {
                continue;
            }
            let shown = markets.shown(receiver);
            for (i, p) in placed.iter().enumerate() {
                if p.origin == receiver || at[i][r].is_some() {
                    continue;
                }
                if let Some(s) = shown.get(&skus[i]).filter(|s| s.quantity == want) {
                    at[i][r] = Some(s.set_at_ms);
                    pending[r] -= 1;
                }
            }
        }
        if pending.iter().all(|&n| n == 0) || started.elapsed() > within {
            return at;
        }
        if last_note.elapsed() >= Duration::from_secs(15) {
            last_note = Instant::now();
            let left: Vec<String> = receivers
                .iter()
                .zip(&pending)
                .filter(|(_, n)| **n > 0)
                .map(|(m, n)| format!("{} {n}", m.as_str()))
                .collect();
            eprintln!("bench e2e: {:.0}s: changes not yet shown: {}", started.elapsed().as_secs_f64(), left.join(", "));
        }
        tokio::time::sleep(SWEEP).await;
    }
}

/// Writes every (order, receiver) pair as a CSV line: `order`, `origin`,
/// `placed_ms`, `receiver`, `shown_ms` (empty when never shown), for
/// finding when in a run the slow ones were placed.
pub fn write_trace(
    path: &std::path::Path,
    receivers: &[ChannelKind],
    placed: &[Placed],
    at: &Arrivals,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "order,origin,placed_ms,receiver,shown_ms")?;
    for (i, p) in placed.iter().enumerate() {
        for (r, &receiver) in receivers.iter().enumerate() {
            if receiver == p.origin {
                continue;
            }
            let shown = at[i][r].map(|ms| ms.to_string()).unwrap_or_default();
            writeln!(out, "{i},{},{},{},{shown}", p.origin.as_str(), p.at_ms, receiver.as_str())?;
        }
    }
    out.flush()
}

/// Latencies of one set of orders, ms: how many arrived, and the spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub orders: usize,
    pub reached: usize,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

impl Spread {
    /// `None` latencies never arrived.
    pub fn of(mut latencies: Vec<Option<i64>>) -> Self {
        // `None` sorts first; unreached orders are the slowest, so put them last.
        latencies.sort_unstable_by_key(|l| (l.is_none(), *l));
        let at = |q: f64| -> Option<f64> {
            let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies.get(i).copied().flatten().map(|ms| ms as f64)
        };
        let reached = latencies.iter().filter(|l| l.is_some()).count();
        Self { orders: latencies.len(), reached, p50: at(0.50), p99: at(0.99), max: at(1.0) }
    }

    fn json(&self) -> Value {
        json!({"orders": self.orders, "reached": self.reached, "p50": self.p50, "p99": self.p99, "max": self.max})
    }
}

pub struct Stats {
    receivers: Vec<ChannelKind>,
    /// Per origin: every other receiver, and each receiver apart.
    all: BTreeMap<ChannelKind, Spread>,
    kept_up: BTreeMap<ChannelKind, Spread>,
    pairs: BTreeMap<(ChannelKind, ChannelKind), Spread>,
    /// Per receiver, over every origin, with its rate: needed, received.
    per_receiver: BTreeMap<ChannelKind, (Spread, f64, f64)>,
}

impl Stats {
    /// `ended_ms`: when the drain ended.
    pub fn new(plan: &Plan, placed: &[Placed], at: &Arrivals, seconds: f64, ended_ms: i64) -> Self {
        let receivers = plan.markets.clone();
        let latency = |i: usize, r: usize| at[i][r].map(|a| (a - placed[i].at_ms).max(0));
        let mut per_receiver = BTreeMap::new();
        for (r, &receiver) in receivers.iter().enumerate() {
            let orders: Vec<usize> = (0..placed.len()).filter(|&i| placed[i].origin != receiver).collect();
            let spread = Spread::of(orders.iter().map(|&i| latency(i, r)).collect());
            let first = orders.iter().map(|&i| placed[i].at_ms).min().unwrap_or(0);
            let received = spread.reached as f64 / ((ended_ms - first) as f64 / 1000.0).max(seconds);
            per_receiver.insert(receiver, (spread, orders.len() as f64 / seconds, received));
        }
        let kept: Vec<usize> = (0..receivers.len())
            .filter(|&r| per_receiver.get(&receivers[r]).is_some_and(|(s, _, _)| s.reached == s.orders))
            .collect();
        let (mut all, mut kept_up, mut pairs) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
        for &origin in &receivers {
            let orders: Vec<usize> = (0..placed.len()).filter(|&i| placed[i].origin == origin).collect();
            let others: Vec<usize> = (0..receivers.len()).filter(|&r| receivers[r] != origin).collect();
            let slowest = |i: usize, among: &[usize]| -> Option<i64> {
                among.iter().try_fold(0, |worst, &r| latency(i, r).map(|l| l.max(worst)))
            };
            all.insert(origin, Spread::of(orders.iter().map(|&i| slowest(i, &others)).collect()));
            let kept_others: Vec<usize> = kept.iter().copied().filter(|&r| receivers[r] != origin).collect();
            if !kept_others.is_empty() {
                kept_up.insert(origin, Spread::of(orders.iter().map(|&i| slowest(i, &kept_others)).collect()));
            }
            for &r in &others {
                pairs.insert((origin, receivers[r]), Spread::of(orders.iter().map(|&i| latency(i, r)).collect()));
            }
        }
        Self { receivers, all, kept_up, pairs, per_receiver }
    }

    /// `latency_ms`: the Shopify (webhook) path to every other marketplace,
    /// as before; the first channel's when Shopify takes no part. A
    /// percentile not reached is NaN, null in the JSON.
    pub fn headline(&self) -> Latency {
        let origin = if self.all.contains_key(&ChannelKind::Shopify) {
            Some(&ChannelKind::Shopify)
        } else {
            self.all.keys().next()
        };
        let spread = origin.and_then(|o| self.all.get(o));
        let ms = |v: Option<f64>| v.unwrap_or(f64::NAN);
        Latency { p50: ms(spread.and_then(|s| s.p50)), p99: ms(spread.and_then(|s| s.p99)) }
    }

    /// `paths`, keyed by origin.
    pub fn paths_json(&self, plan: &Plan) -> Value {
        let kept: Vec<&str> =
            self.per_receiver.iter().filter(|(_, (s, _, _))| s.reached == s.orders).map(|(m, _)| m.as_str()).collect();
        let mut paths = serde_json::Map::new();
        for &origin in &self.receivers {
            let via = match origin {
                ChannelKind::Shopify | ChannelKind::Woocommerce => "webhook",
                ChannelKind::Api => "api",
                _ => "polling",
            };
            let mut path = json!({"via": via});
            if let Some(s) = plan.poll_s.get(&origin) {
                path["poll_interval_s"] = json!(s);
            }
            let spread = self.all.get(&origin).copied();
            if origin == ChannelKind::Amazon
                && let Some(why) = &plan.amazon_skipped
            {
                path["orders"] = json!(0);
                path["measured"] = json!(false);
                path["reason"] = json!(why);
            } else if let Some(all) = spread {
                path["orders"] = json!(all.orders);
                path["all"] = all.json();
                if let Some(k) = self.kept_up.get(&origin) {
                    let mut k = k.json();
                    let names: Vec<&str> = kept.iter().copied().filter(|&n| n != origin.as_str()).collect();
                    k["receivers"] = json!(names);
                    path["kept_up"] = k;
                }
                let per: serde_json::Map<String, Value> = self
                    .pairs
                    .iter()
                    .filter(|((o, _), _)| *o == origin)
                    .map(|((_, r), s)| (r.as_str().to_owned(), s.json()))
                    .collect();
                path["receivers"] = Value::Object(per);
            }
            paths.insert(origin.as_str().to_owned(), path);
        }
        Value::Object(paths)
    }

    /// `receivers`: each over every origin, with the rate of changes it had
    /// to take while orders were placed (`needed_per_s`) and, for one that
    /// fell behind, the rate it showed them from the first order to the end
    /// of the drain (`received_per_s`): what its API's limits let through.
    pub fn receivers_json(&self) -> Value {
        let map: serde_json::Map<String, Value> = self
            .per_receiver
            .iter()
            .map(|(m, (s, needed, received))| {
                let mut v = s.json();
                v["needed_per_s"] = json!((needed * 10.0).round() / 10.0);
                if s.reached < s.orders {
                    v["received_per_s"] = json!((received * 10.0).round() / 10.0);
                }
                (m.as_str().to_owned(), v)
            })
            .collect();
        Value::Object(map)
    }

    /// Says on stderr which receivers did not show every change.
    pub fn print_missing(&self) {
        for (m, (s, needed, received)) in &self.per_receiver {
            if s.reached < s.orders {
                eprintln!(
                    "bench e2e: {} showed {} of {} changes within the drain ({received:.1}/s received, {needed:.1}/s placed)",
                    m.as_str(),
                    s.reached,
                    s.orders
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_never_received_is_slower_than_any() {
        let s = Spread::of(vec![Some(30), None, Some(10), Some(20)]);
        assert_eq!((s.orders, s.reached, s.p50, s.max), (4, 3, Some(30.0), None));
        let s = Spread::of(vec![Some(30), Some(10), Some(20)]);
        assert_eq!((s.p50, s.p99, s.max), (Some(20.0), Some(30.0), Some(30.0)));
        let s = Spread::of(vec![]);
        assert_eq!((s.orders, s.p50), (0, None));
    }
}
