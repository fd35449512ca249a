//! `/channels`: integrations with their settings (PRODUCT.md §5) and warnings.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use stocksync_core::auth::Role;
use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::values::FcCode;
use stocksync_core::{FieldError, Rejection};
use stocksync_store::NewChannel;
use stocksync_store::views::ChannelView;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Detail, ErrorBody};
use super::extract::Json;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(get_one, update))
}

/// `Some(None)` for an explicit `null`, `None` when the key is absent.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    pub import_orders: bool,
    pub push_quantities: bool,
    pub import_quantities: bool,
    /// FC that imported quantities go to.
    pub source_fc: Option<String>,
    /// FCs selling on this channel; null means all.
    pub fulfillment_centers: Option<Vec<String>>,
    pub allow_split: bool,
    pub percent: u32,
    pub min_threshold: i64,
    pub max_visible: Option<i64>,
    pub poll_interval_s: u32,
}

impl From<&ChannelSettings> for Settings {
    fn from(s: &ChannelSettings) -> Self {
        Self {
            import_orders: s.import_orders,
            push_quantities: s.push_quantities,
            import_quantities: s.import_quantities,
            source_fc: s.source_fc.as_ref().map(|c| c.as_str().to_owned()),
            fulfillment_centers: s
                .fulfillment_centers
                .as_ref()
                .map(|v| v.iter().map(|c| c.as_str().to_owned()).collect()),
            allow_split: s.allow_split,
            percent: s.push.percent,
            min_threshold: s.push.min_threshold,
            max_visible: s.push.max_visible,
            poll_interval_s: s.poll_interval_s,
        }
    }
}

/// Settings as submitted: every key optional; `null` clears a nullable one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct SettingsBody {
    pub import_orders: Option<bool>,
    pub push_quantities: Option<bool>,
    pub import_quantities: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub source_fc: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    pub fulfillment_centers: Option<Option<Vec<String>>>,
    pub allow_split: Option<bool>,
    pub percent: Option<i64>,
    pub min_threshold: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub max_visible: Option<Option<i64>>,
    pub poll_interval_s: Option<i64>,
}

