//! Items & bundles: the catalog. Create and edit stock items and bundles,
//! their components (`SKU:quantity`, one per line or comma-separated) and
//! aliases (other SKU strings that mean this item).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;
use stocksync_core::auth::Role;
use stocksync_core::catalog::ItemDraft;
use stocksync_store::ItemPatch;
use stocksync_store::views::ItemView;

use super::csrf::Form;
use super::page::{FormError, FromSerde, UiError, UiResult, base, done, form_errors, render, segment};
use super::session::User;
use crate::http::AppState;

/// Items per page of the list.
const PAGE_ROWS: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct Search {
    q: Option<String>,
    kind: Option<String>,
    after: Option<String>,
    notice: Option<String>,
}

pub async fn list(State(st): State<AppState>, user: User, Query(s): Query<Search>) -> UiResult {
    let q = s.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    let kind = s.kind.as_deref().filter(|k| *k == "stock" || *k == "bundle").map(str::to_owned);
    let items = st.store.items(q.clone(), kind.clone(), s.after.clone(), PAGE_ROWS).await?;
    let next = (items.len() == PAGE_ROWS).then(|| items.last().map(|i| i.sku.clone())).flatten().map(|after| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("q", &q), ("kind", &kind)] {
            if let Some(v) = v {
                qs.append_pair(k, v);
            }
        }
        qs.append_pair("after", &after);
        qs.finish()
    });
    let rows: Vec<Value> = items.iter().map(row).collect();
    let ctx = context! { q, kind, rows, next, notice => s.notice, ..base(&user, "items") };
    render("items.html", StatusCode::OK, ctx)
}

fn row(i: &ItemView) -> Value {
    context! {
        sku => i.sku.clone(), path => segment(&i.sku), title => i.title.clone(), kind => i.kind.clone(),
        components => components_text(i, ", "), aliases => i.aliases.join(", "),
    }
}

fn components_text(i: &ItemView, sep: &str) -> String {
    i.components.iter().map(|c| format!("{}:{}", c.sku, c.quantity)).collect::<Vec<_>>().join(sep)
}

/// `A-1:2, B-2:1` (or one per line) as `(sku, quantity)` pairs; a missing
/// quantity is 1. Errors name the `components` field and the entry.
fn parse_components(raw: &str, errors: &mut Vec<FormError>) -> Vec<(String, i64)> {
    raw.split([',', '\n', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|entry| {
            let (sku, qty) = match entry.rsplit_once(':') {
                Some((sku, qty)) => (sku.trim(), qty.trim()),
                None => (entry, "1"),
            };
            match qty.parse::<i64>() {
                Ok(q) => Some((sku.to_owned(), q)),
                Err(_) => {
                    errors.push(FormError::new(
                        "components",
                        format!("{entry:?}: the quantity after ':' must be a whole number"),
                    ));
                    None
                }
            }
        })
        .collect()
}

fn parse_aliases(raw: &str) -> Vec<String> {
    raw.split([',', '\n', ' ', '\t']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// Component and alias errors come back as `components[0].sku` or `aliases[1]`: the form has one field for each list.
fn to_form_field(mut e: FormError) -> FormError {
    for list in ["components", "aliases"] {
        if e.field.starts_with(list) && e.field != list {
            e.message = format!("{}: {}", &e.field[list.len()..], e.message);
            e.field = list.to_owned();
        }
    }
    e
}

fn edit_page(
    user: &User,
    item: Option<&ItemView>,
    form: Value,
    errors: Vec<FormError>,
    notice: Option<String>,
) -> UiResult {
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let ctx = context! {
        item => item.map(|i| context! { sku => i.sku.clone(), path => segment(&i.sku), kind => i.kind.clone() }),
        form, errors => Value::from_serde(&errors), notice, ..base(user, "items")
    };
    render("item.html", status, ctx)
}

pub async fn new_form(user: User) -> UiResult {
    edit_page(&user, None, context! { kind => "stock" }, Vec::new(), None)
}

pub async fn show(
    State(st): State<AppState>,
    user: User,
    Path(sku): Path<String>,
    Query(s): Query<Search>,
) -> UiResult {
    let item = st.store.item(&sku).await?.ok_or_else(|| UiError::NotFound(format!("There is no item {sku}.")))?;
    let form = context! {
        title => item.title.clone(), kind => item.kind.clone(), components => components_text(&item, "\n"),
        aliases => item.aliases.join("\n"),
    };
    edit_page(&user, Some(&item), form, Vec::new(), s.notice)
}

pub async fn create(State(st): State<AppState>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    let sku = fields.get("sku").unwrap_or_default().to_owned();
    let kind = fields.get("kind").unwrap_or("stock").to_owned();
    let components = parse_components(fields.raw("components"), &mut errors);
    let draft = ItemDraft {
        sku: sku.clone(),
        title: fields.get("title").map(str::to_owned),
        kind: kind.clone(),
        components,
        aliases: parse_aliases(fields.raw("aliases")),
    };
    if errors.is_empty() {
        match st.store.create_item(draft, &user.actor()).await {
            Ok(_) => return Ok(done(&format!("/items/{}", segment(&sku)), &format!("Created {sku}."))),
            Err(e) => errors.extend(form_errors(e, "sku")?.into_iter().map(to_form_field)),
        }
    }
    let form = context! {
        sku, kind, title => fields.raw("title"), components => fields.raw("components"), aliases => fields.raw("aliases"),
    };
    edit_page(&user, None, form, errors, None)
}

pub async fn update(State(st): State<AppState>, Path(sku): Path<String>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let item = st.store.item(&sku).await?.ok_or_else(|| UiError::NotFound(format!("There is no item {sku}.")))?;
    let mut errors = Vec::new();
    let components = parse_components(fields.raw("components"), &mut errors);
    let patch = ItemPatch {
        title: Some(fields.get("title").unwrap_or_default().to_owned()),
        kind: None,
        components: (item.kind == "bundle").then_some(components),
        aliases: Some(parse_aliases(fields.raw("aliases"))),
    };
    if errors.is_empty() {
        match st.store.update_item(&sku, patch, &user.actor()).await {
            Ok(_) => return Ok(done(&format!("/items/{}", segment(&sku)), &format!("Saved {sku}."))),
            Err(e) => errors.extend(form_errors(e, "title")?.into_iter().map(to_form_field)),
        }
    }
    let form = context! {
        title => fields.raw("title"), kind => item.kind.clone(), components => fields.raw("components"), aliases => fields.raw("aliases"),
    };
    edit_page(&user, Some(&item), form, errors, None)
}
