//! `productVariants(first, after)` and `inventorySetQuantities(input:)`:
//! validated like Shopify (`userErrors` with a field path to the offending
//! quantity, nothing applied when any is refused), then applied.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{GqlError, MUTATION_COST, first_arg, gql_error};
use crate::sim::shopify::ShopifySim;

/// Reasons `inventorySetQuantities` accepts [doc: inventory state reasons].
const REASONS: [&str; 17] = [
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
];
/// The largest quantity Shopify stores for a level.
const QUANTITY_MAX: i64 = 1_000_000_000;

pub(super) fn variants(sim: &ShopifySim, vars: &Value) -> Result<(Value, f64), GqlError> {
    let first = first_arg(vars, "first")? as usize;
    let start = match vars["after"].as_str() {
        None => 0,
        Some(raw) => STANDARD
            .decode(raw)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|t| t.strip_prefix("v:").and_then(|i| i.parse::<usize>().ok()))
            .map(|i| i + 1)
            .ok_or_else(|| gql_error(format!("Invalid cursor {raw:?}"), "BAD_REQUEST"))?,
    };
    let st = sim.lock();
    let nodes: Vec<Value> = st
        .items
        .iter()
        .skip(start)
        .take(first)
        .map(|(gid, item)| json!({ "sku": item.sku, "inventoryQuantity": item.quantity, "inventoryItem": { "id": gid } }))
        .collect();
    let end = start + nodes.len();
    let end_cursor = (!nodes.is_empty()).then(|| STANDARD.encode(format!("v:{}", end - 1)));
    let page_info = json!({ "hasNextPage": end < st.items.len(), "endCursor": end_cursor });
    let actual = 3.0 + 2.0 * nodes.len() as f64;
    Ok((json!({ "productVariants": { "pageInfo": page_info, "nodes": nodes } }), actual))
}

/// `InventorySetQuantitiesInput` as 2025-01 defines it; an unknown field is
/// a variable error, as on Shopify.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Input {
    name: String,
    reason: String,
    #[serde(default)]
    reference_document_uri: Option<String>,
    #[serde(default)]
    ignore_compare_quantity: Option<bool>,
    quantities: Vec<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Quantity {
    inventory_item_id: String,
    location_id: String,
    quantity: i64,
    #[serde(default)]
    compare_quantity: Option<i64>,
}

pub(super) fn set_quantities(sim: &ShopifySim, vars: &Value) -> Result<(Value, f64), GqlError> {
    let input: Input = serde_json::from_value(vars["input"].clone()).map_err(|e| {
        gql_error(
            format!("Variable $input of type InventorySetQuantitiesInput! was provided invalid value: {e}"),
            "INVALID_VARIABLE",
        )
    })?;
    let mut errors = Vec::new();
    let mut refuse = |field: Vec<String>, code: &str, message: String| {
        errors.push(json!({ "field": field, "message": message, "code": code }));
    };
    let path = |i: usize, leaf: &str| vec!["input".into(), "quantities".into(), i.to_string(), leaf.to_owned()];
    if !matches!(input.name.as_str(), "available" | "on_hand") {
        refuse(vec!["input".into(), "name".into()], "INVALID_NAME", format!("{:?} is not a quantity name", input.name));
    }
    if input.reference_document_uri.as_deref().is_some_and(|uri| !uri.contains("://")) {
        let message = "The reference document URI isn't a valid URI.".to_owned();
        refuse(vec!["input".into(), "referenceDocumentUri".into()], "INVALID_REFERENCE_DOCUMENT", message);
    }
    if !REASONS.contains(&input.reason.as_str()) {
        refuse(vec!["input".into(), "reason".into()], "INVALID_REASON", format!("{:?} is not a reason", input.reason));
    }
    let mut st = sim.lock();
    let compare = !input.ignore_compare_quantity.unwrap_or(false);
    for (i, q) in input.quantities.iter().enumerate() {
        let Some(item) = st.items.get(&q.inventory_item_id) else {
            refuse(
                path(i, "inventoryItemId"),
                "INVALID_INVENTORY_ITEM",
                "The specified inventory item could not be found.".into(),
            );
            continue;
        };
        if q.location_id != sim.location {
            refuse(path(i, "locationId"), "INVALID_LOCATION", "The specified location could not be found.".into());
        } else if q.quantity < 0 {
            refuse(path(i, "quantity"), "INVALID_QUANTITY_NEGATIVE", "The quantity can't be negative.".into());
        } else if q.quantity > QUANTITY_MAX {
            refuse(path(i, "quantity"), "INVALID_QUANTITY_TOO_HIGH", "The quantity is too high.".into());
        } else if compare && q.compare_quantity.is_none() {
            refuse(path(i, "compareQuantity"), "COMPARE_QUANTITY_REQUIRED", "A compare quantity is required.".into());
        } else if compare && q.compare_quantity != Some(item.quantity) {
            refuse(path(i, "compareQuantity"), "COMPARE_QUANTITY_STALE", "The compare quantity is stale.".into());
        }
    }
    if errors.is_empty() {
        for q in &input.quantities {
            if let Some(item) = st.items.get_mut(&q.inventory_item_id) {
                item.quantity = q.quantity;
                item.sets += 1;
                item.set_at_ms = crate::clock::system_now().millis();
            }
        }
    }
    Ok((json!({ "inventorySetQuantities": { "userErrors": errors } }), MUTATION_COST))
}
