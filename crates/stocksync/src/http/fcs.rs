//! `/fulfillment-centers`: stock locations and their priorities.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stocksync_core::auth::Role;
use stocksync_core::catalog::FcSpec;
use stocksync_store::views::FcView;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Detail, ErrorBody};
use super::extract::Json;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(update))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Fc {
    pub code: String,
    pub name: String,
    /// 1 is the highest priority.
    pub priority: i64,
    pub active: bool,
}

impl From<FcView> for Fc {
    fn from(v: FcView) -> Self {
        Self { code: v.code, name: v.name, priority: v.priority, active: v.active }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FcList {
    pub fulfillment_centers: Vec<Fc>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewFc {
    pub code: Option<String>,
    pub name: Option<String>,
    pub priority: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FcPatch {
    pub name: Option<String>,
    pub priority: Option<i64>,
    pub active: Option<bool>,
}

/// Every FC, by `(priority, code)`.
#[utoipa::path(get, path = "/fulfillment-centers", operation_id = "list_fulfillment_centers",
    tag = "fulfillment-centers",
    responses((status = 200, body = FcList), (status = 401, body = ErrorBody)))]
async fn list(State(st): State<AppState>, caller: Caller) -> ApiResult<axum::Json<FcList>> {
    caller.require(Role::Viewer)?;
    let fcs = st.store.fcs().await?;
    Ok(axum::Json(FcList { fulfillment_centers: fcs.into_iter().map(Fc::from).collect() }))
}

#[utoipa::path(post, path = "/fulfillment-centers", operation_id = "create_fulfillment_center",
    tag = "fulfillment-centers", request_body = NewFc,
    responses((status = 201, body = Fc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewFc>,
) -> ApiResult<(StatusCode, axum::Json<Fc>)> {
    caller.require(Role::Admin)?;
    let mut missing = Vec::new();
    for (field, absent) in
        [("code", body.code.is_none()), ("name", body.name.is_none()), ("priority", body.priority.is_none())]
    {
        if absent {
            missing.push(Detail::field(field, "is required"));
        }
    }
    if !missing.is_empty() {
        return Err(ApiError::invalid(missing));
    }
    let spec = FcSpec::new(
        body.code.as_deref().unwrap_or_default(),
        body.name.as_deref().unwrap_or_default(),
        body.priority.unwrap_or_default(),
        body.active.unwrap_or(true),
    )?;
    let code = spec.code.as_str().to_owned();
    st.store.create_fc(spec).await?;
    let fc = st.store.fc(&code).await?.ok_or_else(|| ApiError::internal("the new FC vanished"))?;
    Ok((StatusCode::CREATED, axum::Json(fc.into())))
}

#[utoipa::path(patch, path = "/fulfillment-centers/{code}", operation_id = "update_fulfillment_center",
    tag = "fulfillment-centers", request_body = FcPatch,
    params(("code" = String, Path, description = "FC code")),
    responses((status = 200, body = Fc), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(body): Json<FcPatch>,
) -> ApiResult<axum::Json<Fc>> {
    caller.require(Role::Admin)?;
    let fc = st.store.update_fc(&code, body.name, body.priority, body.active).await?;
    Ok(axum::Json(fc.into()))
}
