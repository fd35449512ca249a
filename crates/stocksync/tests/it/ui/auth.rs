//! Sign-in, sessions, CSRF and roles.

use axum::http::StatusCode;

use super::support::{Browser, PASSWORD, Ui};

#[tokio::test]
async fn pages_need_a_session_and_sign_in_leads_back() {
    let ui = Ui::new().await;
    let anonymous = ui.get("/orders?status=backordered", None).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location(), "/login?next=%2Forders%3Fstatus%3Dbackordered");
    let stale = Browser { cookie: "stocksync_session=not-a-session".into(), csrf: String::new() };
    let res = ui.get("/", Some(&stale)).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.set_cookies().iter().any(|c| c.starts_with("stocksync_session=;") && c.contains("Max-Age=0")));
}

#[tokio::test]
async fn sign_in_sets_a_safe_cookie_and_wrong_passwords_name_the_field() {
    let ui = Ui::new().await;
    let form = ui.get("/login", None).await;
    let pre = form.set_cookies().into_iter().find(|c| c.starts_with("stocksync_pre=")).unwrap();
    let pre_value = pre.split(';').next().unwrap().to_owned();
    let csrf = super::support::csrf_in(&form.body).unwrap();
    let b = Browser { cookie: pre_value, csrf };
    let wrong = ui.post("/login", &b, &[("name", "admin"), ("password", "nope nope")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("id=\"err-password\""), "{}", wrong.body);
    let unknown = ui.post("/login", &b, &[("name", "ghost"), ("password", PASSWORD)]).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    let empty = ui.post("/login", &b, &[("name", ""), ("password", "")]).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("id=\"err-name\"") && empty.body.contains("id=\"err-password\""));
    // An open redirect is refused: only local paths follow sign-in.
    let ok = ui.post("/login", &b, &[("name", "admin"), ("password", PASSWORD), ("next", "//evil.example/")]).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/");
    let session = ok.set_cookies().into_iter().find(|c| c.starts_with("stocksync_session=")).unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && !session.contains("Secure"),
        "{session}"
    );
    // Behind a TLS-terminating proxy the cookie is Secure.
    let req = axum::http::Request::get("/login")
        .header("x-forwarded-proto", "https")
        .body(axum::body::Body::empty())
        .unwrap();
    let tls = ui.send(req).await;
    assert!(tls.set_cookies().iter().all(|c| c.contains("; Secure")), "{:?}", tls.set_cookies());
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let ui = Ui::new().await;
    let admin = ui.sign_in("admin").await;
    let out = ui.post("/logout", &admin, &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(ui.get("/", Some(&admin)).await.status, StatusCode::SEE_OTHER, "the old cookie no longer works");
}

#[tokio::test]
async fn posts_without_the_session_token_are_refused_and_change_nothing() {
    let ui = Ui::new().await;
    let channel = ui.seed().await;
    let admin = ui.sign_in("admin").await;
    let other = ui.sign_in("operator").await;
    let order =
        ui.store.orders(Default::default(), 10).await.unwrap().iter().find(|o| o.external_id == "W-3").unwrap().id;
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("/inventory/A-1".into(), vec![("fc", "EAST"), ("mode", "on_hand"), ("value", "50")]),
        ("/fcs".into(), vec![("code", "NORTH"), ("name", "North"), ("priority", "3")]),
        ("/fcs/EAST".into(), vec![("name", "Renamed"), ("priority", "1")]),
        ("/fcs/EAST/move".into(), vec![("direction", "down")]),
        ("/items".into(), vec![("sku", "NEW-1"), ("kind", "stock")]),
        ("/items/A-1".into(), vec![("title", "Changed")]),
        ("/integrations".into(), vec![("name", "evil"), ("kind", "api")]),
        (format!("/integrations/{channel}"), vec![("name", "shop"), ("percent", "50")]),
        (format!("/orders/{order}/map"), vec![("channel_sku", "MYSTERY"), ("sku", "A-1"), ("how", "alias")]),
        (format!("/orders/{order}/status"), vec![("action", "cancel")]),
        ("/logout".into(), vec![]),
    ];
    for (path, fields) in &forms {
        let none = ui.post_form(path, Some(&admin), fields, false).await;
        assert_eq!(none.status, StatusCode::FORBIDDEN, "POST {path} without a token");
        // Another session's token is no better.
        let foreign = Browser { cookie: admin.cookie.clone(), csrf: other.csrf.clone() };
        assert_eq!(
            ui.post(path, &foreign, fields).await.status,
            StatusCode::FORBIDDEN,
            "POST {path} with another session's token"
        );
    }
    // A multipart upload is checked too.
    let up = upload(&ui, &admin, "sku,fc,on_hand\nA-1,EAST,99\n", false).await;
    assert_eq!(up.status, StatusCode::FORBIDDEN);
    // Nothing changed.
    assert_eq!(ui.store.inventory("A-1").await.unwrap().unwrap().totals.on_hand, 2);
    assert!(ui.store.fc("NORTH").await.unwrap().is_none());
    assert_eq!(ui.store.fc("EAST").await.unwrap().unwrap().name, "East");
    assert!(ui.store.item("NEW-1").await.unwrap().is_none());
    assert_eq!(ui.store.channels().await.unwrap().len(), 1);
    assert_eq!(ui.store.order(order).await.unwrap().unwrap().status, "needs_attention");
    assert_eq!(ui.get("/", Some(&admin)).await.status, StatusCode::OK, "still signed in");
}

/// Posts a CSV to `/uploads` as multipart, with or without the token.
pub async fn upload(ui: &Ui, who: &Browser, csv: &str, with_token: bool) -> super::support::Page {
    upload_as(ui, who, csv, with_token, "preview").await
}

pub async fn upload_as(ui: &Ui, who: &Browser, csv: &str, with_token: bool, action: &str) -> super::support::Page {
    upload_kind(ui, who, "inventory", csv, with_token, action).await
}

pub async fn upload_kind(
    ui: &Ui,
    who: &Browser,
    kind: &str,
    csv: &str,
    with_token: bool,
    action: &str,
) -> super::support::Page {
    let boundary = "XyZ-boundary-123";
    let mut body = String::new();
    if with_token {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
            who.csrf
        ));
    }
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n"));
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\n{action}\r\n"));
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"stock.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    ));
    let req = axum::http::Request::post("/uploads")
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("cookie", &who.cookie)
        .body(axum::body::Body::from(body))
        .unwrap();
    ui.send(req).await
}

#[tokio::test]
async fn roles_limit_what_each_user_may_change() {
    let ui = Ui::new().await;
    ui.seed().await;
    let viewer = ui.sign_in("viewer").await;
    let operator = ui.sign_in("operator").await;
    let set = [("fc", "EAST"), ("mode", "on_hand"), ("value", "7")];
    assert_eq!(ui.post("/inventory/A-1", &viewer, &set).await.status, StatusCode::FORBIDDEN);
    assert_eq!(ui.post("/inventory/A-1", &operator, &set).await.status, StatusCode::SEE_OTHER);
    let fc = [("code", "NORTH"), ("name", "North"), ("priority", "3"), ("active", "on")];
    assert_eq!(ui.post("/fcs", &operator, &fc).await.status, StatusCode::FORBIDDEN);
    // Viewers do not see the forms they cannot use.
    let page = ui.get("/inventory/A-1", Some(&viewer)).await.body;
    assert!(!page.contains("id=\"change-stock\""));
    assert!(ui.get("/inventory/A-1", Some(&operator)).await.body.contains("id=\"change-stock\""));
}
