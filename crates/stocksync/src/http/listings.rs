//! `/channels/{id}/listings`: offers of items on a channel.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stocksync_core::FieldError;
use stocksync_core::auth::Role;
use stocksync_core::push::PushOverrides;
use stocksync_store::NewListing;
use stocksync_store::views::ListingView;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::channels::channel_id;
use super::error::{ApiError, ApiResult, Detail, ErrorBody};
use super::extract::{Json, Query};
use super::page::{self, PageParams};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Listing {
    pub channel: i64,
    pub channel_sku: String,
    /// The item it maps to; null while unmapped.
    pub sku: Option<String>,
    pub external_id: Option<String>,
    pub percent: Option<u32>,
    pub min_threshold: Option<i64>,
    pub max_visible: Option<i64>,
    /// What the listing should show now; null while unmapped.
    pub quantity: Option<i64>,
    pub last_pushed_quantity: Option<i64>,
    pub last_pushed_at: Option<String>,
    /// `in_sync`, `pending` or `failed`.
    pub state: String,
}

impl From<ListingView> for Listing {
    fn from(v: ListingView) -> Self {
        Self {
            channel: v.channel,
            channel_sku: v.channel_sku,
            sku: v.sku,
            external_id: v.external_id,
            percent: v.overrides.percent,
            min_threshold: v.overrides.min_threshold,
            max_visible: v.overrides.max_visible,
            quantity: v.quantity,
            last_pushed_quantity: v.last_pushed_quantity,
            last_pushed_at: v.last_pushed_at.map(|t| t.to_string()),
            state: v.state.to_owned(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ListingList {
    pub listings: Vec<Listing>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewListingBody {
    pub channel_sku: Option<String>,
    /// The item; without it the channel SKU resolves by SKU or alias.
    pub sku: Option<String>,
    pub external_id: Option<String>,
    pub percent: Option<i64>,
    pub min_threshold: Option<i64>,
    pub max_visible: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/channels/{id}/listings", operation_id = "list_listings",
    tag = "channels", params(("id" = i64, Path, description = "channel id"), ListingQuery),
    responses((status = 200, body = ListingList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<ListingQuery>,
) -> ApiResult<axum::Json<ListingList>> {
    caller.require(Role::Viewer)?;
    let id = channel_id(&id)?;
    let paging = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = paging.limit()?;
    let after = paging.cursor_parts(1)?.map(|mut p| p.remove(0));
    if st.store.channel(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no channel {id}")));
    }
    let listings = st.store.listings(id, after, limit).await?;
    let next_cursor = page::next(&listings, limit, |l| page::cursor(&[&l.channel_sku]));
    Ok(axum::Json(ListingList { listings: listings.into_iter().map(Listing::from).collect(), next_cursor }))
}

#[utoipa::path(post, path = "/channels/{id}/listings", operation_id = "create_listing",
    tag = "channels", request_body = NewListingBody,
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 201, body = Listing), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewListingBody>,
) -> ApiResult<(StatusCode, axum::Json<Listing>)> {
    caller.require(Role::Admin)?;
    let id = channel_id(&id)?;
    let Some(channel_sku) = body.channel_sku else { return Err(ApiError::invalid_field("channel_sku", "is required")) };
    let mut errors: Vec<Detail> = Vec::new();
    let percent = body.percent.and_then(|p| {
        u32::try_from(p).map_err(|_| errors.push(FieldError::new("percent", "must be between 0 and 100").into())).ok()
    });
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let listing = NewListing {
        channel_sku: channel_sku.clone(),
        sku: body.sku,
        external_id: body.external_id,
        overrides: PushOverrides { percent, min_threshold: body.min_threshold, max_visible: body.max_visible },
    };
    st.store.create_listing(stocksync_core::ChannelId(id), listing, &caller.actor()).await?;
    let view =
        st.store.listing(id, &channel_sku).await?.ok_or_else(|| ApiError::internal("the new listing vanished"))?;
    Ok((StatusCode::CREATED, axum::Json(view.into())))
}
