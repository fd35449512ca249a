//! Quantity pushes through the batch endpoints: `POST /products/batch` for
//! simple products and `POST /products/{parent}/variations/batch` for a
//! variable product's variations, `update: [{id, stock_quantity,
//! manage_stock: true}]`, at most 100 per call. WooCommerce answers 200 with
//! one object per update: the saved product, or `{id, error:{code, message,
//! data:{status}}}`, so each entry succeeds or fails on its own.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::{PUSH_BATCH_MAX, WooConnector, WpError};
use crate::http::json;
use crate::model::{ChannelError, PushEntry, PushResult};

/// Where one entry goes: a product id, or a parent product and variation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Product(u64),
    Variation { parent: u64, id: u64 },
}

/// Reads an external id: `123` (a product) or `123/456` (a variation of 123).
pub fn target(external_id: Option<&str>) -> Option<Target> {
    let raw = external_id?.trim();
    match raw.split_once('/') {
        None => raw.parse().ok().map(Target::Product),
        Some((parent, id)) => Some(Target::Variation { parent: parent.parse().ok()?, id: id.parse().ok()? }),
    }
}

#[derive(Debug, Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    update: Vec<UpdateAnswer>,
}

#[derive(Debug, Deserialize)]
struct UpdateAnswer {
    id: Option<u64>,
    error: Option<ItemError>,
}

#[derive(Debug, Deserialize)]
struct ItemError {
    #[serde(flatten)]
    error: WpError,
    data: Option<ErrorData>,
}

#[derive(Debug, Deserialize)]
struct ErrorData {
    status: Option<u16>,
}

impl WooConnector {
    /// Waits until a push call may go out and takes its place in the rate
    /// limits (see `HttpClient::ready`).
    pub async fn push_ready(&self) {
        self.http.ready(None).await;
    }

    /// Sends quantities; one result per entry, in order. Entries are grouped
    /// by endpoint (products, or one parent's variations).
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let mut results: Vec<Option<PushResult>> = vec![None; entries.len()];
        // Endpoint path → (entry index, id) in entry order.
        let mut groups: BTreeMap<String, Vec<(usize, u64)>> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            match target(e.external_id.as_deref()) {
                Some(Target::Product(id)) => groups.entry("/products/batch".into()).or_default().push((i, id)),
                Some(Target::Variation { parent, id }) => {
                    groups.entry(format!("/products/{parent}/variations/batch")).or_default().push((i, id));
                }
                None => {
                    results[i] = Some(Err(ChannelError::permanent(format!(
                        "WooCommerce listing {} has no product id (`id` or `parent/variation`); read the channel's listings first",
                        e.channel_sku
                    ))));
                }
            }
        }
        for (path, members) in groups {
            for chunk in members.chunks(PUSH_BATCH_MAX) {
                let outcome = self.send_batch(&path, entries, chunk).await;
                for &(i, id) in chunk {
                    results[i] = Some(match &outcome {
                        Ok(answers) => entry_result(&entries[i], id, answers),
                        Err(e) => Err(e.clone()),
                    });
                }
            }
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(ChannelError::bad_response("no result")))).collect()
    }

    async fn send_batch(
        &self,
        path: &str,
        entries: &[PushEntry],
        chunk: &[(usize, u64)],
    ) -> Result<Vec<UpdateAnswer>, ChannelError> {
        let update: Vec<serde_json::Value> = chunk
            .iter()
            .map(|&(i, id)| json!({ "id": id, "stock_quantity": entries[i].quantity.max(0), "manage_stock": true }))
            .collect();
        let answer: BatchAnswer = json(self.post_json(path, &json!({ "update": update })).await?).await?;
        Ok(answer.update)
    }
}

/// An entry's outcome from the batch answer: the object with its id, which
/// is the saved product or an `error`.
fn entry_result(entry: &PushEntry, id: u64, answers: &[UpdateAnswer]) -> PushResult {
    let Some(mine) = answers.iter().find(|a| a.id == Some(id)) else {
        return Err(ChannelError::bad_response(format!(
            "WooCommerce returned no result for {} (id {id})",
            entry.channel_sku
        )));
    };
    let Some(e) = &mine.error else { return Ok(()) };
    let status = e.data.as_ref().and_then(|d| d.status).unwrap_or(400);
    let message = format!("WooCommerce {} (id {id}): {status} {}", entry.channel_sku, e.error.describe());
    Err(match status {
        429 => ChannelError::throttled(None, message),
        500..=599 => ChannelError::transient(message),
        _ => ChannelError::permanent(message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_name_a_product_or_a_variation() {
        assert_eq!(target(Some("93")), Some(Target::Product(93)));
        assert_eq!(target(Some("93/95")), Some(Target::Variation { parent: 93, id: 95 }));
        assert_eq!(target(Some("x")), None);
        assert_eq!(target(Some("1/")), None);
        assert_eq!(target(None), None);
    }
}
