//! Uploads: pick a CSV, preview its changes (a dry run) or every error by
//! line and column, then apply it, all or nothing.

use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use minijinja::{Value, context};
use serde::Deserialize;
use stocksync_core::auth::Role;

use super::csrf;
use super::page::{FromSerde, UiError, UiResult, base, render};
use super::session::User;
use super::upload_csv::{self, KINDS, LineError};
use crate::http::AppState;

#[derive(Debug, Deserialize)]
pub struct Notice {
    notice: Option<String>,
}

/// What a submitted upload form carried.
#[derive(Debug, Default)]
struct Submitted {
    csrf: Option<String>,
    kind: String,
    action: String,
    file_name: String,
    bytes: Vec<u8>,
}

async fn read(mut mp: Multipart) -> Result<Submitted, UiError> {
    let bad =
        |e: axum::extract::multipart::MultipartError| UiError::BadRequest(format!("The upload could not be read: {e}"));
    let mut s = Submitted { kind: "inventory".into(), action: "preview".into(), ..Submitted::default() };
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => s.csrf = Some(field.text().await.map_err(bad)?),
            "kind" => s.kind = field.text().await.map_err(bad)?,
            "action" => s.action = field.text().await.map_err(bad)?,
            "file" => {
                s.file_name = field.file_name().unwrap_or("upload.csv").to_owned();
                s.bytes = field.bytes().await.map_err(bad)?.to_vec();
            }
            _ => {}
        }
    }
    Ok(s)
}

fn page(user: &User, status: StatusCode, notice: Option<String>, result: Value) -> UiResult {
    let ctx = context! {
        kinds => KINDS, result, notice, max_mib => upload_csv::UPLOAD_MAX_BYTES >> 20,
        ..base(user, "uploads")
    };
    render("uploads.html", status, ctx)
}

pub async fn form(user: User, Query(q): Query<Notice>) -> UiResult {
    page(&user, StatusCode::OK, q.notice, Value::UNDEFINED)
}

fn errors_page(user: &User, file: &str, errors: &[LineError]) -> UiResult {
    let result = context! { file, errors => Value::from_serde(errors), applied => false };
    page(user, StatusCode::UNPROCESSABLE_ENTITY, None, result)
}

pub async fn submit(State(st): State<AppState>, user: User, mp: Multipart) -> UiResult {
    let s = read(mp).await?;
    // The token is checked before anything in the file is looked at.
    if !csrf::matches(&user.secret, s.csrf.as_deref()) {
        return Err(UiError::Csrf);
    }
    user.require(Role::Operator)?;
    if s.bytes.is_empty() {
        let e = LineError { line: 0, column: "file".into(), message: "choose a CSV file to upload".into() };
        return errors_page(&user, &s.file_name, &[e]);
    }
    let apply = s.action == "apply";
    let outcome = match upload_csv::run(&st.store, &s.kind, &s.bytes, &user.actor(), !apply).await {
        Ok(o) => o,
        Err(errors) => return errors_page(&user, &s.file_name, &errors),
    };
    let result = context! {
        file => s.file_name, kind => s.kind, changes => Value::from_serde(&outcome.changes),
        rows => outcome.rows, changed => outcome.changed, unchanged => outcome.unchanged,
        applied => apply, preview => !apply,
    };
    let notice = apply.then(|| format!("Applied: {} of {} rows changed something.", outcome.changed, outcome.rows));
    page(&user, StatusCode::OK, notice, result)
}
