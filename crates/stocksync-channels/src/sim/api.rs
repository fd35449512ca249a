//! A receiver for `api`-channel quantity pushes (API.md): checks the
//! signature, keeps the latest quantity and version per channel SKU, and
//! records any version that went backwards (a stale push: invariant 7).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::{Deserialize, Serialize};

use super::faults::{self, FaultInjector, Faults};
use crate::api::SIGNATURE_HEADER;
use crate::signing::verify_stocksync_signature;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Received {
    pub quantity: i64,
    pub version: i64,
    /// Pushes received for this SKU, duplicates included.
    pub pushes: u64,
    /// Milliseconds since the Unix epoch when the last push arrived.
    pub at_ms: i64,
}

/// What the receiver has seen.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReceiverState {
    pub listings: BTreeMap<String, Received>,
    pub batches: u64,
    pub bad_signatures: u64,
    /// `channel_sku: version received after a newer one`.
    pub stale: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ApiSim {
    secret: String,
    state: Arc<Mutex<ReceiverState>>,
    pub faults: FaultInjector,
}

#[derive(Debug, Deserialize)]
struct Batch {
    #[expect(dead_code, reason = "part of the documented body; the receiver serves one channel")]
    channel: i64,
    updates: Vec<Update>,
}

#[derive(Debug, Deserialize)]
struct Update {
    channel_sku: String,
    quantity: i64,
    version: i64,
}

impl ApiSim {
    pub fn new(secret: impl Into<String>, faults: Faults) -> Self {
        Self { secret: secret.into(), state: Arc::default(), faults: FaultInjector::new(faults) }
    }

    pub fn state(&self) -> ReceiverState {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// `POST /` receives pushes; `GET /_sim/state` shows them; `/_sim/faults` controls faults.
    pub fn router(&self) -> Router {
        let control = Router::new()
            .route("/_sim/faults", get(faults::get_faults).post(faults::set_faults))
            .with_state(self.faults.clone());
        Router::new()
            .route("/", post(receive))
            .route("/_sim/state", get(show))
            .with_state(self.clone())
            .merge(control)
            .layer(middleware::from_fn_with_state(self.faults.clone(), faults::inject))
    }
}

async fn show(State(sim): State<ApiSim>) -> Json<ReceiverState> {
    Json(sim.state())
}

async fn receive(State(sim): State<ApiSim>, headers: HeaderMap, body: Bytes) -> (StatusCode, String) {
    let signature = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !verify_stocksync_signature(&sim.secret, &body, signature) {
        sim.state.lock().unwrap_or_else(PoisonError::into_inner).bad_signatures += 1;
        return (StatusCode::UNAUTHORIZED, "bad signature".into());
    }
    let batch: Batch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("bad body: {e}")),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    {
        let mut st = sim.state.lock().unwrap_or_else(PoisonError::into_inner);
        st.batches += 1;
        for u in batch.updates {
            let entry = st.listings.entry(u.channel_sku.clone()).or_default();
            entry.pushes += 1;
            if u.version < entry.version {
                let msg = format!("{}: version {} after {}", u.channel_sku, u.version, entry.version);
                st.stale.push(msg);
                continue;
            }
            entry.quantity = u.quantity;
            entry.version = u.version;
            entry.at_ms = now;
        }
    }
    if sim.faults.roll(|f| f.lose_answer) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "applied, but the answer was lost".into());
    }
    (StatusCode::OK, "ok".into())
}
