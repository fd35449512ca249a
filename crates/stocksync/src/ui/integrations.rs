//! Integrations: channels of any supported kind with their credentials
//! (write-only: never shown again), the settings of PRODUCT.md §5 with the
//! import-orders warning, a connection test, and each channel's health:
//! last import, last push, errors, pending and failed pushes.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;
use stocksync_core::auth::Role;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::push::PushRules;
use stocksync_core::values::FcCode;
use stocksync_store::NewChannel;
use stocksync_store::views::ChannelView;

use super::csrf::{Fields, Form};
use super::page::{
    FormError, FromSerde, UiError, UiResult, base, done, form_errors, int_field, render, time, time_opt,
};
use super::session::{User, now};
use crate::http::AppState;

/// Listings shown on a channel's page.
const LISTINGS_SHOWN: usize = 50;

#[derive(Debug, Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

fn kinds() -> Vec<&'static str> {
    ChannelKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// Which credential keys each kind's connector reads, as a hint on the form.
fn credential_hint(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Api => "signing_secret = …",
        ChannelKind::Ebay => "access_token = …",
        ChannelKind::Shopify => "access_token = …\nlocation_id = …\nwebhook_secret = …",
        _ => "key = value",
    }
}

/// `key = value` lines as a JSON object; errors name the line.
fn parse_credentials(raw: &str, errors: &mut Vec<FormError>) -> Option<String> {
    let mut map = BTreeMap::new();
    for (i, line) in raw.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                map.insert(k.trim().to_owned(), serde_json::Value::String(v.trim().to_owned()));
            }
            _ => errors.push(FormError::new("credentials", format!("line {}: expected key = value", i + 1))),
        }
    }
    (!map.is_empty()).then(|| serde_json::Value::Object(map.into_iter().collect()).to_string())
}

fn base_url(fields: &Fields, errors: &mut Vec<FormError>) -> Option<String> {
    let url = fields.get("base_url")?;
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
        errors.push(FormError::new("base_url", "must be an http:// or https:// URL"));
    }
    Some(url.to_owned())
}

/// The settings form over `current`; bad numbers are named, the rest is
/// validated by the store (`ChannelSettings::validate`).
fn settings(fields: &Fields, current: &ChannelSettings, errors: &mut Vec<FormError>) -> ChannelSettings {
    let mut s = current.clone();
    s.import_orders = fields.flag("import_orders");
    s.push_quantities = fields.flag("push_quantities");
    s.import_quantities = fields.flag("import_quantities");
    s.allow_split = fields.flag("allow_split");
    s.source_fc = fields.get("source_fc").and_then(|c| {
        FcCode::parse_field("source_fc", c).map_err(|e| errors.push(FormError::new("source_fc", e.message))).ok()
    });
    s.fulfillment_centers = if fields.get("fcs") == Some("some") {
        Some(fields.all("fulfillment_centers").iter().filter_map(|c| FcCode::parse(c).ok()).collect())
    } else {
        None
    };
    let percent = int_field(errors, "percent", fields.get("percent")).unwrap_or(100);
    match u32::try_from(percent) {
        Ok(p) => s.push.percent = p,
        Err(_) => errors.push(FormError::new("percent", "must be between 0 and 100")),
    }
    s.push = PushRules {
        min_threshold: int_field(errors, "min_threshold", fields.get("min_threshold")).unwrap_or(0),
        max_visible: int_field(errors, "max_visible", fields.get("max_visible")),
        ..s.push
    };
    if let Some(p) = int_field(errors, "poll_interval_s", fields.get("poll_interval_s")) {
        match u32::try_from(p) {
            Ok(p) => s.poll_interval_s = p,
            Err(_) => errors.push(FormError::new("poll_interval_s", format!("out of range: {p}"))),
        }
    }
    s
}

fn warnings(c: &ChannelView) -> Vec<String> {
    let mut w = c.settings.warnings();
    if c.kind == ChannelKind::Api && c.settings.push_quantities && c.base_url.is_none() {
        w.push("push_quantities is on but base_url is not set: quantities cannot be sent.".to_owned());
    }
    w
}

pub async fn list(State(st): State<AppState>, user: User, Query(q): Query<Notice>) -> UiResult {
    page_list(&st, &user, q.notice, Vec::new(), Value::UNDEFINED).await
}

