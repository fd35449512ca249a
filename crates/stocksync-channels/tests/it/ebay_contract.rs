//! eBay contract: what the simulator serves and what the connector sends
//! validate, strictly, against the OAS3 component schemas of the official
//! Sell Fulfillment and Sell Inventory specs, and the paths and query
//! parameters used exist there.

use serde_json::{Value, json};
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::ebay::ItemSeed;
use stocksync_channels::sim::{Faults, Running};

use crate::ebay::{TOKEN, entry, start};
use crate::specs::{self, Oas};

struct Specs {
    fulfillment: Value,
    inventory: Value,
}

fn load() -> Option<Specs> {
    let dir = specs::dir()?;
    Some(Specs {
        fulfillment: specs::read_json(&dir.join("ebay/sell_fulfillment_v1_oas3.json")),
        inventory: specs::read_json(&dir.join("ebay/sell_inventory_v1_oas3.json")),
    })
}

async fn get(running: &Running, path: &str, token: &str) -> (u16, Value) {
    let res = crate::client().get(format!("{}{path}", running.url())).bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// `{"errors":[Error…]}`, the container every eBay error answer uses.
fn error_container() -> Value {
    json!({
        "type": "object",
        "required": ["errors"],
        "additionalProperties": false,
        "properties": { "errors": { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/Error" } } }
    })
}

#[test]
fn the_paths_and_parameters_used_exist_in_the_specs() {
    let Some(s) = load() else { return };
    let order = specs::parameter_names(&s.fulfillment, "/order", "get");
    for p in ["filter", "limit", "offset"] {
        assert!(order.iter().any(|x| x == p), "getOrders has no {p} parameter: {order:?}");
    }
    specs::parameter_names(&s.inventory, "/bulk_update_price_quantity", "post");
    let items = specs::parameter_names(&s.inventory, "/inventory_item", "get");
    assert!(items.iter().any(|x| x == "limit") && items.iter().any(|x| x == "offset"), "{items:?}");
    for (spec, base) in [(&s.fulfillment, "/sell/fulfillment/v1"), (&s.inventory, "/sell/inventory/v1")] {
        let servers = spec["servers"].to_string();
        assert!(servers.contains(base), "{base} is not a server path of the spec: {servers}");
    }
}

#[tokio::test]
async fn simulated_orders_pages_are_order_search_paged_collections() {
    let Some(s) = load() else { return };
    let oas = Oas::load(&s.fulfillment);
    let misspelt = json!({ "orders": [{ "orderID": "1", "lineItems": [{ "quantity": "2" }] }] });
    let caught = oas.errors(json!({ "$ref": "#/components/schemas/OrderSearchPagedCollection" }), &misspelt);
    assert_eq!(caught.len(), 2, "strict validation catches a misspelt field and a wrong type: {caught:?}");
    let (sim, running) = start(Faults::default()).await;
    let a = sim.apply(OrderChange::create(&[("A-1", 2), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    sim.apply(OrderChange::create(&[("D-4", 1)])).unwrap();
    sim.apply(OrderChange::modify(&a.id).cancel()).unwrap();
    sim.apply(OrderChange::modify(&b.id).ship()).unwrap();
    let filter = "lastmodifieddate:%5B2020-01-01T00:00:00.000Z..%5D";
    let (status, page) =
        get(&running, &format!("/sell/fulfillment/v1/order?filter={filter}&limit=2&offset=0"), TOKEN).await;
    assert_eq!(status, 200);
    oas.assert_valid("OrderSearchPagedCollection", &page);
    assert_eq!((page["total"].as_u64(), page["orders"].as_array().map(Vec::len)), (Some(3), Some(2)));
    assert!(page["next"].as_str().is_some_and(|n| n.contains("offset=2")), "{page:#}");
    let (_, last) = get(&running, &format!("/sell/fulfillment/v1/order?filter={filter}&limit=2&offset=2"), TOKEN).await;
    oas.assert_valid("OrderSearchPagedCollection", &last);
    assert!(last.get("next").is_none());

    let (status, denied) = get(&running, "/sell/fulfillment/v1/order", "wrong").await;
    assert_eq!(status, 401);
    assert!(oas.errors(error_container(), &denied).is_empty(), "{denied}");
}

#[tokio::test]
async fn pushes_and_their_results_are_bulk_price_quantity_shapes() {
    let Some(s) = load() else { return };
    let oas = Oas::load(&s.inventory);
    let (sim, running) = start(Faults::default()).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, offer_ids: vec!["9001".into()] });
    let c = stocksync_channels::Connector::with_policy(crate::ebay::config(running.url(), TOKEN), crate::ebay::fast())
        .unwrap();
    let results = c.push(&[entry("A-1", 3, Some("9001")), entry("NOPE", 1, None)]).await;
    assert!(results[0].is_ok() && results[1].is_err());
    for body in sim.bulk_requests() {
        oas.assert_valid("BulkPriceQuantity", &body);
    }

    let client = crate::client();
    let url = format!("{}/sell/inventory/v1/bulk_update_price_quantity", running.url());
    for (body, want) in [
        (json!({"requests": [{"sku": "A-1", "shipToLocationAvailability": {"quantity": 2}}]}), 200),
        (json!({"requests": [{"sku": "A-1", "shipToLocationAvailability": {"quantity": 2}}, {"sku": "NOPE"}]}), 207),
    ] {
        let res = client.post(&url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert_eq!(res.status().as_u16(), want);
        oas.assert_valid("BulkPriceQuantityResponse", &res.json().await.unwrap());
    }

    let (status, items) = get(&running, "/sell/inventory/v1/inventory_item?limit=1&offset=0", TOKEN).await;
    assert_eq!(status, 200);
    oas.assert_valid("InventoryItems", &items);

    sim.faults.set(Faults { throttle: 1.0, retry_after_s: 2, ..Faults::default() });
    let res = client
        .get(format!("{}/sell/inventory/v1/inventory_item", running.url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert_eq!(res.headers()["retry-after"], "2");
    let throttled: Value = res.json().await.unwrap();
    assert!(oas.errors(error_container(), &throttled).is_empty(), "{throttled}");
}
