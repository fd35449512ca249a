//! `/inventory`: stock per FC, what each listing gets, and manual edits.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use stocksync_core::auth::Role;
use stocksync_core::books::Level;
use stocksync_core::workflow::StockTarget;
use stocksync_store::RequestKey;
use stocksync_store::views::{InventoryView, LevelFilter, LevelView};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Detail, ErrorBody};
use super::extract::{Json, Query};
use super::page::{self, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(get_one)).routes(routes!(set)).routes(routes!(adjust))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FcLevel {
    pub fc: String,
    pub on_hand: i64,
    pub committed: i64,
    pub available: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListingQuantity {
    /// Channel id.
    pub channel: i64,
    pub channel_sku: String,
    /// What the listing should show now (PRODUCT.md §4).
    pub quantity: i64,
    pub last_pushed_quantity: Option<i64>,
    /// RFC 3339.
    pub last_pushed_at: Option<String>,
    /// `in_sync`, `pending` or `failed`.
    pub state: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Inventory {
    pub sku: String,
    pub kind: String,
    pub on_hand: i64,
    pub committed: i64,
    /// For a bundle: the buildable count.
    pub available: i64,
    /// For a bundle: per-FC buildable counts.
    pub levels: Vec<FcLevel>,
    pub listings: Vec<ListingQuantity>,
}

impl From<InventoryView> for Inventory {
    fn from(v: InventoryView) -> Self {
        Self {
            sku: v.sku,
            kind: v.kind,
            on_hand: v.totals.on_hand,
            committed: v.totals.committed,
            available: v.totals.available,
            levels: v
                .levels
                .into_iter()
                .map(|(fc, c)| FcLevel { fc, on_hand: c.on_hand, committed: c.committed, available: c.available })
                .collect(),
            listings: v
                .listings
                .into_iter()
                .map(|l| ListingQuantity {
                    channel: l.channel,
                    channel_sku: l.channel_sku,
                    quantity: l.quantity,
                    last_pushed_quantity: l.last_pushed_quantity,
                    last_pushed_at: l.last_pushed_at.map(|t| t.to_string()),
                    state: l.state.to_owned(),
                })
                .collect(),
        }
    }
}

/// One stock level.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockLevel {
    pub sku: String,
    pub fc: String,
    pub on_hand: i64,
    pub committed: i64,
    pub available: i64,
}

impl StockLevel {
    fn of(sku: String, fc: String, l: Level) -> Self {
        Self { sku, fc, on_hand: l.on_hand, committed: l.committed, available: l.available() }
    }
}

impl From<LevelView> for StockLevel {
    fn from(v: LevelView) -> Self {
        Self {
            sku: v.sku,
            fc: v.fc,
            on_hand: v.counts.on_hand,
            committed: v.counts.committed,
            available: v.counts.available,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelList {
    pub levels: Vec<StockLevel>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LevelQuery {
    pub fc: Option<String>,
    pub sku_prefix: Option<String>,
    /// Only levels with `available` below this.
    pub available_below: Option<i64>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SetLevel {
    /// Units free to sell: `on_hand` becomes `committed + available`.
    pub available: Option<i64>,
    /// Physical units; below `committed` it is a counting correction.
    pub on_hand: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Adjustment {
    /// Added to `on_hand` (negative for a loss).
    pub delta: Option<i64>,
    pub reason: Option<String>,
}

/// Levels by `(sku, fc)`.
#[utoipa::path(get, path = "/inventory", operation_id = "list_levels", tag = "inventory", params(LevelQuery),
    responses((status = 200, body = LevelList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<LevelQuery>,
) -> ApiResult<axum::Json<LevelList>> {
    caller.require(Role::Viewer)?;
    let paging = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = paging.limit()?;
    let after = paging.cursor_parts(2)?.map(|mut p| {
        let fc = p.pop().unwrap_or_default();
        (p.pop().unwrap_or_default(), fc)
    });
    let filter = LevelFilter { fc: q.fc, sku_prefix: q.sku_prefix, available_below: q.available_below, after };
    let levels = st.store.levels(filter, limit).await?;
    let next_cursor = page::next(&levels, limit, |l| page::cursor(&[&l.sku, &l.fc]));
    Ok(axum::Json(LevelList { levels: levels.into_iter().map(StockLevel::from).collect(), next_cursor }))
}

/// Per-FC levels, totals, and what each listing gets.
#[utoipa::path(get, path = "/inventory/{sku}", operation_id = "get_inventory",
    tag = "inventory", params(("sku" = String, Path, description = "SKU")),
    responses((status = 200, body = Inventory), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(st): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
) -> ApiResult<axum::Json<Inventory>> {
    caller.require(Role::Viewer)?;
    let inv = st.store.inventory(&sku).await?.ok_or_else(|| ApiError::not_found(format!("no item {sku}")))?;
    Ok(axum::Json(inv.into()))
}

/// Sets `available` or `on_hand` at one FC.
#[utoipa::path(put, path = "/inventory/{sku}/{fc}", operation_id = "set_level",
    tag = "inventory", request_body = SetLevel,
    params(("sku" = String, Path, description = "SKU"), ("fc" = String, Path, description = "FC code")),
    responses((status = 200, body = StockLevel), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set(
    State(st): State<AppState>,
    caller: Caller,
    Path((sku, fc)): Path<(String, String)>,
    Json(body): Json<SetLevel>,
) -> ApiResult<axum::Json<StockLevel>> {
    caller.require(Role::Operator)?;
    let target = match (body.available, body.on_hand) {
        (Some(n), None) => StockTarget::Available(n),
        (None, Some(n)) => StockTarget::OnHand(n),
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(vec![
                Detail::field("available", "give either available or on_hand, not both"),
                Detail::field("on_hand", "give either available or on_hand, not both"),
            ]));
        }
        (None, None) => return Err(ApiError::invalid_field("available", "give available or on_hand")),
    };
    let level = st.store.set_stock(&sku, &fc, target, body.reason.as_deref(), &caller.actor()).await?;
    Ok(axum::Json(StockLevel::of(sku, fc, level)))
}

/// Adds a delta to `on_hand` (422 if it would go below 0).
#[utoipa::path(post, path = "/inventory/{sku}/{fc}/adjustments", operation_id = "adjust_level",
    tag = "inventory", request_body = Adjustment,
    params(("sku" = String, Path, description = "SKU"), ("fc" = String, Path, description = "FC code")),
    responses((status = 200, body = StockLevel), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn adjust(
    State(st): State<AppState>,
    caller: Caller,
    Path((sku, fc)): Path<(String, String)>,
    request: Option<axum::Extension<RequestKey>>,
    Json(body): Json<Adjustment>,
) -> ApiResult<axum::Json<StockLevel>> {
    caller.require(Role::Operator)?;
    let Some(delta) = body.delta else { return Err(ApiError::invalid_field("delta", "is required")) };
    let (reason, actor) = (body.reason.as_deref(), caller.actor());
    // A delta is not idempotent by itself: under an Idempotency-Key the
    // store applies it once, even if this is a retry of a lost answer.
    let level = match request {
        Some(axum::Extension(key)) => st.store.adjust_stock_once(key, &sku, &fc, delta, reason, &actor).await?,
        None => st.store.adjust_stock(&sku, &fc, delta, reason, &actor).await?,
    };
    Ok(axum::Json(StockLevel::of(sku, fc, level)))
}
