//! Short-lived access tokens fetched from a token endpoint (Amazon's LWA
//! refresh grant, Walmart's client-credentials grant) and kept until shortly
//! before they expire. One refresh at a time: callers arriving during a
//! refresh wait for it instead of each asking for a token of their own.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use stocksync_core::Timestamp;
use tokio::sync::Mutex;

use crate::model::ChannelError;

/// How long before its expiry a token is replaced: a call started with it
/// must still reach the API in time, retries and clock skew included.
pub const REFRESH_MARGIN_MS: i64 = 60_000;

/// A token as the endpoint granted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub access_token: String,
    /// Lifetime in seconds, as the endpoint's `expires_in` says.
    pub expires_in_s: u64,
}

#[derive(Debug)]
struct Held {
    value: String,
    refresh_at: Timestamp,
}

/// The current token of one channel. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    held: Arc<Mutex<Option<Held>>>,
    refreshes: Arc<AtomicU64>,
}

impl TokenCache {
    /// The token in hand, or a new one from `refresh` when there is none or
    /// it is within its refresh margin of expiring. The margin is at most
    /// half the lifetime, so a short-lived token is still used.
    pub async fn get<F, Fut>(&self, now: Timestamp, refresh: F) -> Result<String, ChannelError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Granted, ChannelError>>,
    {
        let mut held = self.held.lock().await;
        if let Some(h) = held.as_ref()
            && now < h.refresh_at
        {
            return Ok(h.value.clone());
        }
        let granted = refresh().await?;
        self.refreshes.fetch_add(1, Ordering::Relaxed);
        let life_ms = i64::try_from(granted.expires_in_s.saturating_mul(1000)).unwrap_or(i64::MAX);
        let margin = REFRESH_MARGIN_MS.min(life_ms / 2);
        let refresh_at = Timestamp(now.millis().saturating_add(life_ms - margin));
        *held = Some(Held { value: granted.access_token.clone(), refresh_at });
        Ok(granted.access_token)
    }

    /// Forgets `stale` (the API refused it before its time), unless another
    /// caller has already replaced it.
    pub async fn invalidate(&self, stale: &str) {
        let mut held = self.held.lock().await;
        if held.as_ref().is_some_and(|h| h.value == stale) {
            *held = None;
        }
    }

    /// Tokens fetched so far (tests check that refreshes happen, and how often).
    pub fn refreshes(&self) -> u64 {
        self.refreshes.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(token: &str, expires_in_s: u64) -> impl Future<Output = Result<Granted, ChannelError>> {
        std::future::ready(Ok(Granted { access_token: token.into(), expires_in_s }))
    }

    #[tokio::test]
    async fn keeps_a_token_until_its_margin_then_refreshes() {
        let cache = TokenCache::default();
        assert_eq!(cache.get(Timestamp(0), || grant("a", 3600)).await.unwrap(), "a");
        assert_eq!(cache.get(Timestamp(3_539_999), || grant("b", 3600)).await.unwrap(), "a");
        assert_eq!(cache.get(Timestamp(3_540_000), || grant("b", 3600)).await.unwrap(), "b");
        cache.invalidate("a").await;
        assert_eq!(cache.get(Timestamp(3_540_001), || grant("c", 3600)).await.unwrap(), "b", "a is long gone");
        cache.invalidate("b").await;
        assert_eq!(cache.get(Timestamp(3_540_002), || grant("c", 2)).await.unwrap(), "c");
        assert_eq!(cache.get(Timestamp(3_541_001), || grant("d", 2)).await.unwrap(), "c");
        assert_eq!(cache.get(Timestamp(3_541_002), || grant("d", 2)).await.unwrap(), "d", "half of 2 s");
        assert_eq!(cache.refreshes(), 4);
    }
}
