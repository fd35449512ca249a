//! Activity: recent pushes (channel, listing, value, latency, result),
//! listings whose push keeps failing, and each channel's import errors.

use axum::extract::State;
use axum::http::StatusCode;
use minijinja::{Value, context};

use super::orders::channel_names;
use super::page::{UiResult, base, render, time, time_opt};
use super::session::User;
use crate::http::AppState;

/// Push results listed: a few screens.
const PUSHES_SHOWN: usize = 200;
/// Failing listings listed.
const FAILED_SHOWN: usize = 200;

pub async fn show(State(st): State<AppState>, user: User) -> UiResult {
    let channels = st.store.channels().await?;
    let names = channel_names(&channels);
    let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let recent: Vec<Value> = st
        .latency
        .recent(PUSHES_SHOWN)
        .into_iter()
        .map(|e| {
            context! {
                at => time(e.at), channel => name(e.channel), channel_id => e.channel, channel_sku => e.channel_sku,
                quantity => e.quantity, latency_ms => e.latency_ms.round() as i64, error => e.error,
            }
        })
        .collect();
    // After a restart the in-memory log is empty: show the last accepted value of each listing instead.
    let stored: Vec<Value> = if recent.is_empty() {
        st.store
            .recent_pushed(PUSHES_SHOWN)
            .await?
            .into_iter()
            .map(|p| context! { at => time(p.at), channel => name(p.channel), channel_id => p.channel, channel_sku => p.channel_sku, quantity => p.quantity })
            .collect()
    } else {
        Vec::new()
    };
    let failed: Vec<Value> = st
        .store
        .failed_pushes(FAILED_SHOWN)
        .await?
        .into_iter()
        .map(|f| {
            context! {
                channel => name(f.channel), channel_id => f.channel, channel_sku => f.channel_sku, quantity => f.quantity,
                attempts => f.attempts, error => f.error, next => time(f.next_attempt_at),
            }
        })
        .collect();
    let imports: Vec<Value> = channels
        .iter()
        .map(|c| {
            let latency = st.latency.percentiles(c.id);
            context! {
                id => c.id, name => c.name.clone(), import_orders => c.settings.import_orders, last_import => time_opt(c.last_import_at),
                error => c.last_import_error.clone(), p50 => latency.map(|l| l.0.round() as i64), p99 => latency.map(|l| l.1.round() as i64),
            }
        })
        .collect();
    let ctx = context! { recent, stored, failed, imports, ..base(&user, "activity") };
    render("activity.html", StatusCode::OK, ctx)
}
