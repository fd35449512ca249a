//! `stocksync migrate`: create the database if needed and apply migrations.

use std::process::ExitCode;

use crate::config::Config;

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let applied = stocksync_store::Store::migrate(&config.database.url)?;
    if applied.is_empty() {
        eprintln!("{}: schema is up to date", config.database.url);
    } else {
        eprintln!("{}: applied migration(s) {applied:?}", config.database.url);
    }
    Ok(ExitCode::SUCCESS)
}
