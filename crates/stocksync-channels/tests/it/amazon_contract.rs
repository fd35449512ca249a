//! Amazon contract: what the simulator serves and what the connector sends
//! validate, strictly, against the definitions of the official Orders v0
//! and Listings Items 2021-08-01 Swagger documents, and the operations,
//! parameters and rate tables used are the spec's.

use serde_json::{Value, json};
use stocksync_channels::amazon::RATES;
use stocksync_channels::sim::amazon::{AmazonSim, ItemSeed};
use stocksync_channels::sim::control::OrderChange;
use stocksync_channels::sim::{Faults, Running};

use crate::amazon::{account, ahead, connector, entry, fast, quick, start};
use crate::specs::{self, Oas};

struct Specs {
    orders: Value,
    listings: Value,
}

fn load() -> Option<Specs> {
    let dir = specs::dir()?;
    Some(Specs {
        orders: specs::read_json(&dir.join("amazon/ordersV0.json")),
        listings: specs::read_json(&dir.join("amazon/listingsItems_2021-08-01.json")),
    })
}

#[test]
fn the_operations_parameters_and_usage_plans_are_the_specs() {
    let Some(s) = load() else { return };
    let orders = specs::parameter_names(&s.orders, "/orders/v0/orders", "get");
    for p in ["MarketplaceIds", "LastUpdatedAfter", "LastUpdatedBefore", "MaxResultsPerPage", "NextToken"] {
        assert!(orders.iter().any(|x| x == p), "getOrders has no {p}: {orders:?}");
    }
    let items = specs::parameter_names(&s.orders, "/orders/v0/orders/{orderId}/orderItems", "get");
    assert!(items.iter().any(|x| x == "NextToken"), "{items:?}");
    let patch = specs::parameter_names(&s.listings, "/listings/2021-08-01/items/{sellerId}/{sku}", "patch");
    for p in ["sellerId", "sku", "marketplaceIds", "issueLocale"] {
        assert!(patch.iter().any(|x| x == p), "patchListingsItem has no {p}: {patch:?}");
    }
    let search = specs::parameter_names(&s.listings, "/listings/2021-08-01/items/{sellerId}", "get");
    for p in ["marketplaceIds", "includedData", "pageSize", "pageToken"] {
        assert!(search.iter().any(|x| x == p), "searchListingsItems has no {p}: {search:?}");
    }
    // The connector's buckets are the usage plans each operation's description states.
    let plan = |spec: &Value, path: &str, method: &str| -> String {
        spec["paths"][path][method]["description"].as_str().unwrap_or_default().replace(' ', "")
    };
    for (spec, path, method, rate) in [
        (&s.orders, "/orders/v0/orders", "get", RATES.get_orders),
        (&s.orders, "/orders/v0/orders/{orderId}/orderItems", "get", RATES.get_order_items),
        (&s.listings, "/listings/2021-08-01/items/{sellerId}/{sku}", "patch", RATES.patch_listings_item),
        (&s.listings, "/listings/2021-08-01/items/{sellerId}", "get", RATES.search_listings_items),
    ] {
        let row = format!("|{}|{}|", rate.per_second, rate.burst);
        assert!(plan(spec, path, method).contains(&row), "{method} {path}: no usage plan row {row}");
    }
}

