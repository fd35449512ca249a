//! The e2e bench's world: one SKU per order in stock, the simulators of
//! `crate::markets` listing every SKU at its starting quantity, a channel
//! per marketplace taking part (polled as the plan says, webhooks pointed
//! at the server), and the server with its workers, started and past the
//! first poll of each channel that is only polled before any order is placed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use stocksync_core::ChannelId;
use stocksync_core::auth::Role;
use stocksync_core::catalog::ItemDraft;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::workflow::StockTarget;
use stocksync_store::{NewChannel, Store};
use tokio::sync::oneshot;

use super::plan::Plan;
use crate::bench::seed_fcs;
use crate::http::AppState;
use crate::markets::{Markets, channel_name};

/// How long the channels' first polls may take. Each begins by reading the
/// channel's listings: Amazon's `searchListingsItems` gives 20 a page at
/// 5 pages a second, two minutes for 12,000 SKUs.
const FIRST_POLLS_WITHIN: Duration = Duration::from_secs(600);

pub struct World {
    pub markets: Markets,
    pub skus: Vec<String>,
    pub channels: BTreeMap<ChannelKind, ChannelId>,
    pub addr: std::net::SocketAddr,
    /// An operator token for the API.
    pub token: String,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl World {
    pub async fn build(store: &Store, plan: &Plan, start: i64) -> anyhow::Result<Self> {
        let skus = seed_catalog(store, plan.origins.len(), start).await?;
        let markets = Markets::start().await?;
        let ids: Vec<BTreeMap<ChannelKind, String>> = skus.iter().map(|sku| markets.list(sku, start)).collect();
        let mut channels = BTreeMap::new();
        for &market in &plan.markets {
            let mut settings = ChannelSettings::defaults(market);
            if let Some(&s) = plan.poll_s.get(&market) {
                settings.poll_interval_s = s;
            }
            let id = store
                .create_channel(NewChannel {
                    name: channel_name(market).into(),
                    kind: market,
                    base_url: Some(markets.url(market)),
                    credentials_json: markets.credentials(market).to_string(),
                    settings,
                })
                .await?;
            // Every marketplace already shows the starting quantity: the
            // listings say so, and nothing needs pushing before the first order.
            for (chunk, ext) in skus.chunks(5_000).zip(ids.chunks(5_000)) {
                let rows =
                    chunk.iter().zip(ext).map(|(s, e)| (s.clone(), e.get(&market).cloned(), Some(start))).collect();
                store.import_listings(id, rows, "bench").await?;
            }
            channels.insert(market, id);
        }
        let token = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
        store.create_token("bench", Role::Operator, &token).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        for (&market, id) in &channels {
            markets.hook(market, format!("http://{addr}/webhooks/{}", id.0));
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(crate::commands::serve::serve(listener, AppState::new(store.clone()), async {
            let _ = stopped.await;
        }));
        let world = Self { markets, skus, channels, addr, token, stop, server };
        world.first_polls(store).await?;
        Ok(world)
    }

    /// Where orders of the seller's own store are submitted, if it takes part.
    pub fn api_orders_url(&self) -> Option<String> {
        self.channels.get(&ChannelKind::Api).map(|id| format!("http://{}/api/v1/channels/{}/orders", self.addr, id.0))
    }

    /// Waits until every channel that is only polled has polled once (its
    /// cursor is set), so no order waits for that channel's start: its
    /// listings read, then its first poll. Shopify and WooCommerce orders
    /// come by webhook; their first poll (after Shopify's listings read,
    /// minutes of its cost bucket at 12,000 SKUs, and again every 10
    /// minutes) is not waited for, so a run sees it as a server running
    /// for days does.
    async fn first_polls(&self, store: &Store) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut last_note = Instant::now();
        loop {
            let mut waiting = Vec::new();
            for (&market, &id) in &self.channels {
                let polled_only = !matches!(market, ChannelKind::Api | ChannelKind::Shopify | ChannelKind::Woocommerce);
                if polled_only && store.import_cursor(id).await?.is_none() {
                    waiting.push(market.as_str());
                }
            }
            if waiting.is_empty() {
                eprintln!("bench e2e: polled channels ready after {:.0}s", started.elapsed().as_secs_f64());
                return Ok(());
            }
            if started.elapsed() > FIRST_POLLS_WITHIN {
                bail!("channels not polled within {FIRST_POLLS_WITHIN:?}: {}", waiting.join(", "));
            }
            if last_note.elapsed() >= Duration::from_secs(15) {
                last_note = Instant::now();
                eprintln!("bench e2e: waiting for the first poll of {}", waiting.join(", "));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Stops the server and its workers.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.server.await.context("the server task")??;
        Ok(())
    }
}

/// Two FCs and `n` SKUs, each with `start` units in the first.
async fn seed_catalog(store: &Store, n: usize, start: i64) -> anyhow::Result<Vec<String>> {
    seed_fcs(store, &["EAST".to_owned(), "WEST".to_owned()]).await?;
    let skus: Vec<String> = (0..n).map(|i| format!("E2E-{i:06}")).collect();
    for chunk in skus.chunks(10_000) {
        let drafts =
            chunk.iter().map(|s| ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }).collect();
        store.create_items(drafts, "bench").await?;
    }
    for chunk in skus.chunks(20_000) {
        let rows = chunk.iter().map(|s| (s.clone(), "EAST".to_owned(), StockTarget::OnHand(start))).collect();
        store.set_stock_many(rows, Some("seed".into()), "bench".into(), "bench").await?;
    }
    Ok(skus)
}
