//! Fulfillment centers: add, rename, activate or deactivate, and reorder
//! priorities (1 = allocated from first).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;
use stocksync_core::auth::Role;
use stocksync_core::catalog::FcSpec;

use super::csrf::Form;
use super::page::{FormError, FromSerde, UiError, UiResult, base, done, form_errors, int_field, render};
use super::session::User;
use crate::http::AppState;

#[derive(Debug, Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

async fn page(st: &AppState, user: &User, notice: Option<String>, errors: Vec<FormError>, form: Value) -> UiResult {
    let fcs = st.store.fcs().await?;
    let rows: Vec<Value> = fcs
        .iter()
        .map(
            |f| context! { code => f.code.clone(), name => f.name.clone(), priority => f.priority, active => f.active },
        )
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let next_priority = fcs.iter().map(|f| f.priority).max().unwrap_or(0) + 1;
    let ctx = context! { rows, errors => Value::from_serde(&errors), form, notice, next_priority, ..base(user, "fcs") };
    render("fcs.html", status, ctx)
}

pub async fn list(State(st): State<AppState>, user: User, Query(q): Query<Notice>) -> UiResult {
    page(&st, &user, q.notice, Vec::new(), Value::UNDEFINED).await
}

pub async fn create(State(st): State<AppState>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    let code = fields.get("code").unwrap_or_default().to_owned();
    let name = fields.get("name").unwrap_or_default().to_owned();
    let priority = int_field(&mut errors, "priority", fields.get("priority"));
    let form = context! { code => code.clone(), name => name.clone(), priority => fields.raw("priority"), active => fields.flag("active") };
    if errors.is_empty() {
        let created = match FcSpec::new(&code, &name, priority.unwrap_or(1), fields.flag("active")) {
            Ok(spec) => st.store.create_fc(spec).await,
            Err(r) => Err(r.into()),
        };
        match created {
            Ok(()) => return Ok(done("/fcs", &format!("Added {code}."))),
            Err(e) => errors = form_errors(e, "code")?,
        }
    }
    page(&st, &user, None, errors, form).await
}

/// Saves one FC's name, priority and active flag.
pub async fn update(State(st): State<AppState>, Path(code): Path<String>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let mut errors = Vec::new();
    let priority = int_field(&mut errors, "priority", fields.get("priority"));
    let name = fields.get("name").map(str::to_owned);
    // A one-button form (activate/deactivate) sends `active` alone.
    let active = match fields.get("set_active") {
        Some(v) => Some(v == "true"),
        None => Some(fields.flag("active")),
    };
    if errors.is_empty() {
        match st.store.update_fc(&code, name, priority, active).await {
            Ok(fc) => {
                let state = if fc.active { "active" } else { "inactive" };
                return Ok(done("/fcs", &format!("Saved {code} (priority {}, {state}).", fc.priority)));
            }
            Err(e) => errors = form_errors(e, "name")?,
        }
    }
    // Errors are shown against this FC's row.
    let errors = errors.into_iter().map(|e| FormError::new(format!("{code}.{}", e.field), e.message)).collect();
    page(&st, &user, None, errors, Value::UNDEFINED).await
}

/// Moves an FC one place up or down the priority order, renumbering
/// priorities 1..n in one transaction so that ties cannot hide the order.
pub async fn move_fc(State(st): State<AppState>, Path(code): Path<String>, form: Form) -> UiResult {
    let Form { user, fields } = form;
    user.require(Role::Admin)?;
    let up = match fields.get("direction") {
        Some("up") => true,
        Some("down") => false,
        _ => return Err(UiError::BadRequest("direction: must be up or down".into())),
    };
    let mut order: Vec<String> = st.store.fcs().await?.into_iter().map(|f| f.code).collect();
    let Some(at) = order.iter().position(|c| *c == code) else {
        return Err(UiError::NotFound(format!("There is no fulfillment center {code}.")));
    };
    let to = if up { at.checked_sub(1) } else { Some(at + 1).filter(|&t| t < order.len()) };
    let Some(to) = to else {
        return Ok(done("/fcs", &format!("{code} is already {}.", if up { "first" } else { "last" })));
    };
    order.swap(at, to);
    st.store.set_fc_order(order).await?;
    Ok(done("/fcs", &format!("Moved {code} {}.", if up { "up" } else { "down" })))
}