async fn page_list(
    st: &AppState,
    user: &User,
    notice: Option<String>,
    errors: Vec<FormError>,
    form: Value,
) -> UiResult {
    let channels = st.store.channels().await?;
    let status = st.store.sync_status().await?;
    let pushes = st.store.last_pushes().await?;
    let rows: Vec<Value> = channels
        .iter()
        .map(|c| {
            let s = status.iter().find(|s| s.id == c.id);
            let latency = st.latency.percentiles(c.id);
            context! {
                id => c.id, name => c.name.clone(), kind => c.kind.as_str(), import_orders => c.settings.import_orders,
                push_quantities => c.settings.push_quantities,
                last_import => time_opt(c.last_import_at), last_import_error => c.last_import_error.clone(),
                last_push => time_opt(pushes.iter().find(|(id, _)| *id == c.id).map(|(_, t)| *t)),
                pending => s.map_or(0, |s| s.pending_pushes), failed => s.map_or(0, |s| s.failed_pushes),
                p50 => latency.map(|l| l.0.round() as i64), p99 => latency.map(|l| l.1.round() as i64),
                warnings => warnings(c),
            }
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let hints: Vec<Value> =
        ChannelKind::ALL.iter().map(|k| context! { kind => k.as_str(), hint => credential_hint(*k) }).collect();
    let ctx = context! { rows, errors => Value::from_serde(&errors), form, notice, kinds => kinds(), hints, ..base(user, "integrations") };
    render("integrations.html", status, ctx)
}

pub async fn create(State(st): State<AppState>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    let name = fields.get("name").unwrap_or_default().to_owned();
    if name.is_empty() {
        errors.push(FormError::new("name", "is required"));
    }
    let kind = ChannelKind::parse("kind", fields.get("kind").unwrap_or_default())
        .map_err(|e| errors.push(FormError::new("kind", e.message)))
        .ok();
    let base_url = base_url(&fields, &mut errors);
    let credentials = parse_credentials(fields.raw("credentials"), &mut errors);
    // The form echoes everything but the credentials: secrets are never sent back.
    let form = context! { name => name.clone(), kind => fields.raw("kind"), base_url => base_url.clone(), import_orders => fields.flag("import_orders") };
    if let (Some(kind), true) = (kind, errors.is_empty()) {
        let mut settings = ChannelSettings::defaults(kind);
        settings.import_orders = fields.flag("import_orders");
        let ch =
            NewChannel { name, kind, base_url, credentials_json: credentials.unwrap_or_else(|| "{}".into()), settings };
        match st.store.create_channel(ch).await {
            Ok(id) => {
                return Ok(done(
                    &format!("/integrations/{}", id.0),
                    "Channel added. Its credentials are stored and will not be shown again.",
                ));
            }
            Err(e) => errors = form_errors(e, "name")?,
        }
    }
    page_list(&st, &user, None, errors, form).await
}

fn channel_id(raw: &str) -> Result<i64, UiError> {
    raw.parse().map_err(|_| UiError::NotFound(format!("There is no channel {raw}.")))
}

/// One channel's page; `test` is a connection test's outcome to show.
async fn page_one(
    st: &AppState,
    user: &User,
    id: i64,
    notice: Option<String>,
    errors: Vec<FormError>,
    test: Option<Value>,
) -> UiResult {
    let c = st.store.channel(id).await?.ok_or_else(|| UiError::NotFound(format!("There is no channel {id}.")))?;
    let fcs = st.store.fcs().await?;
    let status = st.store.sync_status().await?.into_iter().find(|s| s.id == id);
    let last_push = st.store.last_pushes().await?.into_iter().find(|(c, _)| *c == id).map(|(_, t)| t);
    let failed: Vec<Value> = st
        .store
        .failed_pushes(1000)
        .await?
        .into_iter()
        .filter(|f| f.channel == id)
        .map(|f| context! { channel_sku => f.channel_sku, quantity => f.quantity, attempts => f.attempts, error => f.error, next => time(f.next_attempt_at) })
        .collect();
    let listings: Vec<Value> = st
        .store
        .listings(id, None, LISTINGS_SHOWN)
        .await?
        .into_iter()
        .map(|l| context! { channel_sku => l.channel_sku, sku => l.sku, quantity => l.quantity, last_pushed_quantity => l.last_pushed_quantity, last_pushed_at => time_opt(l.last_pushed_at), state => l.state })
        .collect();
    let s = &c.settings;
    let selected: Vec<String> = s.fulfillment_centers.iter().flatten().map(|f| f.as_str().to_owned()).collect();
    let latency = st.latency.percentiles(id);
    let http_status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let ctx = context! {
        channel => context! {
            id => c.id, name => c.name.clone(), kind => c.kind.as_str(), base_url => c.base_url.clone(), has_credentials => c.has_credentials,
            created_at => time(c.created_at), last_import => time_opt(c.last_import_at), last_import_error => c.last_import_error.clone(),
            last_push => time_opt(last_push), pending => status.as_ref().map_or(0, |s| s.pending_pushes),
            failed_count => status.as_ref().map_or(0, |s| s.failed_pushes),
            p50 => latency.map(|l| l.0.round() as i64), p99 => latency.map(|l| l.1.round() as i64),
            credential_hint => credential_hint(c.kind),
        },
        settings => context! {
            import_orders => s.import_orders, push_quantities => s.push_quantities, import_quantities => s.import_quantities,
            source_fc => s.source_fc.as_ref().map(|f| f.as_str().to_owned()), all_fcs => s.fulfillment_centers.is_none(),
            selected, allow_split => s.allow_split, percent => s.push.percent, min_threshold => s.push.min_threshold,
            max_visible => s.push.max_visible, poll_interval_s => s.poll_interval_s,
        },
        warnings => warnings(&c), fcs => fcs.iter().map(|f| f.code.clone()).collect::<Vec<_>>(),
        failed, listings, errors => Value::from_serde(&errors), test, notice,
        ..base(user, "integrations")
    };
    render("integration.html", http_status, ctx)
}

pub async fn show(State(st): State<AppState>, user: User, Path(id): Path<String>, Query(q): Query<Notice>) -> UiResult {
    page_one(&st, &user, channel_id(&id)?, q.notice, Vec::new(), None).await
}

pub async fn update(State(st): State<AppState>, Path(id): Path<String>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let id = channel_id(&id)?;
    let current = st.store.channel(id).await?.ok_or_else(|| UiError::NotFound(format!("There is no channel {id}.")))?;
    let mut errors = Vec::new();
    let name = fields.get("name").unwrap_or_default().to_owned();
    if name.is_empty() {
        errors.push(FormError::new("name", "is required"));
    }
    let url = base_url(&fields, &mut errors);
    let credentials = parse_credentials(fields.raw("credentials"), &mut errors);
    let new = settings(&fields, &current.settings, &mut errors);
    if !errors.is_empty() {
        return page_one(&st, &user, id, None, errors, None).await;
    }
    let edited = st
        .store
        .update_channel(id, move |e| {
            e.name = name;
            e.base_url = url;
            if credentials.is_some() {
                e.credentials_json = credentials;
            }
            e.settings = new;
            Ok(())
        })
        .await;
    match edited {
        Ok(c) => {
            let note = if c.settings.import_orders {
                "Settings saved."
            } else {
                "Settings saved. Import orders is off: see the warning."
            };
            Ok(done(&format!("/integrations/{id}"), note))
        }
        Err(e) => {
            let errors = form_errors(e, "name")?;
            page_one(&st, &user, id, None, errors, None).await
        }
    }
}

/// Tries the channel's connector once and shows the outcome.
pub async fn test(State(st): State<AppState>, Path(id): Path<String>, form: Form) -> UiResult {
    let user = form.user;
    user.require(Role::Operator)?;
    let id = channel_id(&id)?;
    let live = st.channels.load().await.map_err(UiError::from)?.into_iter().find(|l| l.view.id == id);
    let started = std::time::Instant::now();
    let outcome = match &live {
        None => Err("this channel's connector could not be built (its kind is not available yet, or a setting is refused); see the server log".to_owned()),
        Some(l) => l.connector.check(now()).await.map_err(|e| e.to_string()),
    };
    let ms = started.elapsed().as_millis() as i64;
    let test = match outcome {
        Ok(()) => context! { ok => true, message => format!("The channel answered in {ms} ms.") },
        Err(e) => context! { ok => false, message => format!("The test failed after {ms} ms: {e}") },
    };
    page_one(&st, &user, id, None, Vec::new(), Some(test)).await
}
