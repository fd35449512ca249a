//! Every page renders, is well-formed, and is reachable from the navigation.

use axum::http::StatusCode;

use super::assert_well_formed;
use super::support::Ui;

/// The pages the navigation must lead to.
const NAV: [&str; 8] = ["/", "/orders", "/inventory", "/items", "/fcs", "/integrations", "/uploads", "/activity"];

#[tokio::test]
async fn every_page_is_well_formed_and_in_the_navigation() {
    let ui = Ui::new().await;
    let channel = ui.seed().await;
    let admin = ui.sign_in("admin").await;
    let order = ui.store.orders(Default::default(), 1).await.unwrap()[0].id;
    let mut pages: Vec<String> = NAV.iter().map(|p| (*p).to_owned()).collect();
    pages.extend([
        format!("/orders/{order}"),
        "/orders?status=backordered".into(),
        "/orders?from=2025-01-01&to=2099-12-31&fc=EAST&sku=A-1".into(),
        "/orders?from=yesterday".into(),
        "/inventory/A-1".into(),
        "/inventory/KIT".into(),
        "/inventory?q=item".into(),
        "/items/new".into(),
        "/items/KIT".into(),
        "/items?kind=bundle".into(),
        format!("/integrations/{channel}"),
        "/orders/999999".into(),
    ]);
    for path in &pages {
        let page = ui.get(path, Some(&admin)).await;
        assert!(
            [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY, StatusCode::NOT_FOUND].contains(&page.status),
            "GET {path}: {}",
            page.status
        );
        assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"), "GET {path}");
        assert_well_formed(path, &page.body);
        for nav in NAV {
            assert!(page.body.contains(&format!("<a href=\"{nav}\"")), "GET {path} has no navigation link to {nav}");
        }
    }
    let login = ui.get("/login", None).await;
    assert_well_formed("/login", &login.body);
    for asset in ["/assets/app.css", "/assets/app.js"] {
        assert_eq!(ui.get(asset, None).await.status, StatusCode::OK, "{asset}");
    }
}

#[tokio::test]
async fn the_workspace_shows_channel_external_id_status_and_fc_and_flags_trouble() {
    let ui = Ui::new().await;
    ui.seed().await;
    let viewer = ui.sign_in("viewer").await;
    let page = ui.get("/orders", Some(&viewer)).await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in
        ["shop", "W-1", "W-2", "W-3", "EAST", "status-backordered", "status-needs_attention", "class=\"alert\""]
    {
        assert!(page.body.contains(expected), "the workspace lacks {expected}");
    }
    let backordered = ui.get("/orders?status=backordered", Some(&viewer)).await.body;
    assert!(backordered.contains("W-2") && !backordered.contains("W-1"));
    let by_fc = ui.get("/orders?fc=EAST", Some(&viewer)).await.body;
    assert!(by_fc.contains("W-1") && !by_fc.contains("W-2"));
    let by_sku = ui.get("/orders?sku=MYSTERY", Some(&viewer)).await.body;
    assert!(by_sku.contains("W-3") && !by_sku.contains("W-1"));
    // A bad filter names its field.
    let bad = ui.get("/orders?from=someday", Some(&viewer)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"err-from\""), "{}", bad.body);
    // The dashboard lists what needs attention.
    let home = ui.get("/", Some(&viewer)).await.body;
    assert!(home.contains("id=\"backordered\"") && home.contains("id=\"unmapped\""), "{home}");
}

#[tokio::test]
async fn paging_walks_every_order_once() {
    let ui = Ui::new().await;
    let channel = ui.seed().await;
    for i in 0..120 {
        ui.order(channel, &format!("P-{i:03}"), &[("1", "B-2", 1)]).await;
    }
    let admin = ui.sign_in("admin").await;
    let mut seen = std::collections::HashSet::new();
    let mut path = "/orders".to_owned();
    for _ in 0..10 {
        let page = ui.get(&path, Some(&admin)).await.body;
        for chunk in page.split("data-order=\"").skip(1) {
            assert!(seen.insert(chunk.split('"').next().unwrap().to_owned()), "an order shown twice");
        }
        let Some(at) = page.find("rel=\"next\" href=\"") else { break };
        path = page[at + 17..].split('"').next().unwrap().replace("&amp;", "&");
    }
    assert_eq!(seen.len(), 123);
}
