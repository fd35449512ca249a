//! `/uploads/…` and `/exports/…`: CSV in and out (PRODUCT.md §6).
//!
//! An upload's body is streamed to a spool file, hashed and counted as it
//! arrives (over `UPLOAD_MAX_BYTES` it is a 413), then `csv::upload` reads
//! that file twice without ever holding it in memory. Uploads handle their
//! `Idempotency-Key` themselves, fingerprinting the body by the SHA-256
//! taken while spooling: the generic middleware would buffer the body.
//! Exports stream one page of rows at a time into the response body.

use std::io::Write;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use http_body_util::channel::Channel;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use stocksync_core::auth::Role;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiResult, Detail, ErrorBody};
use super::extract::Query;
use super::idempotency::{self, Outcome};
use crate::csv::{self, Export, Format, Options, Problems, UploadError, UploadReport};

/// Largest upload, in bytes: a million inventory rows are ~30 MiB; 100 MiB
/// leaves room for long notes and titles while bounding the spool's disk use.
pub const UPLOAD_MAX_BYTES: u64 = 100 << 20;
/// Body bytes gathered before one write to the spool file: few blocking
/// writes, and at most this much of a body in memory.
const SPOOL_WRITE_BYTES: usize = 1 << 20;
/// Export pages queued ahead of a slow client (each ~50 KiB).
const EXPORT_PAGES_BUFFERED: usize = 4;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_inventory))
        .routes(routes!(upload_items))
        .routes(routes!(upload_listings))
        .routes(routes!(export_inventory))
        .routes(routes!(export_items))
        .routes(routes!(export_listings))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// Check every row and preview the changes without applying anything.
    pub dry_run: Option<bool>,
}

/// Sets stock levels from `sku,fc,available` or `sku,fc,on_hand` (optional `note`, the movement reason).
#[utoipa::path(post, path = "/uploads/inventory", tag = "uploads", params(UploadParams),
    request_body(content = String, content_type = "text/csv", description = "sku,fc,available or sku,fc,on_hand, optional note"),
    responses((status = 200, body = UploadReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_inventory(st: State<AppState>, caller: Caller, q: Query<UploadParams>, req: Request) -> Response {
    upload(st, caller, q, req, Format::Inventory).await
}

/// Creates and updates items from `sku,title,kind,components,aliases` (components as `A-1:2|B-2:1`).
#[utoipa::path(post, path = "/uploads/items", tag = "uploads", params(UploadParams),
    request_body(content = String, content_type = "text/csv", description = "sku,title,kind,components,aliases"),
    responses((status = 200, body = UploadReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_items(st: State<AppState>, caller: Caller, q: Query<UploadParams>, req: Request) -> Response {
    upload(st, caller, q, req, Format::Items).await
}

/// Creates and updates listings from `channel,channel_sku,sku,external_id` (channel by id or name).
#[utoipa::path(post, path = "/uploads/listings", tag = "uploads", params(UploadParams),
    request_body(content = String, content_type = "text/csv", description = "channel,channel_sku,sku,external_id"),
    responses((status = 200, body = UploadReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_listings(st: State<AppState>, caller: Caller, q: Query<UploadParams>, req: Request) -> Response {
    upload(st, caller, q, req, Format::Listings).await
}

/// Every stock level as `sku,fc,on_hand`: uploading it back changes nothing.
#[utoipa::path(get, path = "/exports/inventory.csv", tag = "exports",
    responses((status = 200, body = String, content_type = "text/csv", description = "sku,fc,on_hand"),
              (status = 401, body = ErrorBody)))]
async fn export_inventory(st: State<AppState>, caller: Caller) -> ApiResult<Response> {
    export(st, caller, Format::Inventory).await
}

/// Every item as `sku,title,kind,components,aliases`, stock items first.
#[utoipa::path(get, path = "/exports/items.csv", tag = "exports",
    responses((status = 200, body = String, content_type = "text/csv", description = "sku,title,kind,components,aliases"),
              (status = 401, body = ErrorBody)))]
async fn export_items(st: State<AppState>, caller: Caller) -> ApiResult<Response> {
    export(st, caller, Format::Items).await
}

/// Every listing as `channel,channel_sku,sku,external_id`, channels by name.
#[utoipa::path(get, path = "/exports/listings.csv", tag = "exports",
    responses((status = 200, body = String, content_type = "text/csv", description = "channel,channel_sku,sku,external_id"),
              (status = 401, body = ErrorBody)))]
async fn export_listings(st: State<AppState>, caller: Caller) -> ApiResult<Response> {
    export(st, caller, Format::Listings).await
}

async fn upload(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<UploadParams>,
    req: Request,
    format: Format,
) -> Response {
    run(&st, &caller, q, req, format).await.unwrap_or_else(IntoResponse::into_response)
}

