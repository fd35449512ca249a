//! What each form does, through the pages.

use axum::http::StatusCode;

use super::auth::{upload, upload_as};
use super::support::Ui;

async fn order_id(ui: &Ui, external: &str) -> i64 {
    ui.store.orders(Default::default(), 1000).await.unwrap().into_iter().find(|o| o.external_id == external).unwrap().id
}

#[tokio::test]
async fn an_unmapped_sku_is_mapped_in_place_and_the_order_allocates() {
    let ui = Ui::new().await;
    let channel = ui.seed().await;
    let admin = ui.sign_in("admin").await;
    let id = order_id(&ui, "W-3").await;
    let page = ui.get(&format!("/orders/{id}"), Some(&admin)).await.body;
    assert!(page.contains("action=\"/orders/") && page.contains("Map SKU"), "{page}");
    // An unknown item is named on the form.
    let bad = ui
        .post(&format!("/orders/{id}/map"), &admin, &[("channel_sku", "MYSTERY"), ("sku", "NOPE"), ("how", "alias")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"err-sku\""), "{}", bad.body);
    let ok = ui
        .post(&format!("/orders/{id}/map"), &admin, &[("channel_sku", "MYSTERY"), ("sku", "A-1"), ("how", "alias")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let o = ui.store.order(id).await.unwrap().unwrap();
    assert_eq!((o.status.as_str(), o.fulfillment_centers.clone()), ("allocated", vec!["EAST".to_owned()]));
    assert!(ui.store.item("A-1").await.unwrap().unwrap().aliases.contains(&"MYSTERY".to_owned()));
    let shown = ui.get(ok.location(), Some(&admin)).await.body;
    assert!(shown.contains("Mapped MYSTERY") && shown.contains("order_allocated"), "the movements are listed: {shown}");
    // As a listing on this channel only.
    ui.store.set_stock("B-2", "WEST", stocksync_core::workflow::StockTarget::OnHand(5), None, "t").await.unwrap();
    let other = ui.order(channel, "W-4", &[("1", "SHOP-B", 1)]).await;
    let ok = ui
        .post(&format!("/orders/{other}/map"), &admin, &[("channel_sku", "SHOP-B"), ("sku", "B-2"), ("how", "listing")])
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ui.store.order(other).await.unwrap().unwrap().fulfillment_centers, vec!["WEST".to_owned()]);
    assert_eq!(ui.store.listing(channel, "SHOP-B").await.unwrap().unwrap().sku.as_deref(), Some("B-2"));
}

#[tokio::test]
async fn stock_edits_apply_with_a_reason_and_errors_name_the_field() {
    let ui = Ui::new().await;
    ui.seed().await;
    let op = ui.sign_in("operator").await;
    let res = ui
        .post(
            "/inventory/A-1",
            &op,
            &[("fc", "EAST"), ("mode", "available"), ("value", "10"), ("reason", "cycle count")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let inv = ui.store.inventory("A-1").await.unwrap().unwrap();
    assert_eq!(inv.levels.iter().find(|(fc, _)| fc == "EAST").unwrap().1.available, 10);
    let res = ui.post("/inventory/A-1", &op, &[("fc", "WEST"), ("mode", "delta"), ("value", "4")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let moves = ui
        .store
        .movements(stocksync_store::views::MovementFilter { sku: Some("A-1".into()), ..Default::default() }, 100)
        .await
        .unwrap();
    assert!(moves.iter().any(|m| m.reason == "cycle count" && m.actor == "user:operator"), "{moves:?}");
    for (fields, field) in [
        (vec![("fc", "EAST"), ("mode", "on_hand"), ("value", "ten")], "value"),
        (vec![("fc", "EAST"), ("mode", "delta"), ("value", "-500")], "value"),
        (vec![("fc", ""), ("mode", "on_hand"), ("value", "1")], "fc"),
    ] {
        let res = ui.post("/inventory/A-1", &op, &fields).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{fields:?}");
        assert!(res.body.contains(&format!("id=\"err-{field}\"")), "{fields:?} should name {field}: {}", res.body);
    }
}

#[tokio::test]
async fn a_csv_with_a_bad_line_shows_it_and_applies_nothing() {
    let ui = Ui::new().await;
    ui.seed().await;
    let op = ui.sign_in("operator").await;
    let csv = "sku,fc,on_hand,note\r\nA-1,EAST,40,count\r\nB-2,EAST,lots,\r\nZZZ,WEST,3,\r\n";
    let res = upload_as(&ui, &op, csv, true, "apply").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("line 3, column on_hand:") && res.body.contains("not a whole number"), "{}", res.body);
    super::assert_well_formed("upload errors", &res.body);
    assert_eq!(ui.store.inventory("A-1").await.unwrap().unwrap().totals.on_hand, 2, "nothing applied");
    // Unknown SKUs are found by the whole-file check, before anything is applied.
    let res = upload_as(&ui, &op, "sku,fc,on_hand\nA-1,EAST,40\nZZZ,WEST,3\n", true, "apply").await;
    assert!(res.body.contains("line 3, column sku: unknown item ZZZ"), "{}", res.body);
    assert_eq!(ui.store.inventory("A-1").await.unwrap().unwrap().totals.on_hand, 2);
    // A preview shows the change and applies nothing; apply applies.
    let res = upload(&ui, &op, "sku,fc,on_hand\nA-1,EAST,40\n", true).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(res.body.contains("id=\"upload-changes\"") && res.body.contains("Preview"));
    assert_eq!(ui.store.inventory("A-1").await.unwrap().unwrap().totals.on_hand, 2);
    let res = upload_as(&ui, &op, "sku,fc,on_hand\nA-1,EAST,40\n", true, "apply").await;
    assert!(res.body.contains("Applied 1 rows: 1 changed something"), "{}", res.body);
    assert_eq!(ui.store.inventory("A-1").await.unwrap().unwrap().totals.on_hand, 40);
}

#[tokio::test]
async fn items_upload_through_the_page_like_the_api() {
    let ui = Ui::new().await;
    ui.seed().await;
    let admin = ui.sign_in("admin").await;
    let csv = "sku,title,kind,components,aliases\nNEW-1,New thing,stock,,new1\nKIT-9,Kit,bundle,NEW-1:2,\n";
    let res = super::auth::upload_kind(&ui, &admin, "items", csv, true, "preview").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(ui.store.item("NEW-1").await.unwrap().is_none(), "a preview creates nothing");
    let res = super::auth::upload_kind(&ui, &admin, "items", csv, true, "apply").await;
    assert!(res.body.contains("Applied 2 rows"), "{}", res.body);
    assert_eq!(ui.store.item("KIT-9").await.unwrap().unwrap().components[0].quantity, 2);
    let res = super::auth::upload_kind(
        &ui,
        &admin,
        "items",
        "sku,title,kind,components,aliases\nX,,bundle,NOPE:1,\n",
        true,
        "apply",
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("line 2, column components"), "{}", res.body);
}

#[tokio::test]
async fn channels_keep_credentials_secret_and_warn_when_import_is_off() {
    let ui = Ui::new().await;
    ui.seed().await;
    let admin = ui.sign_in("admin").await;
    let fields = [
        ("name", "web"),
        ("kind", "api"),
        ("base_url", "http://127.0.0.1:9/"),
        ("credentials", "signing_secret = s3cr3t-value"),
        ("import_orders", "on"),
    ];
    let res = ui.post("/integrations", &admin, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = ui.get(res.location(), Some(&admin)).await.body;
    assert!(!page.contains("s3cr3t-value") && page.contains("stored (never shown)"));
    assert!(!page.contains("data-warning=\"import_orders\""));
    let id = res.location().trim_start_matches("/integrations/").split('?').next().unwrap().to_owned();
    // Import orders off: saved, and the warning shows.
    let off = [
        ("name", "web"),
        ("base_url", "http://127.0.0.1:9/"),
        ("push_quantities", "on"),
        ("fcs", "all"),
        ("allow_split", "on"),
        ("percent", "100"),
        ("min_threshold", "0"),
        ("poll_interval_s", "60"),
    ];
    let res = ui.post(&format!("/integrations/{id}"), &admin, &off).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let page = ui.get(res.location(), Some(&admin)).await.body;
    assert!(page.contains("data-warning=\"import_orders\"") && page.contains("deduct nothing"), "{page}");
    let list = ui.get("/integrations", Some(&admin)).await.body;
    assert!(list.contains("web: import_orders is off"), "the list warns too: {list}");
    // Bad values name their fields.
    let mut bad = off.to_vec();
    bad.retain(|(k, _)| *k != "percent");
    bad.push(("percent", "150"));
    bad.push(("max_visible", "many"));
    let res = ui.post(&format!("/integrations/{id}"), &admin, &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"err-max_visible\""), "{}", res.body);
    bad.retain(|(k, _)| *k != "max_visible");
    let res = ui.post(&format!("/integrations/{id}"), &admin, &bad).await;
    assert!(res.body.contains("id=\"err-percent\""), "{}", res.body);
    // A connection test against a closed port reports the failure.
    let res = ui.post(&format!("/integrations/{id}/test"), &admin, &[]).await;
    assert!(res.body.contains("id=\"test-result\"") && res.body.contains("The test failed"), "{}", res.body);
}

#[tokio::test]
async fn items_fcs_and_their_errors() {
    let ui = Ui::new().await;
    ui.seed().await;
    let admin = ui.sign_in("admin").await;
    let res =
        ui.post("/items", &admin, &[("sku", "SET-2"), ("kind", "bundle"), ("components", "A-1:2\nGHOST:1")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"err-components\""), "{}", res.body);
    let res = ui
        .post(
            "/items",
            &admin,
            &[
                ("sku", "SET-2"),
                ("kind", "bundle"),
                ("title", "Two"),
                ("components", "A-1:2"),
                ("aliases", "set2, SET_TWO"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let item = ui.store.item("SET-2").await.unwrap().unwrap();
    assert_eq!((item.components.len(), item.aliases.len()), (1, 2));
    let res = ui.post("/items", &admin, &[("sku", "A-1"), ("kind", "stock")]).await;
    assert!(res.body.contains("id=\"err-sku\""), "a taken SKU is named: {}", res.body);
    // FCs: add, reorder, deactivate.
    let res =
        ui.post("/fcs", &admin, &[("code", "NORTH"), ("name", "North"), ("priority", "3"), ("active", "on")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    assert_eq!(ui.post("/fcs/NORTH/move", &admin, &[("direction", "up")]).await.status, StatusCode::SEE_OTHER);
    let order: Vec<String> = ui.store.fcs().await.unwrap().into_iter().map(|f| f.code).collect();
    assert_eq!(order, ["EAST", "NORTH", "WEST"]);
    assert_eq!(ui.post("/fcs/WEST", &admin, &[("set_active", "false")]).await.status, StatusCode::SEE_OTHER);
    assert!(!ui.store.fc("WEST").await.unwrap().unwrap().active);
    let res = ui.post("/fcs", &admin, &[("code", ""), ("name", ""), ("priority", "x")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.body.contains("id=\"err-priority\""), "{}", res.body);
}

#[tokio::test]
async fn the_dashboard_flags_a_channel_with_import_off_and_no_other_source() {
    use stocksync_core::channel::{ChannelKind, ChannelSettings};
    let ui = Ui::new().await;
    let mut settings = ChannelSettings::defaults(ChannelKind::Api);
    settings.import_orders = false;
    let ch = stocksync_store::NewChannel {
        name: "quiet".into(),
        kind: ChannelKind::Api,
        base_url: None,
        credentials_json: "{}".into(),
        settings,
    };
    ui.store.create_channel(ch).await.unwrap();
    let admin = ui.sign_in("admin").await;
    let home = ui.get("/", Some(&admin)).await.body;
    assert!(home.contains("id=\"import-off\"") && home.contains("quiet"), "{home}");
    // A manual stock edit is another source: the flag goes.
    ui.store.create_fc(stocksync_core::catalog::FcSpec::new("EAST", "East", 1, true).unwrap()).await.unwrap();
    let item = stocksync_core::catalog::ItemDraft { sku: "A".into(), kind: "stock".into(), ..Default::default() };
    ui.store.create_item(item, "t").await.unwrap();
    let res = ui.post("/inventory/A", &admin, &[("fc", "EAST"), ("mode", "on_hand"), ("value", "3")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(!ui.get("/", Some(&admin)).await.body.contains("id=\"import-off\""));
}
