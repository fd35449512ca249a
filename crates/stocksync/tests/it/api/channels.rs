//! `/channels` and `/channels/{id}/listings`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::support::{Api, assert_error, assert_has, assert_invalid, keys};

const SECRET: &str = "whsec-very-secret-signing-key-42";

#[tokio::test]
async fn create_answers_the_channel_with_settings_and_never_the_credentials() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    let body = json!({"name": "My store", "kind": "api", "base_url": "https://shop.example/stock",
        "credentials": {"signing_secret": SECRET}, "settings": {"fulfillment_centers": ["EAST"], "percent": 80}});
    let created = api.send("POST", "/api/v1/channels", Some(&api.admin), &[], Some(body.to_string())).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let ch = created.json;
    assert_has(&ch, &["id", "name", "kind", "base_url", "settings", "warnings"]);
    assert_eq!(
        (&ch["name"], &ch["kind"], &ch["base_url"]),
        (&json!("My store"), &json!("api"), &json!("https://shop.example/stock"))
    );
    let s = &ch["settings"];
    assert_has(
        s,
        &[
            "import_orders",
            "push_quantities",
            "import_quantities",
            "fulfillment_centers",
            "allow_split",
            "percent",
            "min_threshold",
            "max_visible",
            "poll_interval_s",
        ],
    );
    assert_eq!((&s["import_orders"], &s["allow_split"], &s["percent"]), (&json!(true), &json!(true), &json!(80)));
    assert_eq!((&s["fulfillment_centers"], &s["max_visible"]), (&json!(["EAST"]), &Value::Null));
    assert_eq!(ch["warnings"], json!([]));

    let id = ch["id"].as_i64().unwrap();
    let one = api.send("GET", &format!("/api/v1/channels/{id}"), Some(&api.viewer), &[], None).await;
    assert_eq!(one.json, ch);
    let list = api.send("GET", "/api/v1/channels", Some(&api.viewer), &[], None).await;
    assert_eq!(keys(&list.json), ["channels"]);
    assert_eq!(list.json["channels"], json!([ch]));
    let patched = api.send(
        "PATCH",
        &format!("/api/v1/channels/{id}"),
        Some(&api.admin),
        &[],
        Some(json!({"name": "Store"}).to_string()),
    );
    for text in [created.text, one.text, list.text, patched.await.text] {
        assert!(!text.contains(SECRET), "credentials leaked: {text}");
    }
    api.assert_consistent().await;
}

#[tokio::test]
async fn import_orders_off_warns_and_refuses_orders_without_deducting() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    api.item("MUG-1").await;
    api.stock("MUG-1", "EAST", 5).await;
    let body = json!({"name": "quiet", "kind": "ebay", "settings": {"import_orders": false}});
    let ch = api.ok("POST", "/api/v1/channels", body, StatusCode::CREATED).await;
    let warnings = ch["warnings"].as_array().unwrap();
    assert!(warnings.iter().any(|w| w.as_str().unwrap().contains("import_orders")), "{ch}");
    let id = ch["id"].as_i64().unwrap();

    let refused = api.order(id, "A-1", &[("1", "MUG-1", 2)]).await;
    assert_error(&refused, StatusCode::CONFLICT, "conflict");
    assert_eq!(api.level("MUG-1", "EAST").await, (5, 0, 5));
    assert_eq!(api.get("/api/v1/orders").await["orders"], json!([]));

    let on = api
        .ok("PATCH", &format!("/api/v1/channels/{id}"), json!({"settings": {"import_orders": true}}), StatusCode::OK)
        .await;
    assert_eq!(on["warnings"], json!([]));
    assert_eq!(api.order(id, "A-1", &[("1", "MUG-1", 2)]).await.0, StatusCode::CREATED);
    assert_eq!(api.level("MUG-1", "EAST").await, (5, 2, 3));
    api.assert_consistent().await;
}

#[tokio::test]
async fn patch_changes_only_the_given_settings() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    api.fc("WEST", 2).await;
    let id = api.channel("shop", json!({"percent": 50, "max_visible": 10, "allow_split": false})).await;
    let path = format!("/api/v1/channels/{id}");
    let ch = api.ok("PATCH", &path, json!({"settings": {"min_threshold": 2}}), StatusCode::OK).await;
    let s = &ch["settings"];
    assert_eq!(
        (&s["percent"], &s["max_visible"], &s["allow_split"], &s["min_threshold"]),
        (&json!(50), &json!(10), &json!(false), &json!(2))
    );
    let ch = api
        .ok("PATCH", &path, json!({"settings": {"max_visible": null, "fulfillment_centers": ["WEST"]}}), StatusCode::OK)
        .await;
    assert_eq!(
        (&ch["settings"]["max_visible"], &ch["settings"]["fulfillment_centers"]),
        (&Value::Null, &json!(["WEST"]))
    );
    assert_eq!(ch["settings"]["percent"], 50);
    assert_eq!(api.get(&path).await, ch);

    let patch = |body| api.call("PATCH", &path, Some(&api.admin), Some(body));
    assert_invalid(&patch(json!({"settings": {"percent": 101}})).await, "settings.percent");
    assert_invalid(
        &patch(json!({"settings": {"fulfillment_centers": ["NOPE"]}})).await,
        "settings.fulfillment_centers[0]",
    );
    assert_invalid(&patch(json!({"base_url": "ftp://x"})).await, "base_url");
    let wrong = patch(json!({"settings": {"allow_split": "yes"}})).await;
    assert_error(&wrong, StatusCode::BAD_REQUEST, "malformed_body");
    assert_eq!(wrong.1["error"]["details"][0]["field"], "settings.allow_split");
    assert_eq!(api.get(&path).await, ch);

    api.channel("other", json!({})).await;
    assert_error(&patch(json!({"name": "other"})).await, StatusCode::CONFLICT, "conflict");
    for missing in ["/api/v1/channels/999", "/api/v1/channels/abc"] {
        assert_error(&api.call("GET", missing, Some(&api.viewer), None).await, StatusCode::NOT_FOUND, "not_found");
        let patch = api.call("PATCH", missing, Some(&api.admin), Some(json!({"name": "x"}))).await;
        assert_error(&patch, StatusCode::NOT_FOUND, "not_found");
    }
    api.assert_consistent().await;
}

