//! `/sync/status`: per channel, import health and push backlog.

use axum::extract::State;
use serde::Serialize;
use stocksync_core::auth::Role;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiResult, ErrorBody};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LatencyMs {
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelSync {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub import_orders: bool,
    pub last_import_at: Option<String>,
    pub last_import_error: Option<String>,
    /// Listings waiting for a push.
    pub pending_pushes: i64,
    /// Listings whose last push failed.
    pub failed_pushes: i64,
    /// Push latency (stock change → channel acknowledged); null until a push happened.
    pub push_latency_ms: LatencyMs,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStatus {
    pub channels: Vec<ChannelSync>,
}

#[utoipa::path(get, path = "/sync/status", operation_id = "get_sync_status", tag = "sync",
    responses((status = 200, body = SyncStatus), (status = 401, body = ErrorBody)))]
async fn status(State(st): State<AppState>, caller: Caller) -> ApiResult<axum::Json<SyncStatus>> {
    caller.require(Role::Viewer)?;
    let rows = st.store.sync_status().await?;
    let channels = rows
        .into_iter()
        .map(|c| ChannelSync {
            id: c.id,
            name: c.name,
            kind: c.kind,
            import_orders: c.import_orders,
            last_import_at: c.last_import_at.map(|t| t.to_string()),
            last_import_error: c.last_import_error,
            pending_pushes: c.pending_pushes,
            failed_pushes: c.failed_pushes,
            push_latency_ms: {
                let p = st.latency.percentiles(c.id);
                LatencyMs { p50: p.map(|p| p.0), p99: p.map(|p| p.1) }
            },
        })
        .collect();
    Ok(axum::Json(SyncStatus { channels }))
}