impl SettingsBody {
    /// Applies the given keys onto `s`, naming bad values as `settings.KEY`.
    fn apply(self, s: &mut ChannelSettings) -> Result<(), Rejection> {
        let mut errors = Vec::new();
        let fc = |field: String, raw: &str, errors: &mut Vec<FieldError>| {
            FcCode::parse_field(&field, raw).map_err(|e| errors.push(e)).ok()
        };
        if let Some(v) = self.import_orders {
            s.import_orders = v;
        }
        if let Some(v) = self.push_quantities {
            s.push_quantities = v;
        }
        if let Some(v) = self.import_quantities {
            s.import_quantities = v;
        }
        if let Some(v) = self.allow_split {
            s.allow_split = v;
        }
        if let Some(v) = self.source_fc {
            s.source_fc = v.and_then(|raw| fc("settings.source_fc".into(), &raw, &mut errors));
        }
        if let Some(v) = self.fulfillment_centers {
            s.fulfillment_centers = v.map(|codes| {
                codes
                    .iter()
                    .enumerate()
                    .filter_map(|(i, raw)| fc(format!("settings.fulfillment_centers[{i}]"), raw, &mut errors))
                    .collect()
            });
        }
        if let Some(p) = self.percent {
            match u32::try_from(p) {
                Ok(p) if p <= 100 => s.push.percent = p,
                _ => errors.push(FieldError::new("settings.percent", format!("must be between 0 and 100, got {p}"))),
            }
        }
        if let Some(m) = self.min_threshold {
            s.push.min_threshold = m;
        }
        if let Some(m) = self.max_visible {
            s.push.max_visible = m;
        }
        if let Some(p) = self.poll_interval_s {
            match u32::try_from(p) {
                Ok(p) => s.poll_interval_s = p,
                Err(_) => errors.push(FieldError::new("settings.poll_interval_s", format!("out of range: {p}"))),
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Rejection::Invalid(errors)) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Channel {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub base_url: Option<String>,
    pub settings: Settings,
    /// What the seller should know about these settings (e.g. import_orders is off).
    pub warnings: Vec<String>,
    /// Whether credentials are stored (they are never returned).
    pub has_credentials: bool,
    pub created_at: String,
}

impl From<ChannelView> for Channel {
    fn from(v: ChannelView) -> Self {
        let mut warnings = v.settings.warnings();
        if v.kind == ChannelKind::Api && v.settings.push_quantities && v.base_url.is_none() {
            warnings.push("push_quantities is on but base_url is not set: quantities cannot be sent.".to_owned());
        }
        Self {
            id: v.id,
            name: v.name,
            kind: v.kind.as_str().to_owned(),
            base_url: v.base_url,
            settings: Settings::from(&v.settings),
            warnings,
            has_credentials: v.has_credentials,
            created_at: v.created_at.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<Channel>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewChannelBody {
    pub name: Option<String>,
    /// ebay, amazon, shopify, etsy, woocommerce, walmart or api.
    pub kind: Option<String>,
    pub base_url: Option<String>,
    /// Write-only secrets (e.g. `signing_secret` for `api` channels).
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<BTreeMap<String, serde_json::Value>>,
    pub settings: Option<SettingsBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChannelChanges {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub base_url: Option<Option<String>>,
    /// Replaces the stored credentials.
    #[schema(value_type = Option<Object>)]
    pub credentials: Option<BTreeMap<String, serde_json::Value>>,
    pub settings: Option<SettingsBody>,
}

fn check_base_url(url: Option<&str>) -> Result<(), ApiError> {
    match url {
        Some(u) if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() > 2000 => {
            Err(ApiError::invalid_field("base_url", "must be an http:// or https:// URL"))
        }
        _ => Ok(()),
    }
}

fn credentials_json(c: &BTreeMap<String, serde_json::Value>) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "{}".to_owned())
}

/// Every channel.
#[utoipa::path(get, path = "/channels", operation_id = "list_channels", tag = "channels",
    responses((status = 200, body = ChannelList), (status = 401, body = ErrorBody)))]
async fn list(State(st): State<AppState>, caller: Caller) -> ApiResult<axum::Json<ChannelList>> {
    caller.require(Role::Viewer)?;
    let channels = st.store.channels().await?;
    Ok(axum::Json(ChannelList { channels: channels.into_iter().map(Channel::from).collect() }))
}

#[utoipa::path(post, path = "/channels", operation_id = "create_channel",
    tag = "channels", request_body = NewChannelBody,
    responses((status = 201, body = Channel), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Json(body): Json<NewChannelBody>,
) -> ApiResult<(StatusCode, axum::Json<Channel>)> {
    caller.require(Role::Admin)?;
    let mut errors = Vec::new();
    if body.name.is_none() {
        errors.push(Detail::field("name", "is required"));
    }
    let kind = match body.kind.as_deref() {
        None => {
            errors.push(Detail::field("kind", "is required"));
            None
        }
        Some(k) => ChannelKind::parse("kind", k).map_err(|e| errors.push(e.into())).ok(),
    };
    if let Err(e) = check_base_url(body.base_url.as_deref()) {
        errors.extend(e.details);
    }
    let mut settings = ChannelSettings::defaults(kind.unwrap_or(ChannelKind::Api));
    if let Some(s) = body.settings
        && let Err(Rejection::Invalid(es)) = s.apply(&mut settings)
    {
        errors.extend(es.into_iter().map(Detail::from));
    }
    let (Some(name), Some(kind), true) = (body.name, kind, errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let ch = NewChannel {
        name,
        kind,
        base_url: body.base_url,
        credentials_json: body.credentials.as_ref().map_or_else(|| "{}".to_owned(), credentials_json),
        settings,
    };
    let id = st.store.create_channel(ch).await?;
    let view = st.store.channel(id.0).await?.ok_or_else(|| ApiError::internal("the new channel vanished"))?;
    Ok((StatusCode::CREATED, axum::Json(view.into())))
}

/// A channel id from the path; anything else names no channel (404).
pub fn channel_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(format!("no channel {raw}")))
}

#[utoipa::path(get, path = "/channels/{id}", operation_id = "get_channel",
    tag = "channels", params(("id" = i64, Path, description = "channel id")),
    responses((status = 200, body = Channel), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_one(State(st): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<axum::Json<Channel>> {
    caller.require(Role::Viewer)?;
    let id = channel_id(&id)?;
    let view = st.store.channel(id).await?.ok_or_else(|| ApiError::not_found(format!("no channel {id}")))?;
    Ok(axum::Json(view.into()))
}

/// Changes the name, base URL, credentials or any settings (the rest stay).
#[utoipa::path(patch, path = "/channels/{id}", operation_id = "update_channel",
    tag = "channels", request_body = ChannelChanges,
    params(("id" = i64, Path, description = "channel id")),
    responses((status = 200, body = Channel), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ChannelChanges>,
) -> ApiResult<axum::Json<Channel>> {
    caller.require(Role::Admin)?;
    let id = channel_id(&id)?;
    if let Some(url) = &body.base_url {
        check_base_url(url.as_deref())?;
    }
    let view = st
        .store
        .update_channel(id, move |e| {
            if let Some(name) = body.name {
                e.name = name;
            }
            if let Some(url) = body.base_url {
                e.base_url = url;
            }
            if let Some(c) = &body.credentials {
                e.credentials_json = Some(credentials_json(c));
            }
            match body.settings {
                Some(s) => s.apply(&mut e.settings),
                None => Ok(()),
            }
        })
        .await?;
    Ok(axum::Json(view.into()))
}
