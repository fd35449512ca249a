//! `POST /uploads/inventory`: the file's forms, every bad line reported with
//! its column, all or nothing, dry runs, limits, roles and idempotency.

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use http_body_util::channel::Channel;
use serde_json::{Value, json};
use stocksync::http::uploads::{UPLOAD_MAX_BYTES, spool};
use stocksync_store::views::MovementFilter;

use crate::csv_support::{ADMIN, Api, VIEWER, lines_and_columns, message_at};

#[tokio::test(flavor = "multi_thread")]
async fn bom_crlf_quotes_and_blank_lines_are_read() {
    let api = Api::new().await;
    let body = "\u{feff}sku,fc,on_hand,note\r\n\
                A-1,EAST,5,\"recount, aisle 3\"\r\n\
                \r\n\
                \"B-2\",EAST,7,\"two\r\nlines\"\r\n\
                \n\
                C-3, WEST , 9 ,\r\n";
    let (status, report) = api.upload("/uploads/inventory", body).await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!(report["rows"], 3, "{report:#}");
    assert_eq!((report["applied"].clone(), report["changed"].clone()), (json!(true), json!(3)));
    assert_eq!(
        report["changes"][0],
        json!({"line": 2, "sku": "A-1", "fc": "EAST", "field": "on_hand", "from": 0, "to": 5})
    );
    assert_eq!(report["changes"][1]["line"], 4, "a quoted newline spans lines 4-5");
    assert_eq!(report["changes"][2]["line"], 7);
    assert_eq!(
        (api.on_hand("A-1", "EAST").await, api.on_hand("B-2", "EAST").await, api.on_hand("C-3", "WEST").await),
        (5, 7, 9)
    );
    let moves =
        api.store.movements(MovementFilter { sku: Some("A-1".into()), ..Default::default() }, 10).await.unwrap();
    assert_eq!(moves.last().map(|m| m.reason.as_str()), Some("recount, aisle 3"), "the note is the reason");
    assert!(moves.last().is_some_and(|m| m.reference.starts_with("upload:") && m.actor == "token:admin"), "{moves:?}");
    let moves =
        api.store.movements(MovementFilter { sku: Some("C-3".into()), ..Default::default() }, 10).await.unwrap();
    assert_eq!(moves.last().map(|m| m.reason.as_str()), Some("upload"), "no note: the default reason");
}

