//! Allocation through the API: the priority rule of PRODUCT.md §3,
//! backorders, and unmapped lines that allocate once mapped.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::support::Api;

/// EAST (1), WEST (2), NORTH (3); items A, B; one channel with `settings`.
async fn setup(settings: Value, stock: &[(&str, &str, i64)]) -> (Api, i64) {
    let api = Api::new().await;
    for (code, priority) in [("EAST", 1), ("WEST", 2), ("NORTH", 3)] {
        api.fc(code, priority).await;
    }
    api.item("A").await;
    api.item("B").await;
    for (sku, fc, n) in stock {
        api.stock(sku, fc, *n).await;
    }
    let ch = api.channel("shop", settings).await;
    (api, ch)
}

/// Per line: `[(fc, quantity)]` of its allocations.
fn allocations(order: &Value) -> Vec<Vec<(String, i64)>> {
    order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["allocations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (a["fc"].as_str().unwrap().to_owned(), a["quantity"].as_i64().unwrap()))
                .collect()
        })
        .collect()
}

fn at(fc: &str, n: i64) -> (String, i64) {
    (fc.to_owned(), n)
}

#[tokio::test]
async fn the_first_fc_that_covers_the_whole_order_takes_it() {
    let (api, ch) = setup(json!({}), &[("A", "EAST", 5), ("A", "WEST", 2), ("B", "WEST", 1)]).await;
    let (_, order) = api.order(ch, "O", &[("1", "A", 2), ("2", "B", 1)]).await;
    assert_eq!(allocations(&order), [vec![at("WEST", 2)], vec![at("WEST", 1)]], "{order}");
    assert_eq!(order["fulfillment_centers"], json!(["WEST"]));
    assert_eq!(order["status"], "allocated");
    assert!(order["trace"].as_array().unwrap().len() > 1, "the decision is explained: {order}");
    api.assert_consistent().await;
}

#[tokio::test]
async fn otherwise_each_line_goes_to_the_first_fc_that_covers_it() {
    let (api, ch) = setup(json!({}), &[("A", "EAST", 5), ("B", "WEST", 1), ("B", "NORTH", 1)]).await;
    let (_, order) = api.order(ch, "O", &[("1", "A", 2), ("2", "B", 1)]).await;
    assert_eq!(allocations(&order), [vec![at("EAST", 2)], vec![at("WEST", 1)]], "{order}");
    assert_eq!(order["fulfillment_centers"], json!(["EAST", "WEST"]));
    api.assert_consistent().await;
}

#[tokio::test]
async fn then_a_line_is_split_in_priority_order_unless_the_channel_forbids_it() {
    let stock = [("A", "EAST", 3), ("A", "WEST", 1), ("A", "NORTH", 4)];
    let (api, ch) = setup(json!({}), &stock).await;
    let (_, order) = api.order(ch, "O", &[("1", "A", 6)]).await;
    assert_eq!(allocations(&order), [vec![at("EAST", 3), at("WEST", 1), at("NORTH", 2)]], "{order}");
    assert_eq!(order["fulfillment_centers"], json!(["EAST", "WEST", "NORTH"]));

    let (api, ch) = setup(json!({"allow_split": false}), &stock).await;
    let (_, order) = api.order(ch, "O", &[("1", "A", 6)]).await;
    assert_eq!(order["status"], "backordered", "{order}");
    assert_eq!((allocations(&order), &order["lines"][0]["backordered"]), (vec![vec![]], &json!(6)));
    api.assert_consistent().await;
}

#[tokio::test]
async fn only_the_channels_active_fcs_sell() {
    let (api, ch) = setup(
        json!({"fulfillment_centers": ["WEST", "NORTH"]}),
        &[("A", "EAST", 9), ("A", "WEST", 0), ("A", "NORTH", 9)],
    )
    .await;
    let (_, order) = api.order(ch, "O", &[("1", "A", 2)]).await;
    assert_eq!(allocations(&order), [vec![at("NORTH", 2)]]);
    api.ok("PATCH", "/api/v1/fulfillment-centers/NORTH", json!({"active": false}), StatusCode::OK).await;
    let (_, order) = api.order(ch, "P", &[("1", "A", 1)]).await;
    assert_eq!(order["status"], "backordered", "{order}");
    api.assert_consistent().await;
}

#[tokio::test]
async fn backordered_units_allocate_when_stock_arrives() {
    let (api, ch) = setup(json!({}), &[("A", "EAST", 2)]).await;
    let (_, order) = api.order(ch, "O", &[("1", "A", 5)]).await;
    assert_eq!(order["status"], "backordered");
    assert_eq!((allocations(&order), &order["lines"][0]["backordered"]), (vec![vec![at("EAST", 2)]], &json!(3)));
    assert_eq!(api.level("A", "EAST").await, (2, 2, 0));

    api.stock("A", "WEST", 10).await;
    let order = api.get(&format!("/api/v1/orders/{}", order["id"])).await;
    assert_eq!(order["status"], "allocated", "{order}");
    assert_eq!(allocations(&order), [vec![at("EAST", 2), at("WEST", 3)]]);
    assert_eq!(order["lines"][0]["backordered"], 0);
    api.assert_consistent().await;
}

#[tokio::test]
async fn an_unmapped_line_needs_attention_until_an_alias_maps_it() {
    let (api, ch) = setup(json!({}), &[("A", "EAST", 5)]).await;
    let (_, order) = api.order(ch, "O", &[("1", "SHOP-A", 2)]).await;
    assert_eq!(order["status"], "needs_attention", "{order}");
    let line = &order["lines"][0];
    assert_eq!((&line["sku"], &line["backordered"], &line["allocations"]), (&Value::Null, &json!(2), &json!([])));
    assert_eq!(api.level("A", "EAST").await, (5, 0, 5));

    api.ok("PATCH", "/api/v1/items/A", json!({"aliases": ["SHOP-A"]}), StatusCode::OK).await;
    let order = api.get(&format!("/api/v1/orders/{}", order["id"])).await;
    assert_eq!((&order["status"], &order["lines"][0]["sku"]), (&json!("allocated"), &json!("A")), "{order}");
    assert_eq!(allocations(&order), [vec![at("EAST", 2)]]);
    assert_eq!(api.level("A", "EAST").await, (5, 2, 3));
    api.assert_consistent().await;
}

#[tokio::test]
async fn an_unmapped_line_allocates_once_a_listing_maps_it() {
    let (api, ch) = setup(json!({}), &[("B", "WEST", 5)]).await;
    let (_, order) = api.order(ch, "O", &[("1", "SHOP-B", 1)]).await;
    assert_eq!(order["status"], "needs_attention");
    let listing = json!({"channel_sku": "SHOP-B", "sku": "B"});
    api.ok("POST", &format!("/api/v1/channels/{ch}/listings"), listing, StatusCode::CREATED).await;
    let order = api.get(&format!("/api/v1/orders/{}", order["id"])).await;
    assert_eq!(order["status"], "allocated", "{order}");
    assert_eq!(allocations(&order), [vec![at("WEST", 1)]]);
    api.assert_consistent().await;
}

#[tokio::test]
async fn the_first_order_line_on_a_channel_creates_its_listing() {
    let (api, ch) = setup(json!({}), &[("A", "EAST", 5)]).await;
    api.order(ch, "O", &[("1", "A", 1)]).await;
    let listings = api.get(&format!("/api/v1/channels/{ch}/listings")).await;
    assert_eq!(listings["listings"][0]["channel_sku"], "A", "{listings}");
    assert_eq!(listings["listings"][0]["quantity"], 4);
    api.assert_consistent().await;
}