async fn run(st: &AppState, caller: &Caller, q: UploadParams, req: Request, format: Format) -> ApiResult<Response> {
    caller.require(Role::Operator)?;
    let key = idempotency::key_of(req.headers())?;
    let scope = idempotency::scope_of(req.headers());
    let (parts, body) = req.into_parts();
    let spooled = spool(&parts.headers, body, UPLOAD_MAX_BYTES).await?;
    let opts = Options::new(caller.actor(), q.dry_run.unwrap_or(false));
    let Some(key) = key else { return Ok(answer(st, format, &spooled, opts).await) };
    let path = parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), ToString::to_string);
    let fp = idempotency::fingerprint(&parts.method, &path, &spooled.sha256);
    match idempotency::check(st, scope, key, &fp).await? {
        Outcome::Replay(res) => Ok(res),
        Outcome::Run(claim) => {
            let res = answer(st, format, &spooled, opts).await;
            Ok(idempotency::record(st, claim, fp, res).await)
        }
    }
}

async fn answer(st: &AppState, format: Format, spooled: &Spool, opts: Options) -> Response {
    match csv::upload(&st.store, format, spooled.file.path().to_owned(), opts).await {
        Ok(report) => Json(report).into_response(),
        Err(UploadError::Invalid(problems)) => invalid(&problems).into_response(),
        Err(UploadError::Store(e)) => ApiError::from(e).into_response(),
        Err(UploadError::Io(e)) => {
            tracing::error!(error = %e, "could not read a spooled upload");
            ApiError::internal("the server could not read the uploaded file back; it has been logged").into_response()
        }
    }
}

/// A 422 listing every problem (up to `csv::ERRORS_LISTED_MAX`), by line.
pub fn invalid(problems: &Problems) -> ApiError {
    let listed = problems.listed();
    let details = listed.iter().map(|e| Detail::line(e.line, e.column.clone(), e.message.clone())).collect();
    let mut e = ApiError::invalid(details);
    if problems.total() > listed.len() as u64 {
        e.message = format!(
            "validation failed: {} problems, the first {} listed; nothing was applied",
            problems.total(),
            listed.len()
        );
    } else {
        e.message.push_str("; nothing was applied");
    }
    e
}

/// An upload's body on disk, removed when dropped.
#[derive(Debug)]
pub struct Spool {
    pub file: tempfile::NamedTempFile,
    pub sha256: [u8; 32],
    pub bytes: u64,
}

/// Streams `body` into a temporary file, hashing it; a 413 as soon as it
/// (or its declared `Content-Length`) passes `limit_bytes`.
pub async fn spool(headers: &HeaderMap, mut body: Body, limit_bytes: u64) -> ApiResult<Spool> {
    let too_large = || ApiError::too_large(usize::try_from(limit_bytes).unwrap_or(usize::MAX));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit_bytes) {
        return Err(too_large());
    }
    let failed = |e: std::io::Error| ApiError::internal(format!("could not spool the upload: {e}"));
    let file = tempfile::NamedTempFile::new().map_err(failed)?;
    let mut out = Some(file.reopen().map_err(failed)?);
    let (mut hash, mut bytes, mut buf) = (Sha256::new(), 0u64, Vec::new());
    loop {
        let frame = match body.frame().await {
            None => None,
            Some(Ok(frame)) => Some(frame),
            Some(Err(e)) => return Err(ApiError::malformed(format!("the request body could not be read: {e}"))),
        };
        let done = frame.is_none();
        if let Some(data) = frame.and_then(|f| f.into_data().ok()) {
            bytes += data.len() as u64;
            if bytes > limit_bytes {
                return Err(too_large());
            }
            hash.update(&data);
            buf.extend_from_slice(&data);
        }
        if buf.len() >= SPOOL_WRITE_BYTES || (done && !buf.is_empty()) {
            let (mut f, chunk) =
                (out.take().ok_or_else(|| failed(std::io::Error::other("spool closed")))?, std::mem::take(&mut buf));
            let written = tokio::task::spawn_blocking(move || f.write_all(&chunk).map(|()| f)).await;
            out = Some(written.map_err(|e| failed(std::io::Error::other(e)))?.map_err(failed)?);
        }
        if done {
            return Ok(Spool { file, sha256: hash.finalize().into(), bytes });
        }
    }
}

async fn export(State(st): State<AppState>, caller: Caller, format: Format) -> ApiResult<Response> {
    caller.require(Role::Viewer)?;
    let mut export = Export::new(format);
    // The header and the first page are read before answering, so that a
    // failing database is a 500 rather than a file cut short.
    let mut first = Vec::new();
    for _ in 0..2 {
        first.extend(export.next_chunk(&st.store).await?.unwrap_or_default());
    }
    let (mut tx, body) = Channel::<Bytes, std::io::Error>::new(EXPORT_PAGES_BUFFERED);
    let store = st.store.clone();
    tokio::spawn(async move {
        if tx.send_data(Bytes::from(first)).await.is_err() {
            return;
        }
        loop {
            match export.next_chunk(&store).await {
                Ok(Some(chunk)) => {
                    // A send fails when the client went away: stop reading.
                    if tx.send_data(Bytes::from(chunk)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    tracing::error!(error = %e, format = format.as_str(), "an export failed part way; the response is cut short");
                    tx.abort(std::io::Error::other(e.to_string()));
                    return;
                }
            }
        }
    });
    let disposition = format!("attachment; filename=\"{}.csv\"", format.as_str());
    let headers =
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)];
    Ok((StatusCode::OK, headers, Body::new(body)).into_response())
}