#[tokio::test(flavor = "multi_thread")]
async fn available_sets_on_hand_above_what_is_committed() {
    let api = Api::new().await;
    api.set("A-1", "EAST", 10).await;
    let (status, report) = api.upload("/uploads/inventory", "sku,fc,available\nA-1,EAST,4\nA-1,WEST,0\n").await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!(
        report["changes"],
        json!([{"line": 2, "sku": "A-1", "fc": "EAST", "field": "available", "from": 10, "to": 4}])
    );
    assert_eq!(report["unchanged"], 1);
    assert_eq!(api.on_hand("A-1", "EAST").await, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_line_is_reported_with_its_column_and_nothing_is_applied() {
    let api = Api::new().await;
    api.set("A-1", "EAST", 3).await;
    let body = "sku,fc,available\n\
                A-1,EAST,4\n\
                A-1,EAST,5\n\
                NOPE,EAST,1\n\
                A-1,MARS,1\n\
                B-2,EAST,abc\n\
                B-2,WEST,-3\n\
                KIT,EAST,1\n\
                B-2,EAST\n\
                B-2,EAST,1,extra\n\
                \"B-2\nX\",WEST,1\n\
                B2,WEST,1\n\
                GHOST,WEST,1.5\n\
                A-1,WEST,\n\
                C-3,EAST,2\n";
    let (status, body) = api.upload("/uploads/inventory", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    let expected: Vec<(u64, String)> = [
        (3, "sku"),
        (4, "sku"),
        (5, "fc"),
        (6, "available"),
        (7, "available"),
        (8, "sku"),
        (9, "available"),
        (10, "4"),
        (11, "sku"),
        (13, "sku"),
        (14, "available"),
        (14, "sku"),
        (15, "available"),
    ]
    .into_iter()
    .map(|(l, c)| (l, c.to_owned()))
    .collect();
    assert_eq!(lines_and_columns(&body), expected, "{body:#}");
    assert!(message_at(&body, 3, "sku").contains("line 2"), "a repeat names the first line");
    assert_eq!(message_at(&body, 4, "sku"), "unknown item NOPE");
    assert_eq!(message_at(&body, 5, "fc"), "unknown fulfillment center MARS");
    assert!(message_at(&body, 6, "available").contains("not a whole number"));
    assert!(message_at(&body, 7, "available").contains("negative"));
    assert!(message_at(&body, 8, "sku").contains("is a bundle; set stock on its components"));
    assert!(message_at(&body, 9, "available").contains("missing"));
    assert!(message_at(&body, 11, "sku").contains("control"), "the quoted SKU holds a newline");
    assert!(message_at(&body, 13, "sku").contains("alias of B-2"));
    assert_eq!(message_at(&body, 14, "sku"), "unknown item GHOST", "a line's every problem is listed");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("13 problems") && m.contains("nothing was applied"))
    );
    assert_eq!(api.on_hand("A-1", "EAST").await, 3, "the good line 2 was not applied");
    assert_eq!(api.on_hand("C-3", "EAST").await, 0, "the good line 16 was not applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn header_problems_name_the_column_on_line_1() {
    let api = Api::new().await;
    let cases: &[(&str, &[(u64, &str)])] = &[
        ("sku,available\nA-1,4\n", &[(1, "fc")]),
        ("sku,fc\nA-1,EAST\n", &[(1, "available")]),
        ("sku,fc,on_hand,colour\nA-1,EAST,4,red\n", &[(1, "colour")]),
        ("sku,fc,available,on_hand\nA-1,EAST,4,4\n", &[(1, "on_hand")]),
        ("sku,fc,on_hand,sku\nA-1,EAST,4,A-1\n", &[(1, "sku")]),
        ("sku,,fc,on_hand\nA-1,,EAST,4\n", &[(1, "2")]),
        (" SKU , Fc ,ON_HAND\nA-1,EAST,4\n", &[]),
        ("", &[(1, "*")]),
        ("\n\n", &[(1, "*")]),
    ];
    for (file, expected) in cases {
        let (status, body) = api.upload("/uploads/inventory", *file).await;
        if expected.is_empty() {
            assert_eq!(status, StatusCode::OK, "{file:?}: names are trimmed and case-insensitive: {body:#}");
            continue;
        }
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{file:?}: {body:#}");
        let want: Vec<(u64, String)> = expected.iter().map(|(l, c)| (*l, (*c).to_owned())).collect();
        assert_eq!(lines_and_columns(&body), want, "{file:?}");
    }
    assert_eq!(api.on_hand("A-1", "EAST").await, 4, "only the good file applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_files_are_rejected_line_by_line() {
    let api = Api::new().await;
    api.set("A-1", "EAST", 3).await;
    let mut rng = fastrand::Rng::with_seed(7);
    let noise: Vec<u8> = (0..4096).map(|_| rng.u8(..)).collect();
    let (status, body) = api.upload("/uploads/inventory", noise).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    assert!(!lines_and_columns(&body).is_empty());

    // A good header, then rows that are not UTF-8.
    let mut file = b"sku,fc,on_hand\nA-1,EAST,9\n".to_vec();
    file.extend_from_slice(b"\xff\xfe\x00,EAST,1\nA-1,\xc3\x28,1\n");
    let (status, body) = api.upload("/uploads/inventory", file).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    assert_eq!(lines_and_columns(&body), [(3, "sku".to_owned()), (4, "fc".to_owned())]);
    assert_eq!(message_at(&body, 3, "sku"), "is not UTF-8 text");

    // A quote left open runs on without a line end: stopped, not buffered.
    let mut file = b"sku,fc,on_hand\n\"A-1,EAST,9\n".to_vec();
    file.extend(std::iter::repeat_n(b'x', (stocksync::csv::RECORD_MAX_BYTES + 100_000) as usize));
    let (status, body) = api.upload("/uploads/inventory", file).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    assert!(message_at(&body, 2, "*").contains("quote left open"), "{body:#}");
    assert_eq!(api.on_hand("A-1", "EAST").await, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_previews_and_changes_nothing() {
    let api = Api::new().await;
    api.set("A-1", "EAST", 3).await;
    let file = "sku,fc,on_hand\nA-1,EAST,8\nA-1,WEST,0\nB-2,WEST,2\n";
    let (status, report) = api.upload("/uploads/inventory?dry_run=true", file).await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!(
        report,
        json!({
            "rows": 3, "applied": false, "dry_run": true, "changed": 2, "unchanged": 1, "changes_truncated": false,
            "changes": [
                {"line": 2, "sku": "A-1", "fc": "EAST", "field": "on_hand", "from": 3, "to": 8},
                {"line": 4, "sku": "B-2", "fc": "WEST", "field": "on_hand", "from": 0, "to": 2}
            ]
        })
    );
    assert_eq!((api.on_hand("A-1", "EAST").await, api.on_hand("B-2", "WEST").await), (3, 0));
    let (status, body) = api.upload("/uploads/inventory?dry_run=true", "sku,fc,on_hand\nNOPE,EAST,1\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a dry run reports problems too: {body:#}");
    let (status, body) = api.upload("/uploads/inventory?dry_run=maybe", file).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn many_problems_are_capped_and_counted() {
    let api = Api::new().await;
    let mut file = String::from("sku,fc,on_hand\n");
    for i in 0..1500 {
        file.push_str(&format!("NOPE-{i},EAST,1\n"));
    }
    let (status, body) = api.upload("/uploads/inventory", file).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(lines_and_columns(&body).len(), stocksync::csv::ERRORS_LISTED_MAX);
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("1500 problems")), "{body:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn many_changes_are_capped_and_counted() {
    let api = Api::new().await;
    let skus: Vec<_> = (0..1200)
        .map(|i| stocksync_core::catalog::ItemDraft {
            sku: format!("S-{i:04}"),
            kind: "stock".into(),
            ..Default::default()
        })
        .collect();
    api.store.create_items(skus, "test").await.unwrap();
    let mut file = String::from("sku,fc,on_hand\n");
    for i in 0..1200 {
        file.push_str(&format!("S-{i:04},EAST,{}\n", i % 7 + 1));
    }
    let (status, report) = api.upload("/uploads/inventory", file).await;
    assert_eq!(status, StatusCode::OK, "{report:#}");
    assert_eq!((report["rows"].clone(), report["changed"].clone()), (json!(1200), json!(1200)));
    assert_eq!(report["changes"].as_array().map(Vec::len), Some(stocksync::csv::CHANGES_LISTED_MAX));
    assert_eq!(report["changes_truncated"], true);
    assert_eq!(api.on_hand("S-1199", "EAST").await, 1199 % 7 + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_limit_are_413() {
    let api = Api::new().await;
    let req = Request::post("/api/v1/uploads/inventory")
        .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
        .header(header::CONTENT_LENGTH, (UPLOAD_MAX_BYTES + 1).to_string())
        .body(Body::from("sku,fc,on_hand\nA-1,EAST,1\n"))
        .unwrap();
    let (status, _, bytes) = api.send(req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    assert_eq!(api.on_hand("A-1", "EAST").await, 0);

    // Without a Content-Length, the bytes are counted as they stream in.
    let (mut tx, chunked) = Channel::<Bytes, std::io::Error>::new(4);
    tokio::spawn(async move {
        for chunk in ["sku,fc,on_hand\n", "A-1,EAST,1\n", "A-1,WEST,1\n"] {
            if tx.send_data(Bytes::from(chunk)).await.is_err() {
                return;
            }
        }
    });
    let err = spool(&Default::default(), Body::new(chunked), 20).await.unwrap_err();
    assert_eq!((err.status, err.code), (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"));
    let ok = spool(&Default::default(), Body::from("sku,fc,on_hand\n"), 20).await.unwrap();
    assert_eq!(ok.bytes, 15);
    assert_eq!(std::fs::read(ok.file.path()).unwrap(), b"sku,fc,on_hand\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_need_the_operator_role() {
    let api = Api::new().await;
    let (status, body) = api.upload_as(VIEWER, "/uploads/inventory", "sku,fc,on_hand\nA-1,EAST,1\n", None).await;
    assert_eq!((status, body["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")));
    let (status, _) = api.upload_as("nope-not-a-token-at-all", "/uploads/items", "sku,kind\n", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.on_hand("A-1", "EAST").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idempotency_key_replays_the_first_answer() {
    let api = Api::new().await;
    let file = "sku,fc,on_hand\nA-1,EAST,4\n";
    let (s1, first) = api.upload_as(ADMIN, "/uploads/inventory", file, Some("k-1")).await;
    assert_eq!(s1, StatusCode::OK, "{first:#}");
    api.set("A-1", "EAST", 9).await;
    let (s2, again) = api.upload_as(ADMIN, "/uploads/inventory", file, Some("k-1")).await;
    assert_eq!((s2, &again), (StatusCode::OK, &first), "a replay answers as the first time");
    assert_eq!(api.on_hand("A-1", "EAST").await, 9, "and does not apply the file again");
    let (s3, body) = api.upload_as(ADMIN, "/uploads/inventory", "sku,fc,on_hand\nA-1,EAST,5\n", Some("k-1")).await;
    assert_eq!((s3, body["error"]["code"].clone()), (StatusCode::CONFLICT, json!("conflict")));
}
