//! Operations endpoints at the server root: `/healthz` (no auth) and
//! `/metrics` (Prometheus text, no auth), and the request metrics.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};

/// Histogram buckets for durations, in seconds: from a cached read to a slow channel.
const DURATION_BUCKETS_S: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// The process's metrics recorder, installed on first use. One per process:
/// the `metrics` facade has a single global recorder.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), DURATION_BUCKETS_S)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder was installed first; then ours stays empty.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will not see this process's metrics");
        }
        handle
    })
}

/// The routes at the server root, with their OpenAPI descriptions.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(render))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// Whether the server and its database answer (no token needed).
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "meta", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.fcs().await {
        Ok(_) => axum::Json(Health { status: "ok" }).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: the database does not answer");
            let mut r = ApiError::internal("the database does not answer").into_response();
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            r
        }
    }
}

/// Counters and histograms in the Prometheus text format (no token needed).
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "meta", security(()),
    responses((status = 200, body = String, content_type = "text/plain")))]
async fn render() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], prometheus().render()).into_response()
}

/// Counts every request and times it, by route template (not raw path:
/// ids in paths would make unbounded label sets).
pub async fn track(req: Request, next: Next) -> Response {
    let _ = prometheus();
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("stocksync_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("stocksync_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}
