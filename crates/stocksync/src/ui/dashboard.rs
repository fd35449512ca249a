//! The dashboard: what needs attention now. Backordered orders (the
//! oversell alarm) and orders with unmapped lines, pushes that keep
//! failing, channels whose sales deduct nothing with nothing else keeping
//! their quantities current, and channels whose order import went quiet.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};
use stocksync_core::Timestamp;
use stocksync_store::views::{ChannelView, OrderFilter};

use super::orders::{OrderRow, channel_names, rows};
use super::page::{FromSerde, UiResult, base, render, time, time_opt};
use super::session::{User, now};
use crate::http::AppState;

/// Orders of each kind listed on the dashboard (the workspace has the rest).
const ORDERS_SHOWN: usize = 10;
/// Failing listings listed on the dashboard.
const FAILED_SHOWN: usize = 10;
/// A channel with import off counts as kept current when stock changed by
/// hand, upload, API or quantity import within this many ms (a week).
const QUANTITY_SOURCE_FRESH_MS: i64 = 7 * 24 * 3600 * 1000;
/// An import is stale after this many poll intervals without success…
const STALE_POLLS: i64 = 3;
/// …but never sooner than this many ms (short intervals jitter).
const STALE_MIN_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

#[derive(Debug, Serialize)]
struct ChannelFlag {
    id: i64,
    name: String,
    why: String,
}

/// Channels with import off and no other source of quantities lately.
fn unfed_channels(channels: &[ChannelView], last_source: Option<Timestamp>, now: Timestamp) -> Vec<ChannelFlag> {
    let fed_by_import = channels.iter().any(|c| c.settings.import_quantities);
    let fed_lately = last_source.is_some_and(|t| now.0 - t.0 <= QUANTITY_SOURCE_FRESH_MS);
    if fed_by_import || fed_lately {
        return Vec::new();
    }
    let why = match last_source {
        Some(t) => format!("import orders is off, and stock last changed other than by an order at {}", time(t)),
        None => "import orders is off, and stock never changed other than by an order".to_owned(),
    };
    channels
        .iter()
        .filter(|c| !c.settings.import_orders)
        .map(|c| ChannelFlag { id: c.id, name: c.name.clone(), why: why.clone() })
        .collect()
}

/// Polled channels with import on whose last import failed or is too old.
fn stale_imports(channels: &[ChannelView], now: Timestamp) -> Vec<ChannelFlag> {
    channels
        .iter()
        .filter(|c| c.settings.import_orders && c.kind != stocksync_core::channel::ChannelKind::Api)
        .filter_map(|c| {
            let limit = (i64::from(c.settings.poll_interval_s) * 1000 * STALE_POLLS).max(STALE_MIN_MS);
            let why = match (&c.last_import_error, c.last_import_at) {
                (Some(e), at) => format!("the last import failed: {e} (last success: {})", time_opt(at)),
                (None, None) if now.0 - c.created_at.0 > limit => "no import has succeeded yet".to_owned(),
                (None, Some(at)) if now.0 - at.0 > limit => format!("no import since {}", time(at)),
                _ => return None,
            };
            Some(ChannelFlag { id: c.id, name: c.name.clone(), why })
        })
        .collect()
}

pub async fn show(State(st): State<AppState>, user: User, Query(q): Query<Notice>) -> UiResult {
    let now = now();
    let channels = st.store.channels().await?;
    let names = channel_names(&channels);
    let counts = st.store.order_counts().await?;
    let count = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    let newest = |status: &str| OrderFilter { status: Some(status.to_owned()), ..OrderFilter::default() };
    let backordered: Vec<OrderRow> = rows(st.store.orders(newest("backordered"), ORDERS_SHOWN).await?, &names);
    let unmapped: Vec<OrderRow> = rows(st.store.orders(newest("needs_attention"), ORDERS_SHOWN).await?, &names);
    let failed = st.store.failed_pushes(FAILED_SHOWN).await?;
    let failed_total: i64 = st.store.sync_status().await?.iter().map(|s| s.failed_pushes).sum();
    let failed: Vec<_> = failed
        .into_iter()
        .map(|f| {
            context! {
                channel => names.get(&f.channel).cloned().unwrap_or_default(), channel_id => f.channel,
                channel_sku => f.channel_sku, quantity => f.quantity, attempts => f.attempts, error => f.error,
                next => time(f.next_attempt_at),
            }
        })
        .collect();
    let unfed = unfed_channels(&channels, st.store.last_quantity_source().await?, now);
    let stale = stale_imports(&channels, now);
    let all_clear =
        backordered.is_empty() && unmapped.is_empty() && failed.is_empty() && unfed.is_empty() && stale.is_empty();
    let ctx = context! {
        notice => q.notice,
        backordered_count => count("backordered"), needs_attention_count => count("needs_attention"),
        backordered => Value::from_serde(&backordered), unmapped => Value::from_serde(&unmapped),
        failed, failed_total, unfed => Value::from_serde(&unfed), stale => Value::from_serde(&stale), all_clear,
        total_orders => counts.iter().map(|(_, n)| n).sum::<i64>(),
        channel_count => channels.len(),
        ..base(&user, "dashboard")
    };
    render("dashboard.html", StatusCode::OK, ctx)
}
