//! eBay's daily revision cap: each listing can be revised at most 250 times
//! per calendar day, after which eBay blocks revisions until the next day
//! [spec: sell_inventory_v1, bulkUpdatePriceQuantity]. The connector counts
//! revisions per SKU per UTC day and refuses locally before eBay would, so a
//! blocked listing fails fast as `Throttled` until midnight instead of
//! spending quota on calls eBay will refuse.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use stocksync_core::Timestamp;

use crate::model::ChannelError;

/// Revisions eBay allows per listing per calendar day [spec].
pub const REVISIONS_PER_LISTING_PER_DAY: u32 = 250;
/// The last revisions of a day are kept for pushes of zero: a listing that
/// has burnt its budget on ups and downs must still be able to go to 0 when
/// its stock runs out, or it would oversell until midnight.
pub const REVISIONS_RESERVED_FOR_ZERO: u32 = 5;
/// Milliseconds in a UTC day. eBay does not say in which time zone its
/// calendar day turns; counting by UTC day is the simple reading, and a
/// revision eBay refuses anyway comes back as a per-entry error.
const DAY_MS: i64 = 86_400_000;

/// Revisions sent today, per SKU. Clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct RevisionCap(Arc<Mutex<Counts>>);

#[derive(Debug, Default)]
struct Counts {
    /// Days since the epoch (UTC) that `per_sku` counts; older days are dropped whole.
    day: i64,
    per_sku: HashMap<String, u32>,
}

impl Counts {
    fn roll_to(&mut self, day: i64) {
        if self.day != day {
            self.day = day;
            self.per_sku.clear();
        }
    }
}

impl RevisionCap {
    /// Counts one revision of `sku` now, or refuses it until the next UTC
    /// midnight when the day's budget (less the zero reserve, unless this
    /// push is a zero) is spent.
    pub fn reserve(&self, sku: &str, quantity: i64, now: Timestamp) -> Result<(), ChannelError> {
        let day = now.millis().div_euclid(DAY_MS);
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        counts.roll_to(day);
        let budget = if quantity <= 0 {
            REVISIONS_PER_LISTING_PER_DAY
        } else {
            REVISIONS_PER_LISTING_PER_DAY - REVISIONS_RESERVED_FOR_ZERO
        };
        let used = counts.per_sku.entry(sku.to_owned()).or_insert(0);
        if *used >= budget {
            let next_midnight = (day + 1) * DAY_MS;
            let wait = Duration::from_millis(u64::try_from(next_midnight - now.millis()).unwrap_or(0));
            return Err(ChannelError::throttled(
                Some(wait),
                format!("eBay SKU {sku}: {used} revisions today, the daily cap allows {budget} for this push"),
            ));
        }
        *used += 1;
        Ok(())
    }

    /// Gives back a revision eBay certainly did not apply (it refused it).
    pub fn release(&self, sku: &str, now: Timestamp) {
        let mut counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.day == now.millis().div_euclid(DAY_MS)
            && let Some(used) = counts.per_sku.get_mut(sku)
        {
            *used = used.saturating_sub(1);
        }
    }

    /// Revisions of `sku` counted on the UTC day of `now`.
    pub fn used(&self, sku: &str, now: Timestamp) -> u32 {
        let counts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.day != now.millis().div_euclid(DAY_MS) {
            return 0;
        }
        counts.per_sku.get(sku).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorKind;

    const NOON: Timestamp = Timestamp(20_000 * DAY_MS + DAY_MS / 2);

    #[test]
    fn refuses_beyond_the_cap_until_midnight_keeping_a_reserve_for_zero() {
        let cap = RevisionCap::default();
        for _ in 0..REVISIONS_PER_LISTING_PER_DAY - REVISIONS_RESERVED_FOR_ZERO {
            cap.reserve("A", 3, NOON).unwrap();
        }
        let err = cap.reserve("A", 3, NOON).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Throttled(Some(Duration::from_millis(DAY_MS as u64 / 2))));
        for _ in 0..REVISIONS_RESERVED_FOR_ZERO {
            cap.reserve("A", 0, NOON).unwrap();
        }
        assert!(cap.reserve("A", 0, NOON).is_err());
        assert!(cap.reserve("B", 3, NOON).is_ok(), "other SKUs keep their own budget");
        assert!(cap.reserve("A", 3, Timestamp(NOON.0 + DAY_MS / 2)).is_ok(), "a new UTC day");
    }

    #[test]
    fn release_gives_a_revision_back() {
        let cap = RevisionCap::default();
        cap.reserve("A", 1, NOON).unwrap();
        cap.release("A", NOON);
        assert_eq!(cap.used("A", NOON), 0);
    }
}
