//! The stylesheet and the small script, compiled into the binary. No CDN,
//! no build step; pages work without the script.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

/// Assets change only with the binary; a short cache keeps an upgrade visible soon.
const CACHE: &str = "public, max-age=3600";

pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, CACHE)], body).into_response()
}
