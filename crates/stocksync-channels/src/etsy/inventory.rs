//! Quantity pushes as read-modify-writes of a listing's inventory: `GET
//! /listings/{listing_id}/inventory`, set the offerings of the products
//! whose SKU is pushed, `PUT` the whole document back. The PUT takes fewer
//! keys than the GET returns and refuses extra ones ("Array contains
//! invalid keys"), so the document is rebuilt from the keys the PUT accepts
//! [spec: updateListingInventory request body]: read-only ones such as
//! `product_id`, `offering_id`, `is_deleted` and `scale_name` are dropped,
//! deleted products and offerings are left out, and `price` goes from the
//! GET's Money object to the PUT's decimal number.

use std::collections::{BTreeMap, HashMap, HashSet};

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::EtsyConnector;
use crate::http::json;
use crate::model::{ChannelError, PushEntry, PushResult};

/// Etsy refuses an offering quantity above 999 [doc: listing quantity is 0–999].
pub const OFFERING_QUANTITY_MAX: i64 = 999;
/// Keys the PUT accepts, per level of the document [spec].
const TOP_KEYS: [&str; 5] =
    ["products", "price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property"];
const PROPERTY_KEYS: [&str; 5] = ["property_id", "value_ids", "scale_id", "property_name", "values"];

/// The typed view `fetch_listings` needs of an inventory.
#[derive(Debug, Deserialize)]
pub(super) struct Inventory {
    #[serde(default)]
    pub products: Vec<Product>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Product {
    sku: Option<String>,
    #[serde(default)]
    is_deleted: bool,
    #[serde(default)]
    offerings: Vec<Offering>,
}

#[derive(Debug, Deserialize)]
struct Offering {
    quantity: Option<i64>,
    #[serde(default)]
    is_deleted: bool,
}

impl Product {
    pub fn sku(&self) -> Option<&str> {
        if self.is_deleted { None } else { self.sku.as_deref() }
    }

    pub fn quantity(&self) -> i64 {
        self.offerings.iter().filter(|o| !o.is_deleted).filter_map(|o| o.quantity).sum()
    }
}

/// `{amount, divisor}` → amount / divisor; a number stays as it is.
fn price(v: &Value) -> Value {
    match (v["amount"].as_f64(), v["divisor"].as_f64()) {
        (Some(amount), Some(divisor)) if divisor > 0.0 => json!(amount / divisor),
        _ if v.is_number() => v.clone(),
        _ => Value::Null,
    }
}

fn keep(obj: &Value, keys: &[&str]) -> Map<String, Value> {
    keys.iter().filter_map(|k| obj.get(*k).map(|v| ((*k).to_owned(), v.clone()))).collect()
}

fn live(v: &Value) -> bool {
    v["is_deleted"] != Value::Bool(true)
}

/// The PUT body for a GET answer, with the offerings of each SKU in
/// `quantities` set; and the SKUs found.
pub fn writable(doc: &Value, quantities: &HashMap<&str, i64>) -> (Value, HashSet<String>) {
    let mut found = HashSet::new();
    let products: Vec<Value> = doc["products"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|p| live(p))
        .map(|p| {
            let sku = p["sku"].as_str().unwrap_or_default();
            let set = quantities.get(sku).copied();
            if set.is_some() {
                found.insert(sku.to_owned());
            }
            let offerings: Vec<Value> = p["offerings"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|o| live(o))
                .map(|o| {
                    json!({
                        "price": price(&o["price"]),
                        "quantity": set.unwrap_or_else(|| o["quantity"].as_i64().unwrap_or(0)),
                        "is_enabled": o["is_enabled"].as_bool().unwrap_or(true),
                        "readiness_state_id": o.get("readiness_state_id").cloned().unwrap_or(Value::Null),
                    })
                })
                .collect();
            let properties: Vec<Value> = p["property_values"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|pv| Value::Object(keep(pv, &PROPERTY_KEYS)))
                .collect();
            json!({ "sku": p["sku"], "property_values": properties, "offerings": offerings })
        })
        .collect();
    let mut top = keep(doc, &TOP_KEYS);
    top.insert("products".into(), Value::Array(products));
    (Value::Object(top), found)
}

impl EtsyConnector {
    /// Waits until a push call may go out and takes its place in the rate
    /// limits (see `HttpClient::ready`).
    pub async fn push_ready(&self) {
        self.http.ready(None).await;
    }

