//! `/movements`: the append-only stock ledger, oldest first.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use stocksync_core::auth::Role;
use stocksync_store::views::{MovementFilter, MovementView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::Query;
use super::page::{self, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Movement {
    pub id: i64,
    pub at: String,
    pub sku: String,
    pub fc: String,
    pub on_hand_delta: i64,
    pub committed_delta: i64,
    pub on_hand_after: i64,
    pub committed_after: i64,
    pub reason: String,
    /// What caused it, e.g. `order:42`.
    pub reference: String,
    pub actor: String,
}

impl From<MovementView> for Movement {
    fn from(m: MovementView) -> Self {
        Self {
            id: m.id,
            at: m.at.to_string(),
            sku: m.sku,
            fc: m.fc,
            on_hand_delta: m.on_hand_delta,
            committed_delta: m.committed_delta,
            on_hand_after: m.on_hand_after,
            committed_after: m.committed_after,
            reason: m.reason,
            reference: m.reference,
            actor: m.actor,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementList {
    pub movements: Vec<Movement>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    pub sku: Option<String>,
    pub fc: Option<String>,
    /// Order id: the movements it caused.
    pub order: Option<i64>,
    /// Only movements with a larger id.
    pub after_id: Option<i64>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/movements", operation_id = "list_movements", tag = "movements", params(MovementQuery),
    responses((status = 200, body = MovementList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<MovementQuery>,
) -> ApiResult<axum::Json<MovementList>> {
    caller.require(Role::Viewer)?;
    let paging = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = paging.limit()?;
    let cursor_id = match paging.cursor_parts(1)? {
        Some(p) => Some(
            p[0].parse::<i64>().map_err(|_| ApiError::invalid_field("cursor", "is not a cursor this API gave out"))?,
        ),
        None => None,
    };
    let after_id = cursor_id.max(q.after_id);
    let filter = MovementFilter { sku: q.sku, fc: q.fc, order: q.order, after_id };
    let rows = st.store.movements(filter, limit).await?;
    let next_cursor = page::next(&rows, limit, |m| page::cursor(&[&m.id.to_string()]));
    Ok(axum::Json(MovementList { movements: rows.into_iter().map(Movement::from).collect(), next_cursor }))
}
