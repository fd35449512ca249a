//! What the uploads page needs from a CSV upload, and a small implementation
//! of the inventory format (PRODUCT.md §6: `sku,fc,available` or
//! `sku,fc,on_hand`, optional `note`; UTF-8 with or without BOM, CRLF or
//! LF, quoted fields).
//!
//! The API's upload module (`/api/v1/uploads/…`, items and listings too) is
//! being built separately. When it lands, `plan` and `apply` should call it
//! and this file shrinks to the interface: a plan is every row's change
//! (with the level before it), or every error as `line N, column C`; applying
//! is all or nothing.

use stocksync_core::books::Level;
use stocksync_core::workflow::{self, Ctx, StockTarget};
use stocksync_core::{FieldError, Rejection};
use stocksync_store::{Store, StoreError};

/// Largest upload, in bytes: 100,000 rows of a typical inventory file.
pub const UPLOAD_MAX_BYTES: usize = 8 << 20;
/// Most rows in one upload: the plan looks each row's level up, and the
/// apply is one transaction that holds the writer while it runs.
pub const UPLOAD_ROWS_MAX: usize = 100_000;

/// The formats the page offers.
pub const KINDS: [&str; 1] = ["inventory"];

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

/// One row's change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    pub line: u64,
    pub sku: String,
    pub fc: String,
    /// `available` or `on_hand`.
    pub field: &'static str,
    pub value: i64,
    pub note: Option<String>,
    /// The level now (before the change); `None` if it has none yet.
    pub before_on_hand: Option<i64>,
    pub before_available: Option<i64>,
}

/// Every change of a valid file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub changes: Vec<Change>,
}

/// Reads and checks the whole file against the catalog; changes nothing.
pub async fn plan(store: &Store, kind: &str, bytes: &[u8]) -> Result<Plan, Vec<LineError>> {
    if kind != "inventory" {
        return Err(vec![LineError::new(1, "kind", format!("{kind:?} uploads are not available here yet"))]);
    }
    let mut changes = parse_inventory(bytes)?;
    let mut errors = Vec::new();
    let fcs = store.fcs().await.map_err(|e| vec![LineError::new(1, "", e.to_string())])?;
    for c in &mut changes {
        if !fcs.iter().any(|f| f.code == c.fc) {
            errors.push(LineError::new(c.line, "fc", format!("no fulfillment center {}", c.fc)));
            continue;
        }
        match store.inventory(&c.sku).await {
            Ok(None) => errors.push(LineError::new(c.line, "sku", format!("no item {}", c.sku))),
            Ok(Some(inv)) if inv.kind != "stock" => {
                errors.push(LineError::new(
                    c.line,
                    "sku",
                    format!("{} is a bundle: it holds no stock of its own", c.sku),
                ));
            }
            Ok(Some(inv)) => {
                let level = inv.levels.iter().find(|(fc, _)| *fc == c.fc).map(|(_, l)| *l);
                c.before_on_hand = level.map(|l| l.on_hand);
                c.before_available = level.map(|l| l.available);
            }
            Err(e) => errors.push(LineError::new(c.line, "sku", e.to_string())),
        }
    }
    if errors.is_empty() { Ok(Plan { changes }) } else { Err(errors) }
}

/// Applies a plan in one transaction: every row or none. A row the
/// workflow refuses (e.g. available above what on_hand allows) is reported
/// by its line, and nothing is applied.
pub async fn apply(store: &Store, plan: Plan, actor: &str, reference: &str) -> Result<usize, Vec<LineError>> {
    let (actor, reference) = (actor.to_owned(), reference.to_owned());
    let lines: Vec<u64> = plan.changes.iter().map(|c| c.line).collect();
    let result = store
        .write(move |s| {
            let cx = Ctx { at: s.now(), actor: &actor };
            for (i, c) in plan.changes.iter().enumerate() {
                let target =
                    if c.field == "on_hand" { StockTarget::OnHand(c.value) } else { StockTarget::Available(c.value) };
                let reason = c.note.as_deref().unwrap_or("upload");
                workflow::set_stock(s, &c.sku, &c.fc, target, Some(reason), &reference, &cx)
                    .map(|_: Level| ())
                    .map_err(|e| tag(e, i))?;
            }
            Ok(plan.changes.len())
        })
        .await;
    result.map_err(|e| match e {
        StoreError::Rejected(Rejection::Invalid(es)) => es.into_iter().map(|f| line_error(f, &lines)).collect(),
        other => vec![LineError::new(1, "", other.to_string())],
    })
}

