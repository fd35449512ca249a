//! Order webhooks as Shopify sends them: the REST-shaped order, signed with
//! `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256 of the body), POSTed once per
//! change, in the background. `lose_webhook` drops one; `late_webhook`
//! holds it back `late_webhook_ms`.

use std::time::Duration;

use serde_json::{Value, json};
use stocksync_core::Timestamp;

use super::{ShopifySim, SimOrder};
use crate::signing::base64_signature;

/// The simulated shop's UTC offset: REST times carry one, as Shopify's do,
/// so receivers must honour offsets.
const SHOP_OFFSET_MS: i64 = -5 * 3_600_000;
/// How long a delivery may take; Shopify itself gives up after 5 s.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// `2026-01-01T05:00:00.000-05:00` for an instant.
fn shop_time(ms: i64) -> String {
    let local = Timestamp(ms + SHOP_OFFSET_MS).to_string();
    format!("{}-05:00", local.trim_end_matches('Z'))
}

/// The REST order payload of a webhook.
pub(super) fn payload(id: u64, o: &SimOrder) -> Value {
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "id": l.id,
                "admin_graphql_api_id": format!("gid://shopify/LineItem/{}", l.id),
                "sku": l.sku,
                "quantity": l.quantity,
                "current_quantity": l.current,
                "fulfillable_quantity": if o.fulfilled { 0 } else { l.current },
            })
        })
        .collect();
    json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/Order/{id}"),
        "name": format!("#{}", id % 100_000),
        "created_at": shop_time(o.created_ms),
        "updated_at": shop_time(o.updated_ms),
        "cancelled_at": o.cancelled_ms.map(shop_time),
        "cancel_reason": o.cancelled_ms.map(|_| "customer"),
        "fulfillment_status": if o.fulfilled { Some("fulfilled") } else { None },
        "line_items": lines,
    })
}

impl ShopifySim {
    /// Sends the webhook for order `id` if a target is set and the faults allow.
    pub(super) fn notify(&self, topic: &'static str, id: u64) {
        let (target, body) = {
            let mut st = self.lock();
            let Some(target) = st.webhook.clone() else { return };
            let Some(order) = st.orders.get(&id) else { return };
            let body = payload(id, order).to_string();
            if self.faults.roll(|f| f.lose_webhook) {
                st.stats.webhooks_lost += 1;
                return;
            }
            st.stats.webhooks_sent += 1;
            (target, body)
        };
        let late = self.faults.roll(|f| f.late_webhook);
        let delay = if late { Duration::from_millis(self.faults.get().late_webhook_ms) } else { Duration::ZERO };
        if late {
            self.lock().stats.webhooks_late += 1;
        }
        let (Some(client), Ok(runtime)) = (self.client.clone(), tokio::runtime::Handle::try_current()) else {
            self.lock().stats.webhooks_refused += 1;
            return;
        };
        let signature = base64_signature(&target.secret, body.as_bytes());
        let sim = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            let sent = client
                .post(&target.url)
                .timeout(DELIVERY_TIMEOUT)
                .header("content-type", "application/json")
                .header("x-shopify-topic", topic)
                .header("x-shopify-hmac-sha256", signature)
                .header("x-shopify-shop-domain", "stocksync-sim.myshopify.com")
                .header("x-shopify-api-version", "2025-01")
                .header("x-shopify-webhook-id", format!("sim-{id}-{}", crate::clock::system_now().millis()))
                .body(body)
                .send()
                .await;
            if !sent.is_ok_and(|r| r.status().is_success()) {
                sim.lock().stats.webhooks_refused += 1;
            }
        });
    }
}
