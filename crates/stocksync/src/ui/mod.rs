//! The web UI (PRODUCT.md §7): server-rendered pages at `/`, on the same
//! binary and the same `AppState` as the JSON API.
//!
//! - `session`: sign-in cookies and the `User` extractor; `password`:
//!   argon2id hashing; `csrf`: per-session form tokens and the `Form` extractor.
//! - `templates`: minijinja templates embedded with `include_str!`;
//!   `page`: the layout's context, HTML errors, formatting helpers.
//! - one module per page: `login`, `dashboard`, `orders` (workspace), `order`
//!   (one order, mapping its SKUs), `inventory`, `items`, `fcs`,
//!   `integrations`, `uploads` (with `upload_csv`), `activity`.
//! - `assets`: the stylesheet and the small script, embedded.
//!
//! Pages work without JavaScript; every POST carries a CSRF token tied to
//! the session. Handlers parse the form, call `Store` operations, and
//! render; the rules live in `stocksync-core`.

mod activity;
mod assets;
pub mod csrf;
mod dashboard;
mod fcs;
mod integrations;
mod inventory;
mod items;
mod login;
mod order;
mod orders;
mod page;
pub mod password;
pub mod session;
mod templates;
pub mod upload_csv;
mod uploads;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::http::AppState;

/// Room for the upload form's other fields and part headers, in bytes.
const MULTIPART_OVERHEAD_BYTES: usize = 64 * 1024;

/// Every page of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::show))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/orders", get(orders::list))
        .route("/orders/{id}", get(order::show))
        .route("/orders/{id}/map", post(order::map))
        .route("/orders/{id}/status", post(order::change_status))
        .route("/inventory", get(inventory::list))
        .route("/inventory/{sku}", get(inventory::show).post(inventory::change))
        .route("/items", get(items::list).post(items::create))
        .route("/items/new", get(items::new_form))
        .route("/items/{sku}", get(items::show).post(items::update))
        .route("/fcs", get(fcs::list).post(fcs::create))
        .route("/fcs/{code}", post(fcs::update))
        .route("/fcs/{code}/move", post(fcs::move_fc))
        .route("/integrations", get(integrations::list).post(integrations::create))
        .route("/integrations/{id}", get(integrations::show).post(integrations::update))
        .route("/integrations/{id}/test", post(integrations::test))
        .route(
            "/uploads",
            get(uploads::form)
                .post(uploads::submit)
                .layer(DefaultBodyLimit::max(upload_csv::UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES)),
        )
        .route("/activity", get(activity::show))
        .route("/assets/{file}", get(assets::serve))
}