async fn get(running: &Running, path: &str, token: &str) -> (u16, Value) {
    let url = format!("{}{path}", running.url());
    let res = crate::client().get(url).header("x-amz-access-token", token).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn token(running: &Running) -> String {
    let a = account();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", a.refresh_token.as_str()),
        ("client_id", a.client_id.as_str()),
        ("client_secret", a.client_secret.as_str()),
    ];
    let body = serde_urlencoded::to_string(form).unwrap();
    let res = crate::client()
        .post(format!("{}/auth/o2/token", running.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let answer: Value = res.json().await.unwrap();
    assert_eq!((answer["token_type"].as_str(), answer["expires_in"].as_u64()), (Some("bearer"), Some(3600)));
    answer["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn simulated_orders_items_and_errors_are_the_specs_shapes() {
    let Some(s) = load() else { return };
    let oas = Oas::load_swagger(&s.orders);
    let misspelt = json!({ "payload": { "Orders": [{ "AmazonOrderID": "1", "OrderStatus": "Cancelled" }] } });
    let caught = oas.errors(json!({ "$ref": "#/components/schemas/GetOrdersResponse" }), &misspelt);
    assert!(caught.len() >= 3, "a misspelt field, missing required fields, an unknown status: {caught:?}");
    let (sim, running) =
        start(AmazonSim::new(account(), Faults::default()).with_rates(quick()).with_clock(ahead())).await;
    let a = sim.apply(OrderChange::create(&[("A-1", 2), ("B-2", 1)])).unwrap();
    let b = sim.apply(OrderChange::create(&[("C-3", 1)])).unwrap();
    sim.apply(OrderChange::create(&[("D-4", 1)])).unwrap();
    sim.apply(OrderChange::modify(&a.id).cancel()).unwrap();
    sim.apply(OrderChange::modify(&b.id).ship()).unwrap();
    let token = token(&running).await;
    let query = "MarketplaceIds=ATVPDKIKX0DER&LastUpdatedAfter=2020-01-01T00:00:00Z&MaxResultsPerPage=2";
    let (status, page) = get(&running, &format!("/orders/v0/orders?{query}"), &token).await;
    assert_eq!(status, 200);
    oas.assert_valid("GetOrdersResponse", &page);
    let next = page["payload"]["NextToken"].as_str().expect("a second page");
    let (_, last) =
        get(&running, &format!("/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&NextToken={next}"), &token).await;
    oas.assert_valid("GetOrdersResponse", &last);
    assert!(last["payload"].get("NextToken").is_none());
    let (status, items) = get(&running, &format!("/orders/v0/orders/{}/orderItems", a.id), &token).await;
    assert_eq!(status, 200);
    oas.assert_valid("GetOrderItemsResponse", &items);

    for (path, want) in [
        (
            "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER&LastUpdatedAfter=2020-01-01T00:00:00Z&LastUpdatedBefore=2099-01-01T00:00:00Z",
            400,
        ),
        ("/orders/v0/orders/000-0000000-0000000/orderItems", 404),
    ] {
        let (status, body) = get(&running, path, &token).await;
        assert_eq!(status, want, "{body}");
        oas.assert_valid("GetOrdersResponse", &body);
    }
    let (status, denied) = get(&running, "/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER", "Atza|forged").await;
    assert_eq!(status, 403);
    oas.assert_valid("GetOrdersResponse", &denied);
    sim.faults.set(Faults { throttle: 1.0, ..Faults::default() });
    let res = crate::client()
        .get(format!("{}/orders/v0/orders?MarketplaceIds=ATVPDKIKX0DER", running.url()))
        .header("x-amz-access-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().get("retry-after").is_none(), "Amazon sends no Retry-After");
    let throttled: Value = res.json().await.unwrap();
    oas.assert_valid("GetOrdersResponse", &throttled);
    assert_eq!(throttled["errors"][0]["code"], "QuotaExceeded");
}

#[tokio::test]
async fn patches_and_listing_answers_are_the_specs_shapes() {
    let Some(s) = load() else { return };
    let oas = Oas::load_swagger(&s.listings);
    let (sim, running) = start(AmazonSim::new(account(), Faults::default())).await;
    sim.add_item(ItemSeed { sku: "A-1".into(), quantity: 1, product_type: Some("SHIRT".into()) });
    let c = connector(&running, quick(), fast());
    let results = c.push(&[entry("A-1", 3, Some("SHIRT")), entry("NOPE", 1, None)]).await;
    assert!(results[0].is_ok() && results[1].is_err());
    for body in sim.patches() {
        oas.assert_valid("ListingsItemPatchRequest", &body);
    }
    let token = token(&running).await;
    let client = crate::client();
    let url = format!("{}/listings/2021-08-01/items/A2SIMSELLER/A-1?marketplaceIds=ATVPDKIKX0DER", running.url());
    for (body, want) in [
        (
            json!({"productType": "SHIRT", "patches": [{"op": "merge", "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 2}]}]}),
            "ACCEPTED",
        ),
        (json!({"productType": "SHIRT", "patches": []}), "INVALID"),
    ] {
        let res = client.patch(&url).header("x-amz-access-token", &token).json(&body).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        let answer: Value = res.json().await.unwrap();
        oas.assert_valid("ListingsItemSubmissionResponse", &answer);
        assert_eq!(answer["status"], want);
    }
    let path = "/listings/2021-08-01/items/A2SIMSELLER?marketplaceIds=ATVPDKIKX0DER&includedData=summaries,fulfillmentAvailability";
    let (status, found) = get(&running, path, &token).await;
    assert_eq!(status, 200);
    oas.assert_valid("ItemSearchResults", &found);
    let (status, denied) = get(&running, path, "Atza|forged").await;
    assert_eq!(status, 403);
    oas.assert_valid("ErrorList", &denied);
}
