//! `/items`: stock items and bundles, with components and aliases.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stocksync_core::auth::Role;
use stocksync_core::catalog::ItemDraft;
use stocksync_store::ItemPatch;
use stocksync_store::views::ItemView;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::{Json, Query};
use super::page::{self, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(get_one, update))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ComponentBody {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    pub sku: String,
    pub title: String,
    /// `stock` or `bundle`.
    pub kind: String,
    pub components: Vec<ComponentBody>,
    pub aliases: Vec<String>,
}

impl From<ItemView> for Item {
    fn from(v: ItemView) -> Self {
        Self {
            sku: v.sku,
            title: v.title,
            kind: v.kind,
            components: v
                .components
                .into_iter()
                .map(|c| ComponentBody { sku: c.sku, quantity: i64::from(c.quantity) })
                .collect(),
            aliases: v.aliases,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ItemList {
    pub items: Vec<Item>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewItem {
    pub sku: Option<String>,
    pub title: Option<String>,
    /// `stock` (default) or `bundle`.
    pub kind: Option<String>,
    pub components: Option<Vec<ComponentBody>>,
    pub aliases: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ItemChanges {
    pub title: Option<String>,
    /// Must equal the current kind if given: an item's kind cannot change.
    pub kind: Option<String>,
    /// Replaces the list.
    pub components: Option<Vec<ComponentBody>>,
    /// Replaces the list.
    pub aliases: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Part of the SKU or title, case-insensitive.
    pub q: Option<String>,
    /// `stock` or `bundle`.
    pub kind: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn pairs(components: Option<Vec<ComponentBody>>) -> Vec<(String, i64)> {
    components.unwrap_or_default().into_iter().map(|c| (c.sku, c.quantity)).collect()
}

/// Items by SKU.
#[utoipa::path(get, path = "/items", operation_id = "list_items", tag = "items", params(ItemQuery),
    responses((status = 200, body = ItemList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<ItemQuery>,
) -> ApiResult<axum::Json<ItemList>> {
    caller.require(Role::Viewer)?;
    let paging = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = paging.limit()?;
    let after = paging.cursor_parts(1)?.map(|mut p| p.remove(0));
    if let Some(k) = &q.kind
        && k != "stock"
        && k != "bundle"
    {
        return Err(ApiError::invalid_field("kind", format!("must be \"stock\" or \"bundle\", got {k:?}")));
    }
    let items = st.store.items(q.q, q.kind, after, limit).await?;
    let next_cursor = page::next(&items, limit, |i| page::cursor(&[&i.sku]));
    Ok(axum::Json(ItemList { items: items.into_iter().map(Item::from).collect(), next_cursor }))
}

#[utoipa::path(post, path = "/items", operation_id = "create_item", tag = "items", request_body = NewItem,
    responses((status = 201, body = Item), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewItem>,
) -> ApiResult<(StatusCode, axum::Json<Item>)> {
    caller.require(Role::Admin)?;
    let Some(sku) = body.sku else { return Err(ApiError::invalid_field("sku", "is required")) };
    let draft = ItemDraft {
        sku: sku.clone(),
        title: body.title,
        kind: body.kind.unwrap_or_else(|| "stock".to_owned()),
        components: pairs(body.components),
        aliases: body.aliases.unwrap_or_default(),
    };
    st.store.create_item(draft, &caller.actor()).await.map_err(already_exists)?;
    let item = st.store.item(&sku).await?.ok_or_else(|| ApiError::internal("the new item vanished"))?;
    Ok((StatusCode::CREATED, axum::Json(item.into())))
}

/// A SKU that is already taken is a conflict with the catalog, not a malformed field.
fn already_exists(e: stocksync_store::StoreError) -> ApiError {
    use stocksync_core::Rejection;
    use stocksync_store::StoreError;
    if let StoreError::Rejected(Rejection::Invalid(errors)) = &e
        && let [only] = errors.as_slice()
        && only.field == "sku"
        && only.message.ends_with("already exists")
    {
        return ApiError::conflict(only.message.clone());
    }
    e.into()
}

#[utoipa::path(get, path = "/items/{sku}", operation_id = "get_item",
    tag = "items", params(("sku" = String, Path, description = "SKU")),
    responses((status = 200, body = Item), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_one(State(st): State<AppState>, caller: Caller, Path(sku): Path<String>) -> ApiResult<axum::Json<Item>> {
    caller.require(Role::Viewer)?;
    let item = st.store.item(&sku).await?.ok_or_else(|| ApiError::not_found(format!("no item {sku}")))?;
    Ok(axum::Json(item.into()))
}

/// Changes the title, or replaces the components or aliases; re-resolves
/// unmapped order lines and re-pushes affected listings.
#[utoipa::path(patch, path = "/items/{sku}", operation_id = "update_item", tag = "items", request_body = ItemChanges,
    params(("sku" = String, Path, description = "SKU")),
    responses((status = 200, body = Item), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path(sku): Path<String>,
    Json(body): Json<ItemChanges>,
) -> ApiResult<axum::Json<Item>> {
    caller.require(Role::Admin)?;
    let patch = ItemPatch {
        title: body.title,
        kind: body.kind,
        components: body.components.map(|c| pairs(Some(c))),
        aliases: body.aliases,
    };
    let item = st.store.update_item(&sku, patch, &caller.actor()).await?;
    Ok(axum::Json(item.into()))
}
