//! `stocksync export inventory|items|listings [--output FILE]`: the CSV of
//! `GET /exports/….csv`, streamed a page at a time to stdout or a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use stocksync_store::Store;

use crate::config::Config;
use crate::csv::{Export, Format};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to export.
    #[arg(value_enum)]
    pub format: Format,
    /// Write to this file instead of stdout (replaced only once complete).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&config.database.url).context("opening the database")?;
    match &args.output {
        None => {
            let stdout = std::io::stdout();
            write_all(&store, args.format, &mut BufWriter::new(stdout.lock())).await?;
        }
        Some(path) => {
            // A partial file never takes the name: write aside, then rename.
            let partial = partial_name(path);
            let result = async {
                let mut out = BufWriter::new(File::create(&partial)?);
                write_all(&store, args.format, &mut out).await?;
                out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                std::fs::rename(&partial, path)?;
                anyhow::Ok(())
            }
            .await;
            if let Err(e) = result {
                let _ = std::fs::remove_file(&partial);
                return Err(e.context(format!("writing {}", path.display())));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn write_all(store: &Store, format: Format, out: &mut impl Write) -> anyhow::Result<()> {
    let mut export = Export::new(format);
    while let Some(chunk) = export.next_chunk(store).await? {
        out.write_all(&chunk)?;
    }
    out.flush()?;
    Ok(())
}

fn partial_name(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}
