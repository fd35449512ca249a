//! Etsy contract, against Etsy's generated OAS 3.0 document: the inventory
//! PUT bodies the connector sends fit `updateListingInventory`'s request
//! schema (the read-only keys the GET returns are not in it), and the
//! simulator's receipts, inventories, listings and errors fit their
//! component schemas; the parameters and auth header used are the spec's.

use serde_json::{Value, json};
use stocksync_channels::sim::Faults;
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::etsy::ItemSeed;

use crate::etsy::{KEYSTRING, SHARED_SECRET, SHOP, TOKEN, entry, shop, start};
use crate::specs::{self, Oas};

fn load() -> Option<Value> {
    Some(specs::read_json(&specs::dir()?.join("etsy/3.0.0.json")))
}

const INVENTORY: &str = "/v3/application/listings/{listing_id}/inventory";

#[test]
fn the_parameters_and_auth_header_used_are_the_specs() {
    let Some(spec) = load() else { return };
    let receipts = specs::parameter_names(&spec, "/v3/application/shops/{shop_id}/receipts", "get");
    for p in ["min_last_modified", "max_last_modified", "limit", "offset", "sort_on", "sort_order"] {
        assert!(receipts.iter().any(|x| x == p), "getShopReceipts has no {p}: {receipts:?}");
    }
    let listings = specs::parameter_names(&spec, "/v3/application/shops/{shop_id}/listings", "get");
    for p in ["state", "includes", "limit", "offset"] {
        assert!(listings.iter().any(|x| x == p), "getListingsByShop has no {p}: {listings:?}");
    }
    specs::parameter_names(&spec, INVENTORY, "get");
    specs::parameter_names(&spec, INVENTORY, "put");
    assert_eq!(spec["components"]["securitySchemes"]["api_key"]["name"], "x-api-key");
}

#[tokio::test]
async fn inventory_writes_fit_the_put_schema_and_answers_their_components() {
    let Some(spec) = load() else { return };
    let oas = Oas::load(&spec);
    let put_schema = specs::strictly(
        spec["paths"][INVENTORY]["put"]["requestBody"]["content"]["application/json"]["schema"].clone(),
    );
    let (sim, running, c) = start(shop(Faults::default())).await;
    let shirt = sim.add_item(ItemSeed { sku: "T-RED".into(), quantity: 9, listing: Some("Tee".into()) });
    sim.add_item(ItemSeed { sku: "T-BLUE".into(), quantity: 7, listing: Some("Tee".into()) });
    let single = sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, listing: None });

    let client = crate::client();
    let get = |path: String| {
        client
            .get(format!("{}{path}", running.url()))
            .header("x-api-key", format!("{KEYSTRING}:{SHARED_SECRET}"))
            .bearer_auth(TOKEN)
    };
    let read: Value =
        get(format!("/v3/application/listings/{shirt}/inventory")).send().await.unwrap().json().await.unwrap();
    oas.assert_valid("ListingInventoryWithAssociations", &read);
    let as_read = oas.errors(put_schema.clone(), &read);
    assert!(!as_read.is_empty(), "the GET shape is not a valid PUT body");

    let results = c.push(&[entry("T-RED", 3, Some(shirt)), entry("A-1", 0, Some(single))]).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let writes = sim.inventory_writes();
    assert_eq!(writes.len(), 2);
    for body in &writes {
        let errors = oas.errors(put_schema.clone(), body);
        assert!(errors.is_empty(), "{errors:?}\n{body:#}");
    }
    let res = client
        .put(format!("{}/v3/application/listings/{shirt}/inventory", running.url()))
        .header("x-api-key", format!("{KEYSTRING}:{SHARED_SECRET}"))
        .bearer_auth(TOKEN)
        .json(&writes[0])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    oas.assert_valid("ListingInventory", &res.json().await.unwrap());
    let refused = client
        .put(format!("{}/v3/application/listings/{shirt}/inventory", running.url()))
        .header("x-api-key", format!("{KEYSTRING}:{SHARED_SECRET}"))
        .bearer_auth(TOKEN)
        .json(&read)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 400, "the simulator refuses read-only keys as Etsy does");
    oas.assert_valid("ErrorSchema", &refused.json().await.unwrap());

    let listings: Value = get(format!("/v3/application/shops/{SHOP}/listings?includes=Inventory&limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    oas.assert_valid("ShopListingsWithAssociations", &listings);
}

#[tokio::test]
async fn simulated_receipts_and_errors_fit_the_components() {
    let Some(spec) = load() else { return };
    let oas = Oas::load(&spec);
    let misspelt = json!({ "count": 1, "results": [{ "receipt_id": "1", "status": "cancelled", "transaction": [] }] });
    let caught = oas.errors(json!({ "$ref": "#/components/schemas/ShopReceipts" }), &misspelt);
    assert!(caught.len() >= 3, "a string id, an unknown status, a misspelt field: {caught:?}");
    let (sim, running, _) = start(shop(Faults::default())).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, listing: None });
    let a = sim.apply(OrderChange::create(&[("A-1", 2), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    sim.apply(OrderChange::modify(&a.id).cancel()).unwrap();
    sim.apply(OrderChange::modify(&b.id).ship()).unwrap();
    let client = crate::client();
    let url =
        format!("{}/v3/application/shops/{SHOP}/receipts?min_last_modified=946684800&limit=1&offset=1", running.url());
    let page: Value = client
        .get(&url)
        .header("x-api-key", format!("{KEYSTRING}:{SHARED_SECRET}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    oas.assert_valid("ShopReceipts", &page);
    assert_eq!(page["count"], 2);
    let res = client.get(&url).header("x-api-key", KEYSTRING).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.headers().get("x-remaining-today").is_none(), "refused before the budget");
    oas.assert_valid("ErrorSchema", &res.json().await.unwrap());
}
