//! `POST /webhooks/{channel_id}`: inbound order notifications, verified the
//! channel's way (a bad signature is 401 and logged), then imported through
//! the same idempotent ingest as polling.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::json;
use stocksync_channels::connector::WebhookEvent;

use super::AppState;
use super::error::ApiError;
use crate::workers::import::ImportWorker;

pub fn routes() -> Router<AppState> {
    Router::new().route("/webhooks/{channel_id}", post(receive))
}

async fn receive(
    State(st): State<AppState>,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let id: i64 = channel_id.parse().map_err(|_| ApiError::not_found(format!("no channel {channel_id}")))?;
    let live = st.channels.load().await.map_err(|e| ApiError::internal(e.to_string()))?;
    let Some(ch) = live.into_iter().find(|c| c.view.id == id) else {
        return Err(ApiError::not_found(format!("no channel {id} with a connector")));
    };
    let event = ch.connector.verify_webhook(&headers, &body).map_err(|e| {
        tracing::warn!(channel.id = id, error = %e, "webhook refused");
        ApiError::unauthorized(format!("the webhook could not be verified: {}", e.message))
    })?;
    match event {
        WebhookEvent::Ignored(topic) => Ok((StatusCode::OK, axum::Json(json!({"ignored": topic})))),
        WebhookEvent::Orders(orders) => {
            if !ch.view.settings.import_orders {
                return Ok((StatusCode::OK, axum::Json(json!({"ignored": "import_orders is off"}))));
            }
            let worker = ImportWorker::new(st.store.clone(), st.channels.clone());
            let actor = format!("webhook:{}", ch.view.name);
            let report = worker.ingest(id, &orders, &actor).await.map_err(|e| ApiError::internal(e.to_string()))?;
            Ok((
                StatusCode::OK,
                axum::Json(json!({
                    "created": report.created, "changed": report.changed, "unchanged": report.unchanged,
                    "rejected": report.rejected.len(),
                })),
            ))
        }
    }
}
