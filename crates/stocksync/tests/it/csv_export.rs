//! `GET /exports/….csv`: the upload formats, streamed; uploading an export
//! back changes nothing.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::csv_support::{ADMIN, Api, VIEWER};

/// A catalog with something in every column: levels, titles with commas and
/// quotes, a bundle, aliases, listings with and without SKU or external id.
async fn seeded() -> Api {
    let api = Api::new().await;
    let items = "sku,title,kind,components,aliases\n\
                 A-1,\"Mug, \"\"large\"\"\",stock,,A1|mug\n\
                 PAIR,Two mugs,bundle,A-1:2,\n";
    assert_eq!(api.upload("/uploads/items", items).await.0, StatusCode::OK);
    let levels = "sku,fc,on_hand\nA-1,EAST,5\nA-1,WEST,0\nB-2,WEST,12\n";
    assert_eq!(api.upload("/uploads/inventory", levels).await.0, StatusCode::OK);
    let listings = "channel,channel_sku,sku,external_id\nshop,m-1,A-1,E-1\nshop,pair,PAIR,\nshop,orphan,,\n";
    assert_eq!(api.upload("/uploads/listings", listings).await.0, StatusCode::OK);
    api
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_are_the_upload_formats() {
    let api = seeded().await;
    let (status, headers, inventory) = api.get(VIEWER, "/exports/inventory.csv").await;
    assert_eq!(status, StatusCode::OK, "a viewer may export");
    assert_eq!(headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(inventory, "sku,fc,on_hand\nA-1,EAST,5\nB-2,WEST,12\n", "A-1 at WEST was 0 already: no level");

    let (_, _, items) = api.get(VIEWER, "/exports/items.csv").await;
    assert_eq!(
        items,
        "sku,title,kind,components,aliases\n\
         A-1,\"Mug, \"\"large\"\"\",stock,,A1|mug\n\
         B-2,,stock,,B2\n\
         C-3,,stock,,\n\
         KIT,,bundle,A-1:2|B-2:1,\n\
         PAIR,Two mugs,bundle,A-1:2,\n",
        "stock items first, then bundles"
    );

    let (_, _, listings) = api.get(VIEWER, "/exports/listings.csv").await;
    assert_eq!(listings, "channel,channel_sku,sku,external_id\nshop,m-1,A-1,E-1\nshop,orphan,,\nshop,pair,PAIR,\n");

    let (status, _, _) = api.get("not-a-token-at-all-000000", "/exports/items.csv").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn uploading_an_export_changes_nothing() {
    let api = seeded().await;
    for format in ["inventory", "items", "listings"] {
        let (_, _, file) = api.get(ADMIN, &format!("/exports/{format}.csv")).await;
        let (status, report) = api.upload(&format!("/uploads/{format}"), file).await;
        assert_eq!(status, StatusCode::OK, "{format}: {report:#}");
        assert_eq!(report["changed"], 0, "{format}: {report:#}");
        assert!(report["unchanged"].as_u64().is_some_and(|n| n > 0), "{format}: {report:#}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_loads_into_an_empty_catalog() {
    let from = seeded().await;
    let to = Api::new().await;
    let (_, _, items) = from.get(ADMIN, "/exports/items.csv").await;
    let (status, report) = to.upload("/uploads/items", items).await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!(to.store.item("PAIR").await.unwrap().map(|i| i.components.len()), Some(1));
    let (_, _, levels) = from.get(ADMIN, "/exports/inventory.csv").await;
    assert_eq!(to.upload("/uploads/inventory", levels).await.0, StatusCode::OK);
    assert_eq!(to.on_hand("B-2", "WEST").await, 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_page_through_large_tables() {
    let api = Api::new().await;
    let mut items = String::from("sku,kind\n");
    let mut levels = String::from("sku,fc,on_hand\n");
    for i in 0..1500 {
        items.push_str(&format!("S-{i:04},stock\n"));
        levels.push_str(&format!("S-{i:04},EAST,{}\nS-{i:04},WEST,1\n", i + 1));
    }
    assert_eq!(api.upload("/uploads/items", items).await.0, StatusCode::OK);
    assert_eq!(api.upload("/uploads/inventory", levels.clone()).await.0, StatusCode::OK);
    let (_, _, exported) = api.get(ADMIN, "/exports/inventory.csv").await;
    assert_eq!(exported, levels, "3,000 levels over three pages, in order, none twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_describes_uploads_and_exports() {
    let api = Api::new().await;
    let (status, _, doc) = api.get(VIEWER, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    for format in ["inventory", "items", "listings"] {
        let post = &doc["paths"][format!("/api/v1/uploads/{format}")]["post"];
        assert!(post["requestBody"]["content"]["text/csv"].is_object(), "{format}: {post:#}");
        assert!(post["responses"]["422"].is_object(), "{format}: {post:#}");
        let get = &doc["paths"][format!("/api/v1/exports/{format}.csv")]["get"];
        assert!(get["responses"]["200"]["content"]["text/csv"].is_object(), "{format}: {get:#}");
    }
    for schema in ["UploadReport", "Change"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema} is described");
    }
    let params = &doc["paths"]["/api/v1/uploads/inventory"]["post"]["parameters"];
    assert_eq!(params[0]["name"], json!("dry_run"), "{params:#}");
}
