//! The in-process UI harness: a router over a fresh store per test with one
//! user per role, sign-in through the real form, and GETs and form POSTs
//! that carry the session cookie and (unless told not to) the page's CSRF token.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use stocksync::http::{AppState, router};
use stocksync_core::auth::Role;
use stocksync_core::catalog::{FcSpec, ItemDraft};
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::order::{IncomingOrder, SourceStatus};
use stocksync_core::workflow::StockTarget;
use stocksync_core::{ChannelId, Timestamp};
use stocksync_store::{NewChannel, Store};
use tower::ServiceExt;

use crate::common::{Sandbox, TestDb};

pub const PASSWORD: &str = "correct horse battery";

pub struct Ui {
    pub router: Router,
    pub state: AppState,
    pub store: Store,
    /// Dropped after the router and the store, which use it.
    _db: TestDb,
    /// The database file (on SQLite) and any file a test writes.
    pub sb: Sandbox,
}

/// A signed-in browser: its session cookie and the CSRF token its pages carry.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
    }
}

/// The value of the first `name="csrf" value="…"` in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    Some(html[at..].split('"').next()?.to_owned())
}

fn cookie_value(set_cookie: &[String], name: &str) -> Option<String> {
    set_cookie.iter().find_map(|c| c.strip_prefix(&format!("{name}="))?.split(';').next().map(str::to_owned))
}

impl Ui {
    pub async fn new() -> Self {
        let sb = Sandbox::new();
        let db = TestDb::new(&sb, "db");
        let store = Store::open(&db.url).expect("open store");
        // One hash for the three users: argon2 is slow on purpose.
        let hash = stocksync::ui::password::hash(PASSWORD).expect("hash");
        for (name, role) in [("admin", Role::Admin), ("operator", Role::Operator), ("viewer", Role::Viewer)] {
            store.create_user(name, role, &hash).await.expect("create user");
        }
        let state = AppState::new(store.clone());
        Self { router: router(state.clone()), state, store, _db: db, sb }
    }

    pub async fn send(&self, req: Request<Body>) -> Page {
        let res = self.router.clone().oneshot(req).await.expect("infallible router");
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        Page {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).expect("UTF-8 page"),
        }
    }

    pub async fn get(&self, path: &str, who: Option<&Browser>) -> Page {
        let mut req = Request::get(path);
        if let Some(b) = who {
            req = req.header("cookie", &b.cookie);
        }
        self.send(req.body(Body::empty()).expect("request")).await
    }

    /// A form POST; `csrf` adds the browser's token as the `csrf` field.
    pub async fn post_form(&self, path: &str, who: Option<&Browser>, fields: &[(&str, &str)], csrf: bool) -> Page {
        let mut form = form_urlencoded::Serializer::new(String::new());
        if let (true, Some(b)) = (csrf, who) {
            form.append_pair("csrf", &b.csrf);
        }
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        let mut req = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        if let Some(b) = who {
            req = req.header("cookie", &b.cookie);
        }
        self.send(req.body(Body::from(form.finish())).expect("request")).await
    }

    pub async fn post(&self, path: &str, who: &Browser, fields: &[(&str, &str)]) -> Page {
        self.post_form(path, Some(who), fields, true).await
    }

    /// Signs in through the form, as a browser would.
    pub async fn sign_in(&self, name: &str) -> Browser {
        let form = self.get("/login", None).await;
        assert_eq!(form.status, StatusCode::OK);
        let pre = cookie_value(&form.set_cookies(), "stocksync_pre").expect("pre-session cookie");
        let csrf = csrf_in(&form.body).expect("login form token");
        let pre_cookie = Browser { cookie: format!("stocksync_pre={pre}"), csrf };
        let res = self.post("/login", &pre_cookie, &[("name", name), ("password", PASSWORD), ("next", "/")]).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "sign-in as {name}: {}", res.body);
        let session = cookie_value(&res.set_cookies(), "stocksync_session").expect("session cookie");
        let cookie = format!("stocksync_session={session}");
        let home = self.get("/", Some(&Browser { cookie: cookie.clone(), csrf: String::new() })).await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        Browser { csrf: csrf_in(&home.body).expect("a form token on the dashboard"), cookie }
    }

    /// A small catalog: EAST (1) and WEST (2); A-1 (2 at EAST), B-2 (0);
    /// KIT = A-1 + B-2; an `api` channel `shop`; three orders: allocated,
    /// backordered, and one with an unmapped SKU. Returns the channel id.
    pub async fn seed(&self) -> i64 {
        let s = &self.store;
        s.create_fc(FcSpec::new("EAST", "East", 1, true).unwrap()).await.unwrap();
        s.create_fc(FcSpec::new("WEST", "West", 2, true).unwrap()).await.unwrap();
        for sku in ["A-1", "B-2"] {
            s.create_item(
                ItemDraft {
                    sku: sku.into(),
                    title: Some(format!("Item {sku}")),
                    kind: "stock".into(),
                    ..Default::default()
                },
                "t",
            )
            .await
            .unwrap();
        }
        let kit = ItemDraft {
            sku: "KIT".into(),
            kind: "bundle".into(),
            components: vec![("A-1".into(), 1), ("B-2".into(), 1)],
            ..Default::default()
        };
        s.create_item(kit, "t").await.unwrap();
        s.set_stock("A-1", "EAST", StockTarget::OnHand(2), Some("seed"), "t").await.unwrap();
        let channel = s
            .create_channel(NewChannel {
                name: "shop".into(),
                kind: ChannelKind::Api,
                base_url: None,
                credentials_json: "{}".into(),
                settings: ChannelSettings::defaults(ChannelKind::Api),
            })
            .await
            .unwrap();
        for (ext, sku, qty) in [("W-1", "A-1", 1), ("W-2", "B-2", 3), ("W-3", "MYSTERY", 1)] {
            self.order(channel.0, ext, &[("1", sku, qty)]).await;
        }
        channel.0
    }

    pub async fn order(&self, channel: i64, external_id: &str, lines: &[(&str, &str, i64)]) -> i64 {
        let lines: Vec<(String, String, i64)> = lines.iter().map(|(l, s, q)| ((*l).into(), (*s).into(), *q)).collect();
        let at = Timestamp(1_750_000_000_000);
        let o = IncomingOrder::new(ChannelId(channel), external_id, SourceStatus::Open, at, None, &lines).unwrap();
        self.store.import_order(o, "t").await.unwrap().order.0
    }
}
