//! One order: its lines, the allocations per FC, the allocation trace and
//! the movements it caused. An unmapped line can be mapped in place, as an
//! alias of an item or as a listing mapping on the order's channel; the
//! store then allocates the waiting lines in the same transaction.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;
use stocksync_core::ChannelId;
use stocksync_core::auth::Role;
use stocksync_store::views::{MovementFilter, OrderView};
use stocksync_store::{ItemPatch, NewListing};

use super::csrf::Form;
use super::page::{FormError, FromSerde, UiError, UiResult, base, done, form_errors, render, time};
use super::session::User;
use crate::http::AppState;

/// Movements listed on an order page; an order causes a few per line.
const MOVEMENTS_SHOWN: usize = 500;

#[derive(Debug, Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

fn order_id(raw: &str) -> Result<i64, UiError> {
    raw.parse().map_err(|_| UiError::NotFound(format!("There is no order {raw}.")))
}

async fn load(st: &AppState, id: i64) -> Result<OrderView, UiError> {
    st.store.order(id).await?.ok_or_else(|| UiError::NotFound(format!("There is no order {id}.")))
}

/// Renders the order page, with the map form's errors and values if any.
async fn page(
    st: &AppState,
    user: &User,
    o: OrderView,
    notice: Option<String>,
    errors: Vec<FormError>,
    form: Value,
) -> UiResult {
    let channel = st.store.channel(o.channel).await?;
    let movements =
        st.store.movements(MovementFilter { order: Some(o.id), ..MovementFilter::default() }, MOVEMENTS_SHOWN).await?;
    let lines: Vec<Value> = o
        .lines
        .iter()
        .filter(|l| !l.removed)
        .map(|l| {
            let allocations: Vec<Value> = l
                .allocations
                .iter()
                .map(|a| context! { fc => a.fc.clone(), sku => a.sku.clone(), quantity => a.quantity, shipped => a.shipped })
                .collect();
            context! {
                line_id => l.line_id.clone(), channel_sku => l.channel_sku.clone(), sku => l.sku.clone(), quantity => l.quantity,
                backordered => if l.sku.is_none() { l.quantity } else { l.backordered },
                unmapped => l.sku.is_none(), allocations,
            }
        })
        .collect();
    // Units per FC over the whole order: where it ships from.
    let mut per_fc: Vec<(String, i64)> = Vec::new();
    for a in o.lines.iter().filter(|l| !l.removed).flat_map(|l| &l.allocations) {
        match per_fc.iter_mut().find(|(fc, _)| *fc == a.fc) {
            Some((_, n)) => *n += a.quantity,
            None => per_fc.push((a.fc.clone(), a.quantity)),
        }
    }
    let movements: Vec<Value> = movements
        .iter()
        .map(|m| {
            context! {
                id => m.id, at => time(m.at), sku => m.sku.clone(), fc => m.fc.clone(), on_hand_delta => m.on_hand_delta,
                committed_delta => m.committed_delta, on_hand_after => m.on_hand_after,
                committed_after => m.committed_after, reason => m.reason.clone(), actor => m.actor.clone(),
            }
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let open = !matches!(o.status.as_str(), "shipped" | "cancelled");
    let ctx = context! {
        order => context! {
            id => o.id, external_id => o.external_id, status => o.status, placed_at => time(o.placed_at),
            imported_at => time(o.imported_at), updated_at => time(o.updated_at),
            fcs => o.fulfillment_centers, trace => o.trace, open,
        },
        channel => channel.map(|c| context! { id => c.id, name => c.name, kind => c.kind.as_str() }),
        lines, per_fc, movements, errors => Value::from_serde(&errors), form, notice,
        ..base(user, "orders")
    };
    render("order.html", status, ctx)
}

pub async fn show(State(st): State<AppState>, user: User, Path(id): Path<String>, Query(q): Query<Notice>) -> UiResult {
    let o = load(&st, order_id(&id)?).await?;
    page(&st, &user, o, q.notice, Vec::new(), Value::UNDEFINED).await
}

/// Maps an unmapped line's channel SKU to an item.
pub async fn map(State(st): State<AppState>, Path(id): Path<String>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let o = load(&st, order_id(&id)?).await?;
    let channel_sku = fields.get("channel_sku").unwrap_or_default().to_owned();
    let sku = fields.get("sku").unwrap_or_default().to_owned();
    let how = fields.get("how").unwrap_or("alias").to_owned();
    let mut errors = Vec::new();
    if !o.lines.iter().any(|l| l.sku.is_none() && !l.removed && l.channel_sku == channel_sku) {
        errors.push(FormError::new(
            "channel_sku",
            format!("no unmapped line of this order has channel SKU {channel_sku:?}"),
        ));
    }
    if sku.is_empty() {
        errors.push(FormError::new("sku", "is required: the SKU of the item this channel SKU means"));
    }
    if how != "alias" && how != "listing" {
        errors.push(FormError::new("how", "must be alias or listing"));
    }
    if errors.is_empty() {
        let result = if how == "alias" {
            match st.store.item(&sku).await? {
                None => Err(Ok(FormError::new("sku", format!("there is no item {sku}")))),
                Some(item) => {
                    let mut aliases = item.aliases.clone();
                    aliases.push(channel_sku.clone());
                    let patch = ItemPatch { aliases: Some(aliases), ..ItemPatch::default() };
                    st.store.update_item(&sku, patch, &user.actor()).await.map(drop).map_err(|e| first(e, "sku"))
                }
            }
        } else {
            let l = NewListing { channel_sku: channel_sku.clone(), sku: Some(sku.clone()), ..NewListing::default() };
            st.store.create_listing(ChannelId(o.channel), l, &user.actor()).await.map(drop).map_err(|e| first(e, "sku"))
        };
        match result {
            Ok(()) => {
                let what = if how == "alias" { "an alias of" } else { "a listing of" };
                return Ok(done(&format!("/orders/{}", o.id), &format!("Mapped {channel_sku} as {what} {sku}.")));
            }
            Err(Ok(e)) => errors.push(e),
            Err(Err(e)) => return Err(e),
        }
    }
    let form = context! { channel_sku, sku, how };
    page(&st, &user, o, None, errors, form).await
}

/// The first field error of a store rejection (a mapping has one field to blame).
fn first(e: stocksync_store::StoreError, field: &str) -> Result<FormError, UiError> {
    let mut es = form_errors(e, field)?;
    let mut e = es.remove(0);
    // The alias list and listing fields are not on this form: the SKU is.
    if e.field != "sku" && e.field != "channel_sku" {
        e = FormError::new("sku", format!("{}: {}", e.field, e.message));
    }
    Ok(e)
}

/// Cancels or ships the order.
pub async fn change_status(State(st): State<AppState>, Path(id): Path<String>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Operator)?;
    let id = order_id(&id)?;
    let (result, what) = match fields.get("action") {
        Some("cancel") => (st.store.cancel_order(id, &user.actor()).await, "cancelled"),
        Some("ship") => (st.store.ship_order(id, &user.actor()).await, "shipped"),
        _ => return Err(UiError::BadRequest("action: must be cancel or ship".into())),
    };
    match result {
        Ok(()) => Ok(done(&format!("/orders/{id}"), &format!("Order {what}."))),
        Err(e) => {
            let errors = form_errors(e, "action")?;
            let o = load(&st, id).await?;
            page(&st, &user, o, None, errors, Value::UNDEFINED).await
        }
    }
}
