//! `/tokens`: API tokens (admin only). A secret is shown once, at creation.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stocksync_core::auth::Role;
use stocksync_store::views::TokenView;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::{Caller, new_secret};
use super::error::{ApiError, ApiResult, Detail, ErrorBody};
use super::extract::Json;
use super::idempotency::Unrepeatable;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(delete))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    pub name: Option<String>,
    /// viewer, operator or admin.
    pub role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub name: String,
    pub role: String,
    /// The secret: shown only in this answer.
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<TokenView> for Token {
    fn from(v: TokenView) -> Self {
        Self {
            name: v.name,
            role: v.role.as_str().to_owned(),
            created_at: v.created_at.to_string(),
            last_used_at: v.last_used_at.map(|t| t.to_string()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

/// Creates a token; the answer carries its secret, once.
#[utoipa::path(post, path = "/tokens", operation_id = "create_token", tag = "tokens", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewToken>,
) -> ApiResult<(StatusCode, Extension<Unrepeatable>, axum::Json<CreatedToken>)> {
    caller.require(Role::Admin)?;
    let mut errors = Vec::new();
    if body.name.is_none() {
        errors.push(Detail::field("name", "is required"));
    }
    let role = match body.role.as_deref() {
        None => {
            errors.push(Detail::field("role", "is required"));
            None
        }
        Some(r) => Role::parse("role", r).map_err(|e| errors.push(e.into())).ok(),
    };
    let (Some(name), Some(role), true) = (body.name, role, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let secret = new_secret()?;
    st.store.create_token(&name, role, &secret).await?;
    tracing::info!(token.name = %name, token.role = role.as_str(), by = %caller.name, "token created");
    let created = CreatedToken { name, role: role.as_str().to_owned(), token: secret };
    // The secret must exist nowhere but in this answer: not in the replay store either.
    Ok((StatusCode::CREATED, Extension(Unrepeatable), axum::Json(created)))
}

#[utoipa::path(get, path = "/tokens", operation_id = "list_tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = ErrorBody)))]
async fn list(State(st): State<AppState>, caller: Caller) -> ApiResult<axum::Json<TokenList>> {
    // Names and roles only, never secrets: like every GET, open to viewers.
    caller.require(Role::Viewer)?;
    let tokens = st.store.tokens().await?;
    Ok(axum::Json(TokenList { tokens: tokens.into_iter().map(Token::from).collect() }))
}

/// Deletes a token; it stops working at once.
#[utoipa::path(delete, path = "/tokens/{name}", operation_id = "delete_token",
    tag = "tokens", params(("name" = String, Path, description = "token name")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(st): State<AppState>, caller: Caller, Path(name): Path<String>) -> ApiResult<StatusCode> {
    caller.require(Role::Admin)?;
    st.store.delete_token(&name).await?;
    tracing::info!(token.name = %name, by = %caller.name, "token deleted");
    Ok(StatusCode::NO_CONTENT)
}
