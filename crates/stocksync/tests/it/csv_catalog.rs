//! `POST /uploads/items` and `/uploads/listings`: create and update, with
//! the catalog's rules checked per line, all or nothing.

use axum::http::StatusCode;
use serde_json::json;

use crate::csv_support::{Api, lines_and_columns, message_at};

#[tokio::test(flavor = "multi_thread")]
async fn items_are_created_and_updated_and_bundles_may_come_first() {
    let api = Api::new().await;
    let file = "sku,title,kind,components,aliases\n\
                PACK,\"Pack of two, boxed\",bundle,N-1:2|A-1:1,\n\
                N-1,\"New, \"\"shiny\"\"\",stock,,N1|n-one\n\
                A-1,Renamed,stock,,\n\
                C-3,,stock,,\n";
    let (status, report) = api.upload("/uploads/items", file).await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!(
        report["changes"],
        json!([
            {"line": 2, "sku": "PACK", "action": "created"},
            {"line": 3, "sku": "N-1", "action": "created"},
            {"line": 4, "sku": "A-1", "action": "updated"}
        ])
    );
    assert_eq!((report["rows"].clone(), report["unchanged"].clone()), (json!(4), json!(1)));
    let pack = api.store.item("PACK").await.unwrap().expect("PACK");
    assert_eq!(pack.title, "Pack of two, boxed");
    let comps: Vec<(String, u32)> = pack.components.iter().map(|c| (c.sku.clone(), c.quantity)).collect();
    assert_eq!(comps, [("N-1".to_owned(), 2), ("A-1".to_owned(), 1)]);
    let n1 = api.store.item("N-1").await.unwrap().expect("N-1");
    assert_eq!((n1.title.as_str(), n1.aliases.clone()), ("New, \"shiny\"", vec!["N1".to_owned(), "n-one".to_owned()]));
    assert_eq!(api.store.item("A-1").await.unwrap().map(|i| i.title), Some("Renamed".into()));

    // The same file again changes nothing; a left-out column keeps values.
    let (_, again) = api.upload("/uploads/items", file).await;
    assert_eq!((again["changed"].clone(), again["unchanged"].clone()), (json!(0), json!(4)), "{again:#}");
    let (status, report) = api.upload("/uploads/items", "sku,kind\nN-1,stock\n").await;
    assert_eq!((status, report["unchanged"].clone()), (StatusCode::OK, json!(1)), "{report:#}");
    assert_eq!(api.store.item("N-1").await.unwrap().map(|i| i.aliases.len()), Some(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn item_rows_that_break_the_catalog_are_all_reported() {
    let api = Api::new().await;
    let file = "sku,title,kind,components,aliases\n\
                NEW-1,ok,stock,,\n\
                NEW-2,,bundle,GHOST:1,\n\
                A-1,,bundle,B-2:1,\n\
                NEW-3,,bundle,A-1:x,\n\
                NEW-4,,stock,,B2\n\
                NEW-1,again,stock,,\n\
                NEW-5,,gadget,,\n\
                NEW-6,,bundle,KIT:1,\n\
                NEW-7,,stock,A-1:1,\n";
    let (status, body) = api.upload("/uploads/items", file).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    let expected: Vec<(u64, String)> = [
        (3, "components"),
        (4, "kind"),
        (5, "components"),
        (6, "aliases"),
        (7, "sku"),
        (8, "kind"),
        (9, "components"),
        (10, "components"),
    ]
    .into_iter()
    .map(|(l, c)| (l, c.to_owned()))
    .collect();
    assert_eq!(lines_and_columns(&body), expected, "{body:#}");
    assert!(message_at(&body, 3, "components").contains("unknown item GHOST"));
    assert!(message_at(&body, 4, "kind").contains("cannot change"));
    assert!(message_at(&body, 5, "components").contains("not a whole number"));
    assert!(message_at(&body, 6, "aliases").contains("B2 is already an alias of B-2"));
    assert!(message_at(&body, 7, "sku").contains("line 2"));
    assert!(message_at(&body, 9, "components").contains("bundles of bundles"));
    assert!(api.store.item("NEW-1").await.unwrap().is_none(), "nothing was applied, not even the good line 2");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_items_dry_run_reports_and_discards() {
    let api = Api::new().await;
    let marks = api.push_marks();
    let (status, report) =
        api.upload("/uploads/items?dry_run=true", "sku,kind,title\nNEW-1,stock,x\nA-1,stock,y\n").await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!((report["applied"].clone(), report["changed"].clone()), (json!(false), json!(2)));
    assert!(api.store.item("NEW-1").await.unwrap().is_none());
    assert_eq!(api.store.item("A-1").await.unwrap().map(|i| i.title), Some(String::new()));
    assert_eq!(api.push_marks(), marks, "a discarded upload marks nothing for a push");
    let (status, _) = api.upload("/uploads/items", "sku,kind,title\nA-1,stock,y\n").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.push_marks(), marks + 1, "an applied edit does");
}

#[tokio::test(flavor = "multi_thread")]
async fn listings_are_created_and_remapped() {
    let api = Api::new().await;
    let shop = api.shop;
    let file = format!(
        "channel,channel_sku,sku,external_id\n\
         shop,ebay-a1,A-1,X-100\n\
         {shop},B2,,\n\
         shop,kit-1,KIT,\n"
    );
    let (status, report) = api.upload("/uploads/listings", file).await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!(report["changed"], 3, "{report:#}");
    assert_eq!(report["changes"][1], json!({"line": 3, "channel": "shop", "channel_sku": "B2", "action": "created"}));
    let b2 = api.store.listing(shop, "B2").await.unwrap().expect("listing B2");
    assert_eq!(b2.sku.as_deref(), Some("B-2"), "no SKU: the channel SKU resolves through the alias");
    let a1 = api.store.listing(shop, "ebay-a1").await.unwrap().expect("listing");
    assert_eq!((a1.sku.as_deref(), a1.external_id.as_deref()), (Some("A-1"), Some("X-100")));

    // An existing (channel, channel_sku) is updated; empty cells keep values.
    let (status, report) =
        api.upload("/uploads/listings", "channel,channel_sku,sku,external_id\nshop,ebay-a1,C-3,\n").await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!(report["changes"][0]["action"], "updated");
    let a1 = api.store.listing(shop, "ebay-a1").await.unwrap().expect("listing");
    assert_eq!((a1.sku.as_deref(), a1.external_id.as_deref()), (Some("C-3"), Some("X-100")));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_listing_rows_are_all_reported() {
    let api = Api::new().await;
    let file = "channel,channel_sku,sku\n\
                shop,ok-1,A-1\n\
                nowhere,x,A-1\n\
                shop,y,GHOST\n\
                shop,ok-1,B-2\n\
                shop,,A-1\n\
                ,z,A-1\n";
    let (status, body) = api.upload("/uploads/listings", file).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    let expected: Vec<(u64, String)> =
        [(3, "channel"), (4, "sku"), (5, "channel_sku"), (6, "channel_sku"), (7, "channel")]
            .into_iter()
            .map(|(l, c)| (l, c.to_owned()))
            .collect();
    assert_eq!(lines_and_columns(&body), expected, "{body:#}");
    assert_eq!(message_at(&body, 3, "channel"), "unknown channel nowhere");
    assert!(message_at(&body, 4, "sku").contains("unknown item GHOST"));
    assert!(api.store.listing(api.shop, "ok-1").await.unwrap().is_none(), "nothing was applied");
    let (status, body) = api.upload("/uploads/listings", "channel,sku\nshop,A-1\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(lines_and_columns(&body), [(1, "channel_sku".to_owned())]);
}
