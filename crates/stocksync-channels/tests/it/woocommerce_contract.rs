//! WooCommerce contract. WooCommerce publishes no machine-readable spec, so
//! the shapes live in `tests/it/schemas/woocommerce.json`, written from its
//! REST API docs: what the simulator serves (orders, webhook payloads,
//! batch answers, WP_Error bodies) and what the connector sends (batch
//! bodies) validate against it.

use serde_json::{Value, json};
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::woocommerce::ItemSeed;
use stocksync_channels::sim::{Faults, Running};

use crate::woocommerce::{KEY, SECRET, entry, start};

fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/schemas/woocommerce.json");
    serde_json::from_slice(&std::fs::read(path).expect("the WooCommerce schema is in the repository")).unwrap()
}

/// Errors of `instance` against definition `name`.
fn errors(name: &str, instance: &Value) -> Vec<String> {
    let mut root = schema();
    root["$ref"] = json!(format!("#/definitions/{name}"));
    let validator = jsonschema::draft7::new(&root).unwrap_or_else(|e| panic!("schema does not compile: {e}"));
    validator.iter_errors(instance).map(|e| format!("{e} at {}", e.instance_path())).collect()
}

fn assert_valid(name: &str, instance: &Value) {
    let errors = errors(name, instance);
    assert!(errors.is_empty(), "{name} does not validate:\n{}\n{instance:#}", errors.join("\n"));
}

async fn get(running: &Running, path: &str, key: &str) -> (u16, Value) {
    let url = format!("{}/wp-json/wc/v3{path}", running.url());
    let res = crate::client().get(url).basic_auth(key, Some(SECRET)).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[test]
fn the_schema_is_strict() {
    let misspelt = json!([{ "id": 1, "status": "shipped", "date_created_gmt": "2026-01-01T10:00:00",
        "date_modified_gmt": "2026-01-01T10:00:00Z", "line_items": [{ "id": 1, "product_id": 2, "variation_id": 0,
        "qty": 1, "sku": "A" }] }]);
    let caught = errors("orders", &misspelt);
    assert!(caught.len() >= 3, "an unknown status, a time with an offset, a misspelt field: {caught:?}");
}

#[tokio::test]
async fn simulated_orders_and_errors_fit_the_documented_shapes() {
    let (sim, running, _) = start(Faults::default()).await;
    let a = sim.apply(OrderChange::create(&[("A-1", 2), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    sim.apply(OrderChange::create(&[("D-4", 1)])).unwrap();
    sim.apply(OrderChange::modify(&a.id).cancel()).unwrap();
    sim.apply(OrderChange::modify(&b.id).ship()).unwrap();
    let (status, page) = get(&running, "/orders?per_page=2&page=1&modified_after=2020-01-01T00:00:00", KEY).await;
    assert_eq!(status, 200);
    assert_valid("orders", &page);
    assert_eq!(page.as_array().map(Vec::len), Some(2));
    let statuses: Vec<&str> = page.as_array().unwrap().iter().filter_map(|o| o["status"].as_str()).collect();
    assert_eq!(statuses, ["cancelled", "completed"]);

    let (status, denied) = get(&running, "/orders", "ck_wrong").await;
    assert_eq!(status, 401);
    assert_valid("wp_error", &denied);
    let (status, invalid) = get(&running, "/orders?per_page=101", KEY).await;
    assert_eq!(status, 400);
    assert_valid("wp_error", &invalid);
}

#[tokio::test]
async fn batch_bodies_and_answers_fit_the_documented_shapes() {
    let (sim, running, c) = start(Faults::default()).await;
    let a = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, parent: None });
    let v = sim.add_item(ItemSeed { sku: "T-RED".into(), quantity: 1, parent: Some("T".into()) });
    let results = c.push(&[entry("A-1", 3, Some(&a)), entry("T-RED", 0, Some(&v)), entry("X", 1, Some("999"))]).await;
    assert!(results[0].is_ok() && results[1].is_ok() && results[2].is_err(), "{results:?}");
    let bodies = sim.batch_requests();
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert_valid("batch_request", body);
    }
    let url = format!("{}/wp-json/wc/v3/products/batch", running.url());
    let body = json!({ "update": [{ "id": a.parse::<u64>().unwrap(), "stock_quantity": 2 }, { "id": 999, "stock_quantity": 1 }] });
    let res = crate::client().post(url).basic_auth(KEY, Some(SECRET)).json(&body).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_valid("batch_response", &answer);
    assert!(answer["update"][1]["error"]["code"].is_string(), "{answer:#}");
    let (status, products) = get(&running, "/products?per_page=100", KEY).await;
    assert_eq!(status, 200);
    for p in products.as_array().unwrap() {
        assert_valid("product", p);
    }
}
