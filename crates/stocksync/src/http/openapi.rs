//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! served at `/api/v1/openapi.json`.

use std::sync::Arc;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "stocksync", description = "Multichannel inventory and order hub that never oversells. See API.md."),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn serve(doc: Arc<utoipa::openapi::OpenApi>) -> Json<serde_json::Value> {
    Json(serde_json::to_value(&*doc).unwrap_or_default())
}
