//! `/channels`.

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
