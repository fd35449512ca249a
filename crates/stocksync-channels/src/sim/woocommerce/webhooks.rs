//! Order webhooks as WooCommerce sends them: the REST order JSON, signed
//! with `X-WC-Webhook-Signature` (base64 HMAC-SHA256 of the body), POSTed
//! once per change in the background (WooCommerce delivers through
//! wp-cron). `lose_webhook` drops one; `late_webhook` holds it back
//! `late_webhook_ms`.

use std::time::Duration;

use super::WooSim;
use super::orders::order_json;
use crate::signing::base64_signature;

/// How long a delivery may take before WooCommerce counts it failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

impl WooSim {
    /// Sends the webhook for order `id` if a target is set and the faults allow.
    pub(super) fn notify(&self, topic: &'static str, id: u64) {
        let (target, body) = {
            let mut st = self.lock();
            let Some(target) = st.webhook.clone() else { return };
            let Some(order) = st.book.orders.get(&id) else { return };
            let body = order_json(order).to_string();
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
        let event = topic.trim_start_matches("order.");
        let sim = self.clone();
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            let sent = client
                .post(&target.url)
                .timeout(DELIVERY_TIMEOUT)
                .header("content-type", "application/json")
                .header("x-wc-webhook-source", "http://stocksync-sim.example/")
                .header("x-wc-webhook-topic", topic)
                .header("x-wc-webhook-resource", "order")
                .header("x-wc-webhook-event", event)
                .header("x-wc-webhook-signature", signature)
                .header("x-wc-webhook-id", "1")
                .header("x-wc-webhook-delivery-id", format!("sim-{id}-{}", crate::clock::system_now().millis()))
                .body(body)
                .send()
                .await;
            if !sent.is_ok_and(|r| r.status().is_success()) {
                sim.lock().stats.webhooks_refused += 1;
            }
        });
    }
}
