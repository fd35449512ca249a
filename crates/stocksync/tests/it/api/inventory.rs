//! `/inventory`: levels, manual edits, counting corrections, the level list.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::support::{Api, assert_error, assert_has, assert_invalid, keys};

async fn catalog(api: &Api) {
    api.fc("EAST", 1).await;
    api.fc("WEST", 2).await;
    api.item("MUG-1").await;
    api.item("SPOON-1").await;
}

#[tokio::test]
async fn put_sets_on_hand_or_available_and_answers_the_level() {
    let api = Api::new().await;
    catalog(&api).await;
    let level = api.stock("MUG-1", "EAST", 10).await;
    assert_eq!(level, json!({"sku": "MUG-1", "fc": "EAST", "on_hand": 10, "committed": 0, "available": 10}));
    let ch = api.channel("shop", json!({})).await;
    assert_eq!(api.order(ch, "A", &[("1", "MUG-1", 3)]).await.0, StatusCode::CREATED);

    // `available` keeps the committed units: on_hand = committed + available.
    let put = |body| api.call("PUT", "/api/v1/inventory/MUG-1/EAST", Some(&api.operator), Some(body));
    let (status, level) = put(json!({"available": 5, "reason": "recount"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(level, json!({"sku": "MUG-1", "fc": "EAST", "on_hand": 8, "committed": 3, "available": 5}));
    let (_, level) = put(json!({"on_hand": 4})).await;
    assert_eq!(level, json!({"sku": "MUG-1", "fc": "EAST", "on_hand": 4, "committed": 3, "available": 1}));

    assert_invalid(&put(json!({"available": 1, "on_hand": 1})).await, "on_hand");
    assert_invalid(&put(json!({})).await, "available");
    assert_invalid(&put(json!({"on_hand": -1})).await, "on_hand");
    let wrong = put(json!({"on_hand": "4"})).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "malformed_body");
    let to = |path: &str| api.call("PUT", path, Some(&api.operator), Some(json!({"on_hand": 1})));
    assert_error(&to("/api/v1/inventory/NOPE/EAST").await, StatusCode::NOT_FOUND, "not_found");
    assert_error(&to("/api/v1/inventory/MUG-1/NOPE").await, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(api.level("MUG-1", "EAST").await, (4, 3, 1));
    api.assert_consistent().await;
}

#[tokio::test]
async fn get_shows_totals_levels_and_listing_quantities() {
    let api = Api::new().await;
    catalog(&api).await;
    api.bundle("SET-1", &[("MUG-1", 2), ("SPOON-1", 1)]).await;
    api.stock("MUG-1", "EAST", 5).await;
    api.stock("SPOON-1", "EAST", 1).await;
    api.stock("MUG-1", "WEST", 4).await;
    api.stock("SPOON-1", "WEST", 9).await;
    let ch = api.channel("shop", json!({"percent": 50})).await;
    let listing = json!({"channel_sku": "SHOP-MUG", "sku": "MUG-1"});
    api.ok("POST", &format!("/api/v1/channels/{ch}/listings"), listing, StatusCode::CREATED).await;

    let mug = api.get("/api/v1/inventory/MUG-1").await;
    assert_eq!(keys(&mug), ["available", "committed", "kind", "levels", "listings", "on_hand", "sku"]);
    assert_eq!(
        (mug["kind"].as_str(), mug["on_hand"].as_i64(), mug["available"].as_i64()),
        (Some("stock"), Some(9), Some(9))
    );
    assert_eq!(mug["levels"][0], json!({"fc": "EAST", "on_hand": 5, "committed": 0, "available": 5}));
    let listing = &mug["listings"][0];
    assert_has(listing, &["channel", "channel_sku", "quantity", "last_pushed_quantity", "last_pushed_at", "state"]);
    assert_eq!((listing["channel"].as_i64(), &listing["channel_sku"]), (Some(ch), &json!("SHOP-MUG")));
    assert_eq!(listing["quantity"], 4, "9 units at 50%, rounded down");
    assert!(["in_sync", "pending", "failed"].contains(&listing["state"].as_str().unwrap()), "{listing}");

    // A bundle: buildable counts per FC (EAST: min(5/2, 1/1) = 1; WEST: min(4/2, 9) = 2).
    let set = api.get("/api/v1/inventory/SET-1").await;
    assert_eq!(set["kind"], "bundle");
    assert_eq!(set["available"], 3);
    let per_fc: Vec<(&str, i64)> = set["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["fc"].as_str().unwrap(), l["available"].as_i64().unwrap()))
        .collect();
    assert_eq!(per_fc, [("EAST", 1), ("WEST", 2)]);
    let missing = api.call("GET", "/api/v1/inventory/NOPE", Some(&api.viewer), None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    api.assert_consistent().await;
}

#[tokio::test]
async fn adjustments_add_a_delta_and_never_go_below_zero() {
    let api = Api::new().await;
    catalog(&api).await;
    api.stock("MUG-1", "EAST", 3).await;
    let adjust = |delta: Value| {
        let body = json!({"delta": delta, "reason": "damaged"});
        api.call("POST", "/api/v1/inventory/MUG-1/EAST/adjustments", Some(&api.operator), Some(body))
    };
    let (status, level) = adjust(json!(4)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(level, json!({"sku": "MUG-1", "fc": "EAST", "on_hand": 7, "committed": 0, "available": 7}));
    assert_eq!(adjust(json!(-2)).await.1["on_hand"], 5);
    assert_invalid(&adjust(json!(-6)).await, "delta");
    assert_eq!(api.level("MUG-1", "EAST").await, (5, 0, 5));
    let none = api.call("POST", "/api/v1/inventory/MUG-1/EAST/adjustments", Some(&api.operator), Some(json!({})));
    assert_invalid(&none.await, "delta");
    assert_error(&adjust(json!(1.5)).await, StatusCode::BAD_REQUEST, "malformed_body");
    let unknown =
        api.call("POST", "/api/v1/inventory/NOPE/EAST/adjustments", Some(&api.operator), Some(json!({"delta": 1})));
    assert_error(&unknown.await, StatusCode::NOT_FOUND, "not_found");
    api.assert_consistent().await;
}

#[tokio::test]
async fn a_count_below_committed_backorders_the_newest_order() {
    let api = Api::new().await;
    catalog(&api).await;
    api.stock("MUG-1", "EAST", 4).await;
    let ch = api.channel("shop", json!({})).await;
    let placed = |at: &str, ext: &str| {
        let body = json!({"external_id": ext, "placed_at": at, "lines": [{"line_id": "1", "channel_sku": "MUG-1", "quantity": 2}]});
        api.order_body(ch, body)
    };
    let (_, old) = placed("2024-05-01T10:00:00Z", "OLD").await;
    let (_, new) = placed("2024-05-01T11:00:00Z", "NEW").await;
    assert_eq!((old["status"].as_str(), new["status"].as_str()), (Some("allocated"), Some("allocated")));

    // The count says 3: the newest order gives back the one missing unit.
    let put = api.call("PUT", "/api/v1/inventory/MUG-1/EAST", Some(&api.operator), Some(json!({"on_hand": 3}))).await;
    assert_eq!(put.1, json!({"sku": "MUG-1", "fc": "EAST", "on_hand": 3, "committed": 3, "available": 0}));
    let old = api.get(&format!("/api/v1/orders/{}", old["id"])).await;
    let new = api.get(&format!("/api/v1/orders/{}", new["id"])).await;
    assert_eq!((&old["status"], &old["lines"][0]["backordered"]), (&json!("allocated"), &json!(0)));
    assert_eq!((&new["status"], &new["lines"][0]["backordered"]), (&json!("backordered"), &json!(1)));
    assert_eq!(new["lines"][0]["allocations"][0]["quantity"], 1);

    // A count of 0 takes everything back, newest order first.
    api.stock("MUG-1", "EAST", 0).await;
    let old = api.get(&format!("/api/v1/orders/{}", old["id"])).await;
    assert_eq!((&old["status"], &old["lines"][0]["backordered"]), (&json!("backordered"), &json!(2)));
    assert_eq!(api.level("MUG-1", "EAST").await, (0, 0, 0));
    api.assert_consistent().await;
}

#[tokio::test]
async fn the_level_list_filters_and_pages() {
    let api = Api::new().await;
    catalog(&api).await;
    api.item("MUG-2").await;
    for (sku, fc, n) in [("MUG-1", "EAST", 5), ("MUG-1", "WEST", 1), ("MUG-2", "EAST", 2), ("SPOON-1", "WEST", 7)] {
        api.stock(sku, fc, n).await;
    }
    let rows = |v: &Value| -> Vec<String> {
        v["levels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| format!("{}@{}", l["sku"].as_str().unwrap(), l["fc"].as_str().unwrap()))
            .collect()
    };
    let all = api.get("/api/v1/inventory").await;
    assert_eq!(keys(&all), ["levels", "next_cursor"]);
    assert_eq!(rows(&all), ["MUG-1@EAST", "MUG-1@WEST", "MUG-2@EAST", "SPOON-1@WEST"]);
    assert_eq!(keys(&all["levels"][0]), ["available", "committed", "fc", "on_hand", "sku"]);
    assert_eq!(rows(&api.get("/api/v1/inventory?fc=WEST").await), ["MUG-1@WEST", "SPOON-1@WEST"]);
    assert_eq!(rows(&api.get("/api/v1/inventory?sku_prefix=MUG-").await), ["MUG-1@EAST", "MUG-1@WEST", "MUG-2@EAST"]);
    assert_eq!(rows(&api.get("/api/v1/inventory?available_below=3").await), ["MUG-1@WEST", "MUG-2@EAST"]);

    let mut seen = Vec::new();
    let mut path = "/api/v1/inventory?limit=1".to_owned();
    loop {
        let page = api.get(&path).await;
        seen.extend(rows(&page));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/inventory?limit=1&cursor={c}"),
            None => break,
        }
        assert!(seen.len() <= 4, "paging does not end");
    }
    assert_eq!(seen, rows(&all));
    let page = api.get("/api/v1/inventory?limit=4").await;
    let end = api.get(&format!("/api/v1/inventory?limit=4&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!((rows(&end).len(), &end["next_cursor"]), (0, &Value::Null));

    let bad = |q: &str| api.call("GET", &format!("/api/v1/inventory?{q}"), Some(&api.viewer), None);
    assert_invalid(&bad("limit=1001").await, "limit");
    assert_invalid(&bad("available_below=lots").await, "available_below");
    assert_invalid(&bad("cursor=abc").await, "cursor");
    api.assert_consistent().await;
}

#[tokio::test]
async fn operators_edit_stock_and_viewers_do_not() {
    let api = Api::new().await;
    catalog(&api).await;
    let put = |token| api.call("PUT", "/api/v1/inventory/MUG-1/EAST", Some(token), Some(json!({"on_hand": 2})));
    assert_error(&put(&api.viewer).await, StatusCode::FORBIDDEN, "forbidden");
    let adjust =
        api.call("POST", "/api/v1/inventory/MUG-1/EAST/adjustments", Some(&api.viewer), Some(json!({"delta": 1})));
    assert_error(&adjust.await, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(put(&api.operator).await.0, StatusCode::OK);
    assert_eq!(api.call("GET", "/api/v1/inventory/MUG-1", Some(&api.viewer), None).await.0, StatusCode::OK);
    assert_eq!(api.call("GET", "/api/v1/inventory", Some(&api.viewer), None).await.0, StatusCode::OK);
    api.assert_consistent().await;
}
