//! `/orders` and `/channels/{id}/orders`: submitted and imported orders,
//! their allocations and traces, cancel and ship.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use stocksync_core::auth::Role;
use stocksync_core::order::{IncomingOrder, OrderStatus, RawLine, SourceStatus};
use stocksync_core::{ChannelId, FieldError, Rejection, Timestamp};
use stocksync_store::views::{OrderFilter, OrderView};
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
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(cancel))
        .routes(routes!(ship))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Allocation {
    pub fc: String,
    /// The stock item the units are of (a bundle line's components).
    pub sku: String,
    pub quantity: i64,
    pub shipped: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Line {
    pub line_id: String,
    pub channel_sku: String,
    /// The item it resolved to; null while unmapped.
    pub sku: Option<String>,
    pub quantity: u32,
    pub allocations: Vec<Allocation>,
    /// Units no FC could cover yet (for an unmapped line: all of them).
    pub backordered: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Order {
    pub id: i64,
    /// Channel id.
    pub channel: i64,
    pub external_id: String,
    /// allocated, backordered, needs_attention, shipped or cancelled.
    pub status: String,
    pub placed_at: String,
    pub imported_at: String,
    pub updated_at: String,
    pub fulfillment_centers: Vec<String>,
    pub lines: Vec<Line>,
    /// Why each FC was chosen, in words.
    pub trace: Vec<String>,
}

impl From<OrderView> for Order {
    fn from(v: OrderView) -> Self {
        Self {
            id: v.id,
            channel: v.channel,
            external_id: v.external_id,
            status: v.status,
            placed_at: v.placed_at.to_string(),
            imported_at: v.imported_at.to_string(),
            updated_at: v.updated_at.to_string(),
            fulfillment_centers: v.fulfillment_centers,
            // A line the channel removed holds nothing and is no longer part of the order.
            lines: v
                .lines
                .into_iter()
                .filter(|l| !l.removed)
                .map(|l| Line {
                    backordered: if l.sku.is_none() { l.quantity } else { l.backordered },
                    line_id: l.line_id,
                    channel_sku: l.channel_sku,
                    sku: l.sku,
                    quantity: l.quantity,
                    allocations: l
                        .allocations
                        .into_iter()
                        .map(|a| Allocation { fc: a.fc, sku: a.sku, quantity: a.quantity, shipped: a.shipped })
                        .collect(),
                })
                .collect(),
            trace: v.trace,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    pub orders: Vec<Order>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LineBody {
    pub line_id: Option<String>,
    pub channel_sku: Option<String>,
    pub quantity: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderBody {
    pub external_id: Option<String>,
    /// RFC 3339; default: now.
    pub placed_at: Option<String>,
    /// The channel's last-modified time (RFC 3339): an older version than one already imported is ignored.
    pub updated_at: Option<String>,
    /// open (default), shipped or cancelled.
    pub status: Option<String>,
    pub lines: Option<Vec<LineBody>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// Channel id.
    pub channel: Option<i64>,
    pub status: Option<String>,
    /// FC code: orders with an allocation there.
    pub fc: Option<String>,
    /// Orders with a line of this SKU (or channel SKU).
    pub sku: Option<String>,
    /// RFC 3339, inclusive.
    pub placed_after: Option<String>,
    /// RFC 3339, exclusive.
    pub placed_before: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn incoming(channel: i64, body: OrderBody, now: Timestamp) -> Result<IncomingOrder, Rejection> {
    let mut errors = Vec::new();
    let placed_at = match &body.placed_at {
        Some(t) => Timestamp::parse_rfc3339("placed_at", t).map_err(|e| errors.push(e)).unwrap_or(now),
        None => now,
    };
    let updated_at = body
        .updated_at
        .as_deref()
        .and_then(|t| Timestamp::parse_rfc3339("updated_at", t).map_err(|e| errors.push(e)).ok());
    let status = match &body.status {
        Some(s) => SourceStatus::parse("status", s).map_err(|e| errors.push(e)).unwrap_or(SourceStatus::Open),
        None => SourceStatus::Open,
    };
    if body.external_id.is_none() {
        errors.push(FieldError::new("external_id", "is required"));
    }
    let lines: Vec<RawLine> = match body.lines {
        None => {
            errors.push(FieldError::new("lines", "is required"));
            Vec::new()
        }
        Some(lines) => lines
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                for (field, absent) in [
                    ("line_id", l.line_id.is_none()),
                    ("channel_sku", l.channel_sku.is_none()),
                    ("quantity", l.quantity.is_none()),
                ] {
                    if absent {
                        errors.push(FieldError::new(format!("lines[{i}].{field}"), "is required"));
                    }
                }
                (l.line_id.unwrap_or_default(), l.channel_sku.unwrap_or_default(), l.quantity.unwrap_or(1))
            })
            .collect(),
    };
    let order = IncomingOrder::new(
        ChannelId(channel),
        body.external_id.as_deref().unwrap_or_default(),
        status,
        placed_at,
        updated_at,
        &lines,
    );
    match order {
        Ok(o) if errors.is_empty() => Ok(o),
        Ok(_) => Err(Rejection::Invalid(errors)),
        Err(Rejection::Invalid(more)) => {
            // Required-field errors first; skip the core's duplicates of them.
            for e in more {
                if !errors.iter().any(|x| x.field == e.field) {
                    errors.push(e);
                }
            }
            Err(Rejection::Invalid(errors))
        }
        Err(other) => Err(other),
    }
}

/// Submits an order (new: 201; seen before: 200, with any change applied once).
#[utoipa::path(post, path = "/channels/{id}/orders", operation_id = "submit_order",
    tag = "orders", request_body = OrderBody,
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 201, body = Order, description = "a new order"), (status = 200, body = Order, description = "seen before"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn submit(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<OrderBody>,
) -> ApiResult<(StatusCode, axum::Json<Order>)> {
    caller.require(Role::Operator)?;
    let id = channel_id(&id)?;
    if st.store.channel(id).await?.is_none() {
        return Err(ApiError::not_found(format!("no channel {id}")));
    }
    let now = Timestamp(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64),
    );
    let order = incoming(id, body, now)?;
    let outcome = st.store.import_order(order, &caller.actor()).await?;
    let what = if outcome.created {
        "created"
    } else if outcome.changed {
        "changed"
    } else {
        "unchanged"
    };
    metrics::counter!("stocksync_order_imports_total", "source" => "api", "outcome" => what).increment(1);
    if outcome.changed {
        // What allocation decided, by the order's resulting status.
        metrics::counter!("stocksync_allocations_total", "status" => outcome.status.as_str()).increment(1);
    }
    let view = st.store.order(outcome.order.0).await?.ok_or_else(|| ApiError::internal("the order vanished"))?;
    let status = if outcome.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(view.into())))
}

fn time_param(field: &str, raw: Option<&str>, errors: &mut Vec<Detail>) -> Option<Timestamp> {
    raw.and_then(|t| Timestamp::parse_rfc3339(field, t).map_err(|e| errors.push(e.into())).ok())
}

/// Orders, newest first.
#[utoipa::path(get, path = "/orders", operation_id = "list_orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = OrderList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<OrderQuery>,
) -> ApiResult<axum::Json<OrderList>> {
    caller.require(Role::Viewer)?;
    let paging = PageParams { limit: q.limit, cursor: q.cursor };
    let limit = paging.limit()?;
    let mut errors = Vec::new();
    let before = paging.cursor_parts(2)?.map(|p| (p[0].parse().ok().map(Timestamp), p[1].parse().ok()));
    let before = match before {
        None => None,
        Some((Some(t), Some(id))) => Some((t, id)),
        Some(_) => return Err(ApiError::invalid_field("cursor", "is not a cursor this API gave out")),
    };
    if let Some(s) = &q.status
        && OrderStatus::parse(s).is_none()
    {
        errors.push(Detail::field("status", "must be allocated, backordered, needs_attention, shipped or cancelled"));
    }
    let filter = OrderFilter {
        channel: q.channel,
        status: q.status,
        fc: q.fc,
        sku: q.sku,
        placed_after: time_param("placed_after", q.placed_after.as_deref(), &mut errors),
        placed_before: time_param("placed_before", q.placed_before.as_deref(), &mut errors),
        before,
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let orders = st.store.orders(filter, limit).await?;
    let next_cursor = page::next(&orders, limit, |o| page::cursor(&[&o.placed_at.0.to_string(), &o.id.to_string()]));
    Ok(axum::Json(OrderList { orders: orders.into_iter().map(Order::from).collect(), next_cursor }))
}

fn order_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(format!("no order {raw}")))
}