#[tokio::test]
async fn bad_channels_name_their_fields_and_names_are_unique() {
    let api = Api::new().await;
    let post = |body| api.call("POST", "/api/v1/channels", Some(&api.admin), Some(body));
    let missing = post(json!({})).await;
    assert_invalid(&missing, "name");
    assert_invalid(&missing, "kind");
    assert_invalid(&post(json!({"name": "x", "kind": "myspace"})).await, "kind");
    assert_invalid(&post(json!({"name": "x", "kind": "api", "settings": {"percent": -1}})).await, "settings.percent");
    assert_invalid(
        &post(json!({"name": "x", "kind": "api", "settings": {"source_fc": "NOPE"}})).await,
        "settings.source_fc",
    );
    assert_eq!(api.get("/api/v1/channels").await["channels"], json!([]));
    api.channel("shop", json!({})).await;
    assert_error(&post(json!({"name": "shop", "kind": "etsy"})).await, StatusCode::CONFLICT, "conflict");
    api.assert_consistent().await;
}

#[tokio::test]
async fn listings_map_channel_skus_and_page() {
    let api = Api::new().await;
    api.fc("EAST", 1).await;
    api.item("MUG-1").await;
    api.stock("MUG-1", "EAST", 7).await;
    let id = api.channel("shop", json!({})).await;
    let path = format!("/api/v1/channels/{id}/listings");
    let body = json!({"channel_sku": "SHOP-MUG", "sku": "MUG-1", "external_id": "item-9", "max_visible": 5});
    let listing = api.ok("POST", &path, body, StatusCode::CREATED).await;
    assert_has(
        &listing,
        &["channel_sku", "sku", "external_id", "quantity", "last_pushed_quantity", "last_pushed_at", "state"],
    );
    assert_eq!(
        (&listing["sku"], &listing["external_id"], &listing["quantity"]),
        (&json!("MUG-1"), &json!("item-9"), &json!(5))
    );
    // Without `sku`, the channel SKU resolves by SKU; unknown ones stay unmapped.
    assert_eq!(api.ok("POST", &path, json!({"channel_sku": "MUG-1"}), StatusCode::CREATED).await["sku"], "MUG-1");
    let unmapped = api.ok("POST", &path, json!({"channel_sku": "ZZZ"}), StatusCode::CREATED).await;
    assert_eq!((&unmapped["sku"], &unmapped["quantity"]), (&Value::Null, &Value::Null));

    let all = api.get(&path).await;
    assert_eq!(keys(&all), ["listings", "next_cursor"]);
    let skus: Vec<&str> =
        all["listings"].as_array().unwrap().iter().map(|l| l["channel_sku"].as_str().unwrap()).collect();
    assert_eq!(skus, ["MUG-1", "SHOP-MUG", "ZZZ"]);
    let page = api.get(&format!("{path}?limit=2")).await;
    let rest = api.get(&format!("{path}?limit=2&cursor={}", page["next_cursor"].as_str().unwrap())).await;
    assert_eq!((rest["listings"][0]["channel_sku"].as_str(), &rest["next_cursor"]), (Some("ZZZ"), &Value::Null));

    let post = |body| api.call("POST", &path, Some(&api.admin), Some(body));
    assert_error(&post(json!({"channel_sku": "SHOP-MUG"})).await, StatusCode::CONFLICT, "conflict");
    assert_invalid(&post(json!({})).await, "channel_sku");
    assert_invalid(&post(json!({"channel_sku": "N", "sku": "NOPE"})).await, "sku");
    assert_invalid(&post(json!({"channel_sku": "N", "percent": 150})).await, "percent");
    assert_invalid(&api.call("GET", &format!("{path}?limit=5000"), Some(&api.viewer), None).await, "limit");
    for missing in ["/api/v1/channels/999/listings", "/api/v1/channels/x/listings"] {
        assert_error(&api.call("GET", missing, Some(&api.viewer), None).await, StatusCode::NOT_FOUND, "not_found");
        let post = api.call("POST", missing, Some(&api.admin), Some(json!({"channel_sku": "A"}))).await;
        assert_error(&post, StatusCode::NOT_FOUND, "not_found");
    }
    api.assert_consistent().await;
}

#[tokio::test]
async fn only_admins_change_channels_and_listings() {
    let api = Api::new().await;
    let id = api.channel("shop", json!({})).await;
    for token in [&api.operator, &api.viewer] {
        let calls = [
            ("POST", "/api/v1/channels".to_owned(), json!({"name": "x", "kind": "api"})),
            ("PATCH", format!("/api/v1/channels/{id}"), json!({"name": "x"})),
            ("POST", format!("/api/v1/channels/{id}/listings"), json!({"channel_sku": "A"})),
        ];
        for (method, path, body) in calls {
            assert_error(&api.call(method, &path, Some(token), Some(body)).await, StatusCode::FORBIDDEN, "forbidden");
        }
    }
    assert_eq!(api.get(&format!("/api/v1/channels/{id}")).await["name"], "shop");
    api.assert_consistent().await;
}
