//! Quantity pushes through `bulkUpdatePriceQuantity`: one request entry per
//! SKU `{sku, shipToLocationAvailability:{quantity}}`, plus
//! `offers:[{offerId, availableQuantity}]` when the listing's external id
//! names its offers. eBay answers 200 or 207 with one result per SKU or
//! offer, so each entry succeeds or fails on its own.

use serde::{Deserialize, Serialize};

use super::{EbayConnector, EbayError, PUSH_BATCH_MAX, describe, ok_or_ebay_error};
use crate::http::json;
use crate::model::{ChannelError, ErrorKind, PushEntry, PushResult};

#[derive(Debug, Serialize)]
struct BulkPriceQuantity<'a> {
    requests: Vec<PriceQuantity<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PriceQuantity<'a> {
    sku: &'a str,
    ship_to_location_availability: ShipTo,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    offers: Vec<OfferQuantity<'a>>,
}

#[derive(Debug, Serialize)]
struct ShipTo {
    quantity: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct OfferQuantity<'a> {
    offer_id: &'a str,
    available_quantity: i64,
}

#[derive(Debug, Deserialize)]
struct BulkPriceQuantityResponse {
    #[serde(default)]
    responses: Vec<PriceQuantityResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceQuantityResponse {
    sku: Option<String>,
    status_code: Option<u16>,
    #[serde(default)]
    errors: Vec<EbayError>,
}

/// The offer ids a listing's external id names: eBay offer ids are decimal
/// numbers, several separated by commas. Anything else (no external id, an
/// item id of another kind) means the SKU's inventory item alone is set.
pub fn offer_ids(external_id: Option<&str>) -> Vec<&str> {
    let Some(raw) = external_id else { return Vec::new() };
    raw.split(',').map(str::trim).filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).collect()
}

impl EbayConnector {
    /// Waits until a push call may go out and takes its place in the rate
    /// limits (see `HttpClient::ready`).
    pub async fn push_ready(&self) {
        self.http.ready(Some(&self.inventory_api)).await;
    }

    /// Sends quantities; one result per entry, in order.
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let mut results = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(PUSH_BATCH_MAX) {
            results.extend(self.push_chunk(chunk).await);
        }
        results
    }

    async fn push_chunk(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let now = self.clock.now();
        // The daily cap is checked, and a revision counted, before sending:
        // an answer lost on the way back may still have revised the listing.
        let refusals: Vec<Option<ChannelError>> =
            entries.iter().map(|e| self.cap.reserve(&e.channel_sku, e.quantity, now).err()).collect();
        let sent: Vec<&PushEntry> =
            entries.iter().zip(&refusals).filter(|(_, refused)| refused.is_none()).map(|(e, _)| e).collect();
        let outcome = if sent.is_empty() { Ok(Vec::new()) } else { self.send(&sent).await };
        entries
            .iter()
            .zip(refusals)
            .map(|(entry, refused)| {
                if let Some(e) = refused {
                    return Err(e);
                }
                let result = match &outcome {
                    Ok(responses) => entry_result(entry, responses),
                    Err(e) => Err(e.clone()),
                };
                if let Err(e) = &result
                    && refused_for_sure(e)
                {
                    self.cap.release(&entry.channel_sku, now);
                }
                result
            })
            .collect()
    }

    async fn send(&self, entries: &[&PushEntry]) -> Result<Vec<PriceQuantityResponse>, ChannelError> {
        let body = BulkPriceQuantity {
            requests: entries
                .iter()
                .map(|e| {
                    let quantity = e.quantity.max(0);
                    PriceQuantity {
                        sku: &e.channel_sku,
                        ship_to_location_availability: ShipTo { quantity },
                        offers: offer_ids(e.external_id.as_deref())
                            .into_iter()
                            .map(|offer_id| OfferQuantity { offer_id, available_quantity: quantity })
                            .collect(),
                    }
                })
                .collect(),
        };
        let body = serde_json::to_vec(&body).map_err(|e| ChannelError::permanent(format!("encoding: {e}")))?;
        let token = self.token()?;
        let url = self.url("/sell/inventory/v1/bulk_update_price_quantity");
        let res = self
            .http
            .send_op(&self.inventory_api, |c| {
                c.post(&url).bearer_auth(token).header("content-type", "application/json").body(body.clone())
            })
            .await?;
        let parsed: BulkPriceQuantityResponse = json(ok_or_ebay_error(res).await?).await?;
        Ok(parsed.responses)
    }
}

/// An entry's outcome from the results eBay gave for its SKU (one per SKU,
/// or one per offer): every one must be a 2xx.
fn entry_result(entry: &PushEntry, responses: &[PriceQuantityResponse]) -> PushResult {
    let mine: Vec<&PriceQuantityResponse> =
        responses.iter().filter(|r| r.sku.as_deref() == Some(entry.channel_sku.as_str())).collect();
    if mine.is_empty() {
        return Err(ChannelError::bad_response(format!("eBay returned no result for SKU {}", entry.channel_sku)));
    }
    for r in mine {
        let status = r.status_code.unwrap_or(0);
        if (200..300).contains(&status) {
            continue;
        }
        let message = format!("eBay SKU {}: status {status}: {}", entry.channel_sku, describe(&r.errors));
        return Err(match status {
            429 => ChannelError::throttled(None, message),
            500..=599 => ChannelError::transient(message),
            0 => ChannelError::bad_response(message),
            _ => ChannelError::permanent(message),
        });
    }
    Ok(())
}

/// Whether eBay certainly did not apply a revision: a refusal, not a lost answer.
fn refused_for_sure(e: &ChannelError) -> bool {
    matches!(e.kind, ErrorKind::Permanent | ErrorKind::Throttled(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_ids_are_decimal_numbers() {
        assert_eq!(offer_ids(Some("1234, 5678")), vec!["1234", "5678"]);
        assert!(offer_ids(Some("v1|123|0")).is_empty());
        assert!(offer_ids(None).is_empty());
    }
}
