//! `/uploads/…` and `/exports/…`: CSV in and out (PRODUCT.md §6).

use utoipa_axum::router::OpenApiRouter;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
