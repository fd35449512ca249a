//! A stand-in for stocksync's webhook route, shared by the connectors that
//! take webhooks: it verifies each delivery with the connector, answers 401
//! on a bad signature, and keeps what it accepted.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use stocksync_channels::Connector;
use stocksync_channels::connector::WebhookEvent;
use stocksync_channels::sim::{self, Running};

#[derive(Clone)]
pub struct Receiver {
    connector: Connector,
    pub got: Arc<Mutex<Vec<(Instant, WebhookEvent)>>>,
    pub refused: Arc<Mutex<u32>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    match r.connector.verify_webhook(&headers, &body) {
        Ok(event) => {
            r.got.lock().unwrap().push((Instant::now(), event));
            StatusCode::OK
        }
        Err(_) => {
            *r.refused.lock().unwrap() += 1;
            StatusCode::UNAUTHORIZED
        }
    }
}

/// Serves the receiver at `{url}/hooks`.
pub async fn receiver(connector: Connector) -> (Receiver, Running) {
    let r = Receiver { connector, got: Arc::default(), refused: Arc::default() };
    let app = axum::Router::new().route("/hooks", post(receive)).with_state(r.clone());
    (r.clone(), sim::spawn(app, "127.0.0.1:0").await.unwrap())
}

/// Waits up to 2 s for `check` to hold (callers assert afterwards).
pub async fn settle(check: impl Fn() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
