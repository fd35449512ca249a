//! `bench upload`: a generated inventory CSV of `--rows` rows (every item in
//! every FC) uploaded through `csv::upload`, the code behind
//! `POST /uploads/inventory` once the body is spooled: the check pass on
//! reader connections, then the apply pass in one writer transaction.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, ensure};
use stocksync_core::catalog::ItemDraft;
use stocksync_store::Store;

use super::{Report, report, seed_fcs, verify};
use crate::csv::{self, Format, Options};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data rows in the file.
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Fulfillment centers; the catalog has `rows / fcs` items (rounded up).
    #[arg(long, default_value_t = 10)]
    fcs: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

pub async fn run(store: &Store, args: Args) -> anyhow::Result<(Report, bool)> {
    ensure!(args.rows > 0 && args.fcs > 0, "--rows and --fcs must be at least 1");
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let t = Instant::now();
    let fcs: Vec<String> = (0..args.fcs).map(|i| format!("FC-{i:02}")).collect();
    seed_fcs(store, &fcs).await?;
    let items = args.rows.div_ceil(args.fcs);
    let skus: Vec<String> = (0..items).map(|i| format!("SKU-{i:07}")).collect();
    for chunk in skus.chunks(10_000) {
        let drafts =
            chunk.iter().map(|s| ItemDraft { sku: s.clone(), kind: "stock".into(), ..Default::default() }).collect();
        store.create_items(drafts, "bench").await?;
    }
    let file = tempfile::NamedTempFile::new().context("creating the CSV file")?;
    let mut out = BufWriter::new(file.reopen()?);
    writeln!(out, "sku,fc,on_hand")?;
    let (mut written, mut nonzero) = (0, 0u64);
    'rows: for sku in &skus {
        for fc in &fcs {
            if written == args.rows {
                break 'rows;
            }
            let on_hand = rng.u32(0..=100);
            nonzero += u64::from(on_hand > 0);
            writeln!(out, "{sku},{fc},{on_hand}")?;
            written += 1;
        }
    }
    out.flush()?;
    let bytes = file.as_file().metadata()?.len();
    eprintln!(
        "bench upload: seeded {items} items × {} FCs and wrote {written} rows ({:.1} MiB) in {:.1}s",
        fcs.len(),
        bytes as f64 / f64::from(1 << 20),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let uploaded =
        csv::upload(store, Format::Inventory, PathBuf::from(file.path()), Options::new("bench", false)).await;
    let seconds = t.elapsed().as_secs_f64();
    let uploaded = uploaded.map_err(|e| anyhow::anyhow!("the upload failed: {e}"))?;
    eprintln!("bench upload: {} rows checked and applied in {seconds:.1}s; {}", uploaded.rows, peak_rss());
    let mut report = report(store, "upload", seconds, 0, &[]).await?;
    report.rows = Some(uploaded.rows);
    report.rows_per_s = Some((uploaded.rows as f64 / seconds).round());
    // Rows setting 0 where there is no level yet change nothing.
    let ok =
        uploaded.applied && uploaded.rows == written as u64 && uploaded.changed == nonzero && verify(store).await?;
    Ok((report, ok))
}

/// The process's peak resident memory so far (Linux), before the
/// invariant check that follows reads the whole database.
fn peak_rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(str::trim);
    peak.map_or_else(|| "peak RSS unknown".to_owned(), |p| format!("peak RSS so far {p}"))
}
