//! The HTTP JSON API of API.md, as a function of state: `router(state)`.
//!
//! - `error`: the error envelope; `extract`: JSON and query extractors that answer in it.
//! - `auth`: bearer tokens and roles; `idempotency`: `Idempotency-Key` replays.
//! - one module per resource, each with `routes()`: `fcs`, `items`, `inventory`,
//!   `channels` (with listings and order submission), `orders`, `tokens`,
//!   `movements`, `sync`, `uploads` (CSV in and out).
//! - `ops`: `/healthz`, `/metrics`, request metrics; `openapi`: the document.
//!
//! Handlers parse and check input, call one `Store` operation, and shape the
//! answer; they hold no business rules (those live in `stocksync-core`).

pub mod auth;
mod channels;
pub mod error;
pub mod extract;
mod fcs;
pub mod idempotency;
mod inventory;
mod items;
mod listings;
mod movements;
pub mod openapi;
pub mod ops;
mod orders;
pub mod page;
mod sync;
mod tokens;
pub mod uploads;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::get;
use stocksync_store::Store;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use self::error::ApiError;
use crate::workers::channels::Channels;
use crate::workers::latency::LatencyBook;

/// What every handler can reach. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub touches: Arc<auth::Touches>,
    pub in_flight: idempotency::InFlight,
    /// Connectors, for webhook verification.
    pub channels: Channels,
    /// Push latencies, filled by the push worker.
    pub latency: Arc<LatencyBook>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        let channels = Channels::new(store.clone(), stocksync_channels::http::RetryPolicy::default());
        Self {
            store,
            touches: Arc::default(),
            in_flight: idempotency::InFlight::default(),
            channels,
            latency: Arc::default(),
        }
    }
}

/// Every API route with its OpenAPI description, paths relative to `/api/v1`.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(fcs::routes())
        .merge(items::routes())
        .merge(inventory::routes())
        .merge(channels::routes())
        .merge(listings::routes())
        .merge(orders::routes())
        .merge(tokens::routes())
        .merge(movements::routes())
        .merge(sync::routes())
        .merge(uploads::routes())
}

/// The API router and its OpenAPI document, with the root's `/healthz` and `/metrics`.
pub fn api_with_doc() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", api())
        .merge(ops::routes())
        .merge(webhooks::routes())
        .split_for_parts();
    openapi::finish(&mut doc);
    (router, doc)
}

/// The whole HTTP surface: `/api/v1/…`, `/healthz`, `/metrics`, each in the document.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api_with_doc();
    let doc = Arc::new(doc);
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(move || openapi::serve(doc.clone())))
        .merge(crate::ui::routes())
        .fallback(|| async { ApiError::not_found("no such resource; see /api/v1/openapi.json") })
        .method_not_allowed_fallback(|| async {
            ApiError::new_status(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this resource does not accept that method",
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(DefaultBodyLimit::max(extract::JSON_BODY_MAX_BYTES))
        .layer(middleware::from_fn(ops::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
