//! The uploads page over the shared CSV module (`crate::csv`, the same code
//! as `POST /api/v1/uploads/…` and `stocksync import`): a preview is a dry
//! run, applying runs the upload for real; either way the whole file is
//! checked first and a bad line means nothing is applied.

use std::io::Write;

use stocksync_store::Store;

use crate::csv::{self, Format, Options, UploadError};

/// Largest upload through the page, in bytes. The browser sends the file in
/// one multipart body that the page holds in memory; the API streams up to
/// 100 MiB and is the way for bigger files.
pub const UPLOAD_MAX_BYTES: usize = 16 << 20;

/// The formats the page offers.
pub const KINDS: [&str; 3] = ["inventory", "items", "listings"];

/// One problem with one cell (or line) of the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LineError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl LineError {
    fn new(line: u64, column: &str, message: impl Into<String>) -> Self {
        Self { line, column: column.to_owned(), message: message.into() }
    }
}

/// One row's change, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub line: u64,
    /// What the row is about: `SKU at FC`, a SKU, or `channel / channel SKU`.
    pub subject: String,
    /// What changes: a field with its values, or `created` / `updated`.
    pub what: String,
}

/// What an upload did or would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub rows: u64,
    pub changed: u64,
    pub unchanged: u64,
    /// The first changes (the shared module lists at most 1,000).
    pub changes: Vec<Change>,
}

fn format(kind: &str) -> Result<Format, Vec<LineError>> {
    match kind {
        "inventory" => Ok(Format::Inventory),
        "items" => Ok(Format::Items),
        "listings" => Ok(Format::Listings),
        other => Err(vec![LineError::new(0, "kind", format!("{other:?} is not an upload format"))]),
    }
}

/// Checks the file and, unless `dry_run`, applies it in one transaction.
pub async fn run(
    store: &Store,
    kind: &str,
    bytes: &[u8],
    actor: &str,
    dry_run: bool,
) -> Result<Outcome, Vec<LineError>> {
    let format = format(kind)?;
    let internal = |e: std::io::Error| vec![LineError::new(0, "file", format!("could not store the upload: {e}"))];
    let mut spool = tempfile::NamedTempFile::new().map_err(internal)?;
    spool.write_all(bytes).map_err(internal)?;
    spool.flush().map_err(internal)?;
    let report = csv::upload(store, format, spool.path().to_path_buf(), Options::new(actor, dry_run)).await;
    match report {
        Ok(r) => Ok(Outcome {
            rows: r.rows,
            changed: r.changed,
            unchanged: r.unchanged,
            changes: r.changes.into_iter().map(describe).collect(),
        }),
        Err(UploadError::Invalid(problems)) => Err(problems
            .listed()
            .iter()
            .map(|e| LineError { line: e.line, column: e.column.clone(), message: e.message.clone() })
            .collect()),
        Err(other) => {
            tracing::error!(error = %other, "upload through the UI failed");
            Err(vec![LineError::new(0, "file", "the upload failed on the server; it has been logged")])
        }
    }
}

fn describe(c: csv::Change) -> Change {
    match c {
        csv::Change::Level { line, sku, fc, field, from, to } => {
            Change { line, subject: format!("{sku} at {fc}"), what: format!("{field} {from} → {to}") }
        }
        csv::Change::Item { line, sku, action } => Change { line, subject: sku, what: action },
        csv::Change::Listing { line, channel, channel_sku, action } => {
            Change { line, subject: format!("{channel} / {channel_sku}"), what: action }
        }
    }
}
