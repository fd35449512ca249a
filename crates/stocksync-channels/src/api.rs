//! `api` channels: a seller's own store. Orders arrive through stocksync's
//! API; quantities are POSTed to the channel's `base_url` as API.md says:
//! `{"channel": id, "updates": [{channel_sku, sku, quantity, version}]}`,
//! signed with `X-Stocksync-Signature: sha256=<hex HMAC-SHA256 of the body>`
//! keyed by `credentials.signing_secret`. Any 2xx acknowledges the batch.

use serde::Serialize;

use crate::http::{HttpClient, Limits, RetryPolicy, check_status};
use crate::model::{ChannelConfig, ChannelError, PushEntry, PushResult};
use crate::signing::stocksync_signature;

pub const SIGNATURE_HEADER: &str = "x-stocksync-signature";
/// Updates per POST: one request carries a burst of changes.
pub const PUSH_BATCH_MAX: usize = 500;
/// A seller's own endpoint publishes no limit; this keeps us polite.
const LIMITS: Limits = Limits { per_second: 50, burst: 50 };

#[derive(Debug, Clone)]
pub struct ApiConnector {
    cfg: ChannelConfig,
    http: HttpClient,
}

#[derive(Debug, Serialize)]
pub struct Update<'a> {
    pub channel_sku: &'a str,
    pub sku: &'a str,
    pub quantity: i64,
    pub version: i64,
}

#[derive(Debug, Serialize)]
pub struct Batch<'a> {
    pub channel: i64,
    pub updates: Vec<Update<'a>>,
}

impl ApiConnector {
    pub fn new(cfg: ChannelConfig, policy: RetryPolicy) -> Result<Self, ChannelError> {
        Ok(Self { http: HttpClient::new(LIMITS, policy)?, cfg })
    }

    /// Waits until a push call may go out and takes its place in the rate
    /// limits (see `HttpClient::ready`).
    pub async fn push_ready(&self) {
        self.http.ready(None).await;
    }

    /// Sends one batch; the channel acknowledges it whole, so every entry
    /// shares the outcome.
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let outcome = self.push_batch(entries).await;
        entries.iter().map(|_| outcome.clone()).collect()
    }

    pub(crate) async fn push_batch(&self, entries: &[PushEntry]) -> PushResult {
        let secret = self.cfg.require("signing_secret")?;
        let batch = Batch {
            channel: self.cfg.id,
            updates: entries
                .iter()
                .map(|e| Update { channel_sku: &e.channel_sku, sku: &e.sku, quantity: e.quantity, version: e.version })
                .collect(),
        };
        let body = serde_json::to_vec(&batch).map_err(|e| ChannelError::permanent(format!("encoding: {e}")))?;
        let signature = stocksync_signature(secret, &body);
        let res = self
            .http
            .send(|c| {
                c.post(&self.cfg.base_url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header(SIGNATURE_HEADER, &signature)
                    .body(body.clone())
            })
            .await?;
        check_status(res).await.map(drop)
    }
}
