//! `stocksync check`: verify the invariants of PRODUCT.md §8.

use std::process::ExitCode;

use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    // Never create the database here: checking a freshly created empty file
    // would report "clean" for a mistyped path.
    let store = stocksync_store::Store::open_existing(&config.database.url)?;
    let violations = store.check().await?;
    for v in &violations {
        println!("{v}");
    }
    if violations.is_empty() {
        println!(
            "check: clean (no oversell, ledger = levels, committed = open allocations, lines balanced, exactly-once)"
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!("check: {} violation(s)", violations.len());
        Ok(ExitCode::from(1))
    }
}
