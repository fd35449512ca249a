//! `stocksync migrate`: create the database if needed and apply migrations.

use std::process::ExitCode;

use stocksync_store::DatabaseUrl;

use crate::config::Config;

pub fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let applied = stocksync_store::Store::migrate(&config.database.url)?;
    if applied.is_empty() {
        eprintln!("{}: schema is up to date", DatabaseUrl::redacted(&config.database.url));
    } else {
        eprintln!("{}: applied migration(s) {applied:?}", DatabaseUrl::redacted(&config.database.url));
    }
    Ok(ExitCode::SUCCESS)
}