/// Names a row's rejection as `[i].field`, so that it maps back to its line.
fn tag(e: StoreError, i: usize) -> StoreError {
    match e {
        StoreError::Rejected(Rejection::Invalid(es)) => {
            StoreError::Rejected(Rejection::Invalid(es.into_iter().map(|f| f.within(&format!("[{i}]"))).collect()))
        }
        StoreError::Rejected(r) => {
            StoreError::Rejected(Rejection::Invalid(vec![FieldError::new(format!("[{i}]"), r.to_string())]))
        }
        other => other,
    }
}

fn line_error(f: FieldError, lines: &[u64]) -> LineError {
    let index = f.field.strip_prefix('[').and_then(|r| r.split_once(']'));
    match index.and_then(|(i, rest)| Some((lines.get(i.parse::<usize>().ok()?)?, rest))) {
        Some((line, rest)) => {
            let column = match rest.trim_start_matches('.') {
                "" => "",
                "on_hand" | "available" | "quantity" => "quantity",
                other => other,
            };
            LineError::new(*line, column, f.message)
        }
        None => LineError::new(1, &f.field, f.message),
    }
}

/// Parses the inventory format; every bad cell is reported, by line and column name.
pub fn parse_inventory(bytes: &[u8]) -> Result<Vec<Change>, Vec<LineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    // Line numbers from byte offsets: exact even with quoted multi-line fields.
    let newlines: Vec<usize> = bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i).collect();
    // A record's position is where the reader stood, which can be before the
    // previous line's terminator (and any blank lines): skip those first.
    let line_of = |byte: u64| {
        let mut at = byte as usize;
        while at < bytes.len() && (bytes[at] == b'\r' || bytes[at] == b'\n') {
            at += 1;
        }
        newlines.partition_point(|&n| n < at) as u64 + 1
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
        Err(e) => return Err(vec![LineError::new(1, "", format!("not readable as CSV: {e}"))]),
    };
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (sku_at, fc_at, note_at) = (col("sku"), col("fc"), col("note"));
    let (field, value_at) = match (col("available"), col("on_hand")) {
        (Some(i), None) => ("available", i),
        (None, Some(i)) => ("on_hand", i),
        _ => {
            return Err(vec![LineError::new(
                1,
                "header",
                "must be sku,fc,available or sku,fc,on_hand (optional note)",
            )]);
        }
    };
    let (Some(sku_at), Some(fc_at)) = (sku_at, fc_at) else {
        return Err(vec![LineError::new(1, "header", "must be sku,fc,available or sku,fc,on_hand (optional note)")]);
    };
    let (mut changes, mut errors) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_of(p.byte()));
                errors.push(LineError::new(line, "", format!("not readable as CSV: {e}")));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| line_of(p.byte()));
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        if changes.len() + errors.len() >= UPLOAD_ROWS_MAX {
            errors.push(LineError::new(line, "", format!("the file has more than {UPLOAD_ROWS_MAX} rows; split it")));
            break;
        }
        let cell = |i: usize| record.get(i).map(str::trim).unwrap_or_default();
        let (sku, fc, raw) = (cell(sku_at), cell(fc_at), cell(value_at));
        if sku.is_empty() {
            errors.push(LineError::new(line, "sku", "is empty"));
        }
        if fc.is_empty() {
            errors.push(LineError::new(line, "fc", "is empty"));
        }
        let value = match raw.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            Ok(n) => {
                errors.push(LineError::new(line, field, format!("must not be negative, got {n}")));
                None
            }
            Err(_) => {
                errors.push(LineError::new(line, field, format!("must be a whole number, got {raw:?}")));
                None
            }
        };
        if let (Some(value), false, false) = (value, sku.is_empty(), fc.is_empty()) {
            let note = note_at.map(cell).filter(|n| !n.is_empty()).map(str::to_owned);
            changes.push(Change {
                line,
                sku: sku.to_owned(),
                fc: fc.to_owned(),
                field,
                value,
                note,
                before_on_hand: None,
                before_available: None,
            });
        }
    }
    if errors.is_empty() { Ok(changes) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bom_crlf_quotes_and_names_bad_cells() {
        let ok =
            parse_inventory(b"\xEF\xBB\xBFsku,fc,on_hand,note\r\nA-1,EAST,5,\"count, aisle 3\"\r\nB-2,WEST,0,\r\n")
                .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(
            (ok[0].line, ok[0].field, ok[0].value, ok[0].note.as_deref()),
            (2, "on_hand", 5, Some("count, aisle 3"))
        );
        let bad = parse_inventory(b"sku,fc,available\nA-1,EAST,5\n,EAST,x\n").unwrap_err();
        assert_eq!(
            bad,
            vec![
                LineError::new(3, "sku", "is empty"),
                LineError::new(3, "available", "must be a whole number, got \"x\"")
            ]
        );
        assert_eq!(parse_inventory(b"sku,qty\nA,1\n").unwrap_err()[0].column, "header");
    }
}
