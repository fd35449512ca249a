//! Items whose listings may show another quantity, gathered by the writer
//! during a batch and written to the push queue before COMMIT, each with
//! the time its channels' quantities went stale: the marketplace's time of
//! the order version that changed it, else the batch's time. Pushes are
//! claimed by that time (`stale_since`), so an order polled late queues
//! behind older changes instead of before fresher ones (PRODUCT.md §4);
//! push latency still counts from the batch's time (`marked_at`).

use std::collections::{BTreeMap, HashMap};

use stocksync_core::{ItemId, Timestamp};

#[derive(Debug, Default, Clone)]
pub(crate) struct Dirty {
    /// Each item with its stale-since time; `None` is the batch's time.
    items: HashMap<ItemId, Option<Timestamp>>,
    /// The time of the change being written, while a job writes one that
    /// happened earlier elsewhere (an imported order).
    source: Option<Timestamp>,
}

impl Dirty {
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.source = None;
    }

    /// Marks `item`, stale since the current source time.
    pub(crate) fn insert(&mut self, item: ItemId) {
        let since = self.source;
        self.items.entry(item).and_modify(|t| *t = earlier(*t, since)).or_insert(since);
    }

    pub(crate) fn extend(&mut self, items: impl IntoIterator<Item = ItemId>) {
        items.into_iter().for_each(|i| self.insert(i));
    }

    /// Sets the time of the change the job is writing (`None`: now). The
    /// writer resets it before every job.
    pub(crate) fn set_source(&mut self, at: Option<Timestamp>) {
        self.source = at;
    }

    /// Empties the set into `(item, since)` pairs, `None` being `now`.
    pub(crate) fn take(&mut self) -> Vec<(ItemId, Option<Timestamp>)> {
        self.source = None;
        self.items.drain().collect()
    }
}

fn earlier(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) | (None, a) => a,
    }
}

/// Imported orders' times are rounded down to this, in milliseconds, so
/// that a batch of thousands of orders, each with its own time, writes tens
/// of queue rows rather than one per order; finer than any poll interval.
const SOURCE_GRAIN_MS: i64 = 100;

/// Push queue rows for `affected` (items with bundles containing them, each
/// with its stale-since time): one `(stale_since, "id,id,…")` row per time,
/// each item once, at its earliest time.
pub(crate) fn queue_rows(affected: Vec<(ItemId, Option<Timestamp>)>, now: Timestamp) -> Vec<(i64, String)> {
    let mut at: BTreeMap<ItemId, i64> = BTreeMap::new();
    for (item, since) in affected {
        let t = since.map_or(now.0, |s| (s.0 - s.0.rem_euclid(SOURCE_GRAIN_MS)).min(now.0));
        at.entry(item).and_modify(|e| *e = (*e).min(t)).or_insert(t);
    }
    let mut rows: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (item, t) in at {
        rows.entry(t).or_default().push(item.0.to_string());
    }
    rows.into_iter().map(|(t, ids)| (t, ids.join(","))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_orders_makes_a_row_per_tenth_of_a_second_each_item_at_its_earliest() {
        let now = Timestamp(1_000_000);
        let mut affected: Vec<(ItemId, Option<Timestamp>)> =
            (0..1_000).map(|i| (ItemId(i), Some(Timestamp(now.0 - 1_000 + i)))).collect();
        affected.push((ItemId(0), Some(Timestamp(now.0 - 5_000))));
        affected.push((ItemId(5_000), None));
        affected.push((ItemId(5_001), Some(Timestamp(now.0 + 60_000))));
        let rows = queue_rows(affected, now);
        assert_eq!(
            rows.len(),
            12,
            "10 tenths, item 0's earlier time, and now: {:?}",
            rows.iter().map(|r| r.0).collect::<Vec<_>>()
        );
        assert_eq!(rows[0], (now.0 - 5_000, "0".to_owned()), "an item once, at its earliest time");
        assert_eq!(rows[1].0, now.0 - 1_000);
        assert!(rows[1].1.starts_with("1,2,3,"), "{}", &rows[1].1[..20]);
        assert_eq!(rows[11], (now.0, "5000,5001".to_owned()), "now, and a time ahead of ours capped at now");
    }
}

/// When a queued item's oldest change was marked and when its quantity
/// went stale (see `push_state`), as `take_push_queue` merges them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Times {
    pub(crate) marked_at: i64,
    pub(crate) stale_since: i64,
}

impl Times {
    pub(crate) fn earliest(self, other: Times) -> Times {
        Times { marked_at: self.marked_at.min(other.marked_at), stale_since: self.stale_since.min(other.stale_since) }
    }
}
