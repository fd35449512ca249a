//! Inventory: search items by SKU or title and see stock per FC; one
//! item's page shows on_hand, committed and available per FC (buildable
//! counts for a bundle), what each listing should show and its sync state,
//! and takes manual edits: set on_hand or available, or adjust by a delta,
//! with a reason.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;
use stocksync_core::auth::Role;
use stocksync_core::workflow::StockTarget;

use super::csrf::Form;
use super::orders::channel_names;
use super::page::{
    FormError, FromSerde, UiError, UiResult, base, done, form_errors, int_field, render, segment, time_opt,
};
use super::session::User;
use crate::http::AppState;

/// Items per page of the search.
const PAGE_ROWS: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct Search {
    q: Option<String>,
    after: Option<String>,
    notice: Option<String>,
}

pub async fn list(State(st): State<AppState>, user: User, Query(s): Query<Search>) -> UiResult {
    let q = s.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    let items = st.store.items(q.clone(), None, s.after.clone(), PAGE_ROWS).await?;
    let fcs = st.store.fcs().await?;
    let mut rows = Vec::with_capacity(items.len());
    for item in &items {
        let Some(inv) = st.store.inventory(&item.sku).await? else { continue };
        rows.push(context! {
            sku => inv.sku, title => item.title.clone(), kind => inv.kind,
            levels => inv.levels.iter().map(|(_, c)| c.available).collect::<Vec<_>>(),
            on_hand => inv.totals.on_hand, committed => inv.totals.committed, available => inv.totals.available,
            out => inv.totals.available <= 0,
        });
    }
    let next = (items.len() == PAGE_ROWS).then(|| items.last().map(|i| i.sku.clone())).flatten().map(|after| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        if let Some(q) = &q {
            qs.append_pair("q", q);
        }
        qs.append_pair("after", &after);
        qs.finish()
    });
    let ctx = context! {
        q, rows, next, notice => s.notice, paged => s.after.is_some(),
        fcs => fcs.iter().map(|f| f.code.clone()).collect::<Vec<_>>(),
        ..base(&user, "inventory")
    };
    render("inventory.html", StatusCode::OK, ctx)
}

#[derive(Debug, Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

async fn page(
    st: &AppState,
    user: &User,
    sku: &str,
    notice: Option<String>,
    errors: Vec<FormError>,
    form: Value,
) -> UiResult {
    let inv = st.store.inventory(sku).await?.ok_or_else(|| UiError::NotFound(format!("There is no item {sku}.")))?;
    let item = st.store.item(sku).await?;
    let names = channel_names(&st.store.channels().await?);
    let fcs = st.store.fcs().await?;
    let levels: Vec<Value> = inv
        .levels
        .iter()
        .map(|(fc, c)| {
            let active = fcs.iter().find(|f| &f.code == fc).is_some_and(|f| f.active);
            context! { fc, on_hand => c.on_hand, committed => c.committed, available => c.available, active }
        })
        .collect();
    let listings: Vec<Value> = inv
        .listings
        .iter()
        .map(|l| {
            context! {
                channel => names.get(&l.channel).cloned().unwrap_or_default(), channel_id => l.channel,
                channel_sku => l.channel_sku.clone(), quantity => l.quantity, last_pushed_quantity => l.last_pushed_quantity,
                last_pushed_at => time_opt(l.last_pushed_at), state => l.state,
            }
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let ctx = context! {
        sku => inv.sku.clone(), path => segment(&inv.sku), kind => inv.kind, title => item.as_ref().map(|i| i.title.clone()),
        components => item.map(|i| i.components.iter().map(|c| context! { sku => c.sku.clone(), quantity => c.quantity }).collect::<Vec<_>>()),
        totals => context! { on_hand => inv.totals.on_hand, committed => inv.totals.committed, available => inv.totals.available },
        levels, listings, errors => Value::from_serde(&errors), form, notice,
        fcs => fcs.iter().map(|f| f.code.clone()).collect::<Vec<_>>(),
        ..base(user, "inventory")
    };
    render("stock.html", status, ctx)
}

pub async fn show(
    State(st): State<AppState>,
    user: User,
    Path(sku): Path<String>,
    Query(q): Query<Notice>,
) -> UiResult {
    page(&st, &user, &sku, q.notice, Vec::new(), Value::UNDEFINED).await
}

/// Sets (`mode` = on_hand or available) or adjusts (`mode` = delta) one level.
pub async fn change(State(st): State<AppState>, Path(sku): Path<String>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Operator)?;
    let mut errors = Vec::new();
    let fc = fields.get("fc").unwrap_or_default().to_owned();
    if fc.is_empty() {
        errors.push(FormError::new("fc", "is required"));
    }
    let mode = fields.get("mode").unwrap_or("available").to_owned();
    let value = int_field(&mut errors, "value", fields.get("value"));
    if value.is_none() && !errors.iter().any(|e| e.field == "value") {
        errors.push(FormError::new("value", "is required"));
    }
    let reason = fields.get("reason").map(str::to_owned);
    let form =
        context! { fc => fc.clone(), mode => mode.clone(), value => fields.raw("value"), reason => reason.clone() };
    if !errors.is_empty() {
        return page(&st, &user, &sku, None, errors, form).await;
    }
    let n = value.unwrap_or_default();
    let actor = user.actor();
    let result = match mode.as_str() {
        "on_hand" => st.store.set_stock(&sku, &fc, StockTarget::OnHand(n), reason.as_deref(), &actor).await,
        "available" => st.store.set_stock(&sku, &fc, StockTarget::Available(n), reason.as_deref(), &actor).await,
        "delta" => st.store.adjust_stock(&sku, &fc, n, reason.as_deref(), &actor).await,
        other => {
            let e = FormError::new("mode", format!("must be on_hand, available or delta, got {other:?}"));
            return page(&st, &user, &sku, None, vec![e], form).await;
        }
    };
    match result {
        Ok(level) => Ok(done(
            &format!("/inventory/{}", segment(&sku)),
            &format!(
                "{sku} at {fc}: on hand {}, committed {}, available {}.",
                level.on_hand,
                level.committed,
                level.available()
            ),
        )),
        Err(e) => {
            // The workflow names the quantity `available`, `on_hand` or `delta`; the form calls it `value`.
            let errors = form_errors(e, "value")?
                .into_iter()
                .map(|e| match e.field.as_str() {
                    "available" | "on_hand" | "delta" | "quantity" => FormError::new("value", e.message),
                    _ => e,
                })
                .collect();
            page(&st, &user, &sku, None, errors, form).await
        }
    }
}
