//! `stocksync token create --name N --role R`: prints a new API token once.

use std::process::ExitCode;

use anyhow::Context;
use stocksync_core::auth::Role;
use stocksync_store::Store;

use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a token and print it (it is stored hashed and never shown again).
    Create {
        #[arg(long)]
        name: String,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
    },
}

pub async fn run(config: &Config, action: Action) -> anyhow::Result<ExitCode> {
    match action {
        Action::Create { name, role } => {
            let role = match Role::parse("role", &role) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: --{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let store = Store::open(&config.database.url).context("opening the database")?;
            let secret = crate::http::auth::new_secret().map_err(|e| anyhow::anyhow!(e.message))?;
            store.create_token(&name, role, &secret).await.with_context(|| format!("creating token {name:?}"))?;
            println!("{secret}");
            eprintln!("token {name:?} ({}) created; it is shown only this once", role.as_str());
            Ok(ExitCode::SUCCESS)
        }
    }
}
