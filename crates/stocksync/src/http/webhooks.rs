//! `POST /webhooks/{channel_id}`: inbound order notifications, verified the
//! channel's way (a bad signature is 401 and logged), then imported through
//! the same idempotent ingest as polling.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use stocksync_channels::connector::WebhookEvent;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use crate::workers::import::ImportWorker;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// What a webhook did.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// Set when the notification was acknowledged without importing anything, saying why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub rejected: usize,
}

/// An order notification from a marketplace, verified the channel's way
/// (e.g. Shopify's `X-Shopify-Hmac-Sha256`); no bearer token.
#[utoipa::path(post, path = "/webhooks/{channel_id}", operation_id = "receive_webhook", tag = "webhooks", security(()),
    params(("channel_id" = i64, Path, description = "channel id")),
    request_body(content = String, description = "the marketplace's payload, verbatim", content_type = "application/json"),
    responses((status = 200, body = WebhookAnswer, description = "verified and imported (or ignored)"),
              (status = 401, body = ErrorBody, description = "the signature does not verify"),
              (status = 404, body = ErrorBody, description = "no such channel")))]
async fn receive(
    State(st): State<AppState>,
    Path(channel_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, axum::Json<WebhookAnswer>), ApiError> {
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
        WebhookEvent::Ignored(topic) => {
            Ok((StatusCode::OK, axum::Json(WebhookAnswer { ignored: Some(topic), ..WebhookAnswer::default() })))
        }
        WebhookEvent::Orders(orders) => {
            if !ch.view.settings.import_orders {
                let ignored = Some("import_orders is off".to_owned());
                return Ok((StatusCode::OK, axum::Json(WebhookAnswer { ignored, ..WebhookAnswer::default() })));
            }
            let worker = ImportWorker::new(st.store.clone(), st.channels.clone());
            let actor = format!("webhook:{}", ch.view.name);
            let report = worker.ingest(id, &orders, &actor).await.map_err(|e| ApiError::internal(e.to_string()))?;
            Ok((
                StatusCode::OK,
                axum::Json(WebhookAnswer {
                    ignored: None,
                    created: report.created,
                    changed: report.changed,
                    unchanged: report.unchanged,
                    rejected: report.rejected.len(),
                }),
            ))
        }
    }
}