    /// Sends quantities; one result per entry, in order. Entries of the
    /// same listing share one read and one write.
    pub async fn push(&self, entries: &[PushEntry]) -> Vec<PushResult> {
        let mut results: Vec<Option<PushResult>> = vec![None; entries.len()];
        let mut by_listing: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
        for (i, e) in entries.iter().enumerate() {
            match e.external_id.as_deref().and_then(|id| id.trim().parse::<u64>().ok()) {
                Some(listing) => by_listing.entry(listing).or_default().push(i),
                None => {
                    results[i] = Some(Err(ChannelError::permanent(format!(
                        "Etsy listing {} has no listing id; read the channel's listings first",
                        e.channel_sku
                    ))));
                }
            }
        }
        for (listing, members) in by_listing {
            let quantities: HashMap<&str, i64> = members
                .iter()
                .map(|&i| (entries[i].channel_sku.as_str(), entries[i].quantity.clamp(0, OFFERING_QUANTITY_MAX)))
                .collect();
            let outcome = self.rewrite(listing, &quantities).await;
            for i in members {
                let sku = &entries[i].channel_sku;
                results[i] = Some(match &outcome {
                    Ok(found) if found.contains(sku) => Ok(()),
                    Ok(_) => {
                        Err(ChannelError::permanent(format!("Etsy listing {listing} has no product with SKU {sku}")))
                    }
                    Err(e) => Err(e.clone()),
                });
            }
        }
        results.into_iter().map(|r| r.unwrap_or_else(|| Err(ChannelError::bad_response("no result")))).collect()
    }

    /// Reads a listing's inventory, sets the quantities, writes it back;
    /// returns the SKUs that were there to set.
    async fn rewrite(&self, listing: u64, quantities: &HashMap<&str, i64>) -> Result<HashSet<String>, ChannelError> {
        let path = format!("/listings/{listing}/inventory");
        // A listing going to zero may spend the reserve: that is what it is for.
        let zero = quantities.values().all(|q| *q == 0);
        let doc: Value = json(self.call(Method::GET, &path, None, zero).await?).await?;
        let (body, found) = writable(&doc, quantities);
        if found.is_empty() {
            return Ok(found);
        }
        let body = serde_json::to_vec(&body).map_err(|e| ChannelError::permanent(format!("encoding: {e}")))?;
        self.call(Method::PUT, &path, Some(body), zero).await?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_put_keeps_only_writable_keys_and_sets_the_skus_offerings() {
        let got = json!({
            "products": [
                { "product_id": 1, "sku": "T-RED", "is_deleted": false,
                  "property_values": [{ "property_id": 200, "property_name": "Color", "scale_id": null,
                      "scale_name": null, "value_ids": [1], "values": ["Red"] }],
                  "offerings": [{ "offering_id": 9, "quantity": 3, "is_enabled": true, "is_deleted": false,
                      "price": { "amount": 1250, "divisor": 100, "currency_code": "USD" }, "readiness_state_id": 5 }] },
                { "product_id": 2, "sku": "T-OLD", "is_deleted": true, "offerings": [] },
                { "product_id": 3, "sku": "T-BLUE", "is_deleted": false, "property_values": [],
                  "offerings": [{ "offering_id": 10, "quantity": 7, "is_enabled": true, "is_deleted": false,
                      "price": { "amount": 1250, "divisor": 100, "currency_code": "USD" }, "readiness_state_id": 5 }] }
            ],
            "price_on_property": [], "quantity_on_property": [200], "sku_on_property": [200],
            "readiness_state_on_property": [], "listing": { "listing_id": 1 }
        });
        let (put, found) = writable(&got, &HashMap::from([("T-RED", 0), ("NOPE", 1)]));
        assert_eq!(found, HashSet::from(["T-RED".to_owned()]));
        assert_eq!(put["products"].as_array().unwrap().len(), 2, "the deleted product is left out");
        assert_eq!(
            put["products"][0]["offerings"][0],
            json!({"price": 12.5, "quantity": 0, "is_enabled": true, "readiness_state_id": 5})
        );
        assert_eq!(put["products"][1]["offerings"][0]["quantity"], 7, "other SKUs keep theirs");
        assert!(put["products"][0]["property_values"][0].get("scale_name").is_none());
        assert!(put.get("listing").is_none() && put["quantity_on_property"] == json!([200]));
    }
}
