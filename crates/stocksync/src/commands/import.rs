//! `stocksync import inventory|items|listings FILE [--dry-run]`: an upload
//! from the command line, through the same code as `POST /uploads/…`.
//! Every bad line is listed on stderr as `line N, column C: message` and
//! the exit code is 2; nothing is applied unless every row is good.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use stocksync_store::Store;

use crate::config::Config;
use crate::csv::{self, Change, Format, Options, UploadError, UploadReport};

/// Who the CLI's movements and edits are recorded as.
const ACTOR: &str = "cli";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file's format.
    #[arg(value_enum)]
    pub format: Format,
    /// The CSV file (UTF-8, with or without BOM).
    pub file: PathBuf,
    /// Check every row and show what would change, without applying anything.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let size = match std::fs::metadata(&args.file) {
        Ok(m) if m.is_file() => m.len(),
        Ok(_) => return usage(format!("{} is not a file", args.file.display())),
        Err(e) => return usage(format!("cannot read {}: {e}", args.file.display())),
    };
    let store = Store::open_existing(&config.database.url).context("opening the database")?;
    let mut opts = Options::new(ACTOR, args.dry_run);
    opts.progress = progress_bar(size);
    let progress = opts.progress.clone();
    let outcome = csv::upload(&store, args.format, args.file.clone(), opts).await;
    progress.finish_and_clear();
    let name = args.file.display();
    match outcome {
        Ok(report) => {
            print_changes(&report);
            let verb = if report.applied { "changed" } else { "would change" };
            eprintln!(
                "{name}: {} row(s); {} {verb}, {} unchanged{}",
                report.rows,
                report.changed,
                report.unchanged,
                if report.dry_run { " (dry run: nothing was applied)" } else { "" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(UploadError::Invalid(problems)) => {
            for e in problems.listed() {
                eprintln!("{e}");
            }
            let unlisted = problems.total() - problems.listed().len() as u64;
            if unlisted > 0 {
                eprintln!("… and {unlisted} more");
            }
            eprintln!("{name}: {} problem(s); nothing was applied", problems.total());
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("importing {name}"))),
    }
}

fn usage(message: String) -> anyhow::Result<ExitCode> {
    eprintln!("error: {message}");
    Ok(ExitCode::from(2))
}

/// One line per change on stdout, so a dry run can be read or diffed.
fn print_changes(report: &UploadReport) {
    for c in &report.changes {
        match c {
            Change::Level { line, sku, fc, field, from, to } => {
                println!("line {line}: {sku} at {fc}: {field} {from} → {to}")
            }
            Change::Item { line, sku, action } => println!("line {line}: {sku} {action}"),
            Change::Listing { line, channel, channel_sku, action } => {
                println!("line {line}: {channel_sku} on {channel} {action}");
            }
        }
    }
    if report.changes_truncated {
        println!("… and {} more change(s)", report.changed - report.changes.len() as u64);
    }
}

/// Bytes of the file read per pass, on stderr when it is a terminal; hidden
/// otherwise so that logs and pipes get no escape codes.
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{msg:>20} [{bar:40}] {bytes}/{total_bytes} ({eta})")
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(len).with_style(style)
}
