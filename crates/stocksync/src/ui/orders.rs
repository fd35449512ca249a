//! The orders workspace: every order with its channel, external id, time,
//! status and fulfillment centers, newest first, filtered by channel,
//! status, FC, SKU and date, a page at a time (keyset paging: a deep page
//! costs what the first does).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use stocksync_core::Timestamp;
use stocksync_core::order::OrderStatus;
use stocksync_store::views::{ChannelView, OrderFilter, OrderView};

use super::page::{FormError, FromSerde, UiResult, base, render, time};
use super::session::User;
use crate::http::AppState;

/// Orders per page: a screenful, and cheap to render.
pub const PAGE_ROWS: usize = 50;
pub const STATUSES: [&str; 5] = ["allocated", "backordered", "needs_attention", "shipped", "cancelled"];

/// The workspace's query string; every field optional.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Filters {
    pub channel: Option<String>,
    pub status: Option<String>,
    pub fc: Option<String>,
    pub sku: Option<String>,
    /// `YYYY-MM-DD`, inclusive (UTC).
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive (UTC).
    pub to: Option<String>,
    /// `placed_at.id` of the last row of the previous page.
    pub after: Option<String>,
    pub notice: Option<String>,
}

/// One row of an order table.
#[derive(Debug, Clone, Serialize)]
pub struct OrderRow {
    pub id: i64,
    pub channel: String,
    pub channel_id: i64,
    pub external_id: String,
    pub placed_at: String,
    pub status: String,
    pub fcs: Vec<String>,
    pub lines: usize,
    pub units: u32,
    pub alert: bool,
}

pub fn channel_names(channels: &[ChannelView]) -> HashMap<i64, String> {
    channels.iter().map(|c| (c.id, c.name.clone())).collect()
}

pub fn rows(orders: Vec<OrderView>, names: &HashMap<i64, String>) -> Vec<OrderRow> {
    orders
        .into_iter()
        .map(|o| {
            let live: Vec<_> = o.lines.iter().filter(|l| !l.removed).collect();
            OrderRow {
                id: o.id,
                channel: names.get(&o.channel).cloned().unwrap_or_else(|| format!("#{}", o.channel)),
                channel_id: o.channel,
                external_id: o.external_id,
                placed_at: time(o.placed_at),
                alert: o.status == "backordered" || o.status == "needs_attention",
                status: o.status,
                fcs: o.fulfillment_centers,
                lines: live.len(),
                units: live.iter().map(|l| l.quantity).sum(),
            }
        })
        .collect()
}

/// A `YYYY-MM-DD` field as the start of that day (UTC), plus `days`.
fn day(errors: &mut Vec<FormError>, field: &str, raw: Option<&str>, days: i64) -> Option<Timestamp> {
    let raw = raw.map(str::trim).filter(|r| !r.is_empty())?;
    match Timestamp::parse_rfc3339(field, &format!("{raw}T00:00:00Z")) {
        Ok(t) => Some(Timestamp(t.0 + days * 86_400_000)),
        Err(_) => {
            errors.push(FormError::new(field, format!("must be a date as YYYY-MM-DD, got {raw:?}")));
            None
        }
    }
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The store filter for the query string, or the errors naming each bad field.
pub fn filter(f: &Filters) -> (OrderFilter, Vec<FormError>) {
    let mut errors = Vec::new();
    let channel = nonempty(&f.channel).and_then(|c| match c.parse::<i64>() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(FormError::new("channel", format!("must be a channel id, got {c:?}")));
            None
        }
    });
    let status = nonempty(&f.status);
    if let Some(s) = &status
        && OrderStatus::parse(s).is_none()
    {
        errors.push(FormError::new("status", format!("must be one of {}, got {s:?}", STATUSES.join(", "))));
    }
    let before = nonempty(&f.after).and_then(|a| {
        let (t, id) = a.split_once('.')?;
        Some((Timestamp(t.parse().ok()?), id.parse().ok()?))
    });
    let filter = OrderFilter {
        channel,
        status,
        fc: nonempty(&f.fc),
        sku: nonempty(&f.sku),
        placed_after: day(&mut errors, "from", f.from.as_deref(), 0),
        placed_before: day(&mut errors, "to", f.to.as_deref(), 1),
        before,
    };
    (filter, errors)
}

/// The query string of these filters, continuing after `after`.
fn query(f: &Filters, after: Option<&str>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    let fields = [
        ("channel", &f.channel),
        ("status", &f.status),
        ("fc", &f.fc),
        ("sku", &f.sku),
        ("from", &f.from),
        ("to", &f.to),
    ];
    for (k, v) in fields {
        if let Some(v) = nonempty(v) {
            q.append_pair(k, &v);
        }
    }
    if let Some(a) = after {
        q.append_pair("after", a);
    }
    q.finish()
}

pub async fn list(State(st): State<AppState>, user: User, Query(f): Query<Filters>) -> UiResult {
    let channels = st.store.channels().await?;
    let fcs = st.store.fcs().await?;
    let (filter, errors) = filter(&f);
    let (orders, status) = if errors.is_empty() {
        (st.store.orders(filter, PAGE_ROWS).await?, StatusCode::OK)
    } else {
        (Vec::new(), StatusCode::UNPROCESSABLE_ENTITY)
    };
    let next =
        (orders.len() == PAGE_ROWS).then(|| orders.last().map(|o| format!("{}.{}", o.placed_at.0, o.id))).flatten();
    let next_query = next.map(|after| query(&f, Some(&after)));
    let names = channel_names(&channels);
    let ctx = context! {
        orders => Value::from_serde(rows(orders, &names)),
        channels => channels.iter().map(|c| context! { id => c.id.to_string(), name => c.name.clone() }).collect::<Vec<_>>(),
        fcs => fcs.iter().map(|f| f.code.clone()).collect::<Vec<_>>(),
        statuses => STATUSES,
        f => Value::from_serde(&f),
        paged => f.after.is_some(),
        first_query => query(&f, None),
        next_query, errors => Value::from_serde(&errors), notice => f.notice.clone(),
        ..base(&user, "orders")
    };
    render("orders.html", status, ctx)
}