async fn load(st: &AppState, id: i64) -> ApiResult<axum::Json<Order>> {
    let view = st.store.order(id).await?.ok_or_else(|| ApiError::not_found(format!("no order {id}")))?;
    Ok(axum::Json(view.into()))
}

#[utoipa::path(get, path = "/orders/{id}", operation_id = "get_order",
    tag = "orders", params(("id" = i64, Path, description = "order id")),
    responses((status = 200, body = Order), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_one(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<axum::Json<Order>> {
    caller.require(Role::Viewer)?;
    load(&st, order_id(&id)?).await
}

/// Cancels the order: its committed units are released.
#[utoipa::path(post, path = "/orders/{id}/cancel", operation_id = "cancel_order",
    tag = "orders", params(("id" = i64, Path, description = "order id")),
    responses((status = 200, body = Order), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<axum::Json<Order>> {
    caller.require(Role::Operator)?;
    let id = order_id(&id)?;
    st.store.cancel_order(id, &caller.actor()).await?;
    load(&st, id).await
}

/// Ships the order: committed units leave `on_hand`.
#[utoipa::path(post, path = "/orders/{id}/ship", operation_id = "ship_order",
    tag = "orders", params(("id" = i64, Path, description = "order id")),
    responses((status = 200, body = Order), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn ship(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<axum::Json<Order>> {
    caller.require(Role::Operator)?;
    let id = order_id(&id)?;
    st.store.ship_order(id, &caller.actor()).await?;
    load(&st, id).await
}
