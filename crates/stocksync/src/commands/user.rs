//! `stocksync user create --name N --role R [--password-stdin]`: a web UI
//! user. Without `--password-stdin` a password is generated and printed once.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context;
use stocksync_core::auth::Role;
use stocksync_store::Store;

use crate::config::Config;
use crate::ui::password;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Create a user for the web UI; prints a generated password unless one is read from stdin.
    Create {
        #[arg(long)]
        name: String,
        /// viewer, operator or admin.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (its first line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run(config: &Config, action: Action) -> anyhow::Result<ExitCode> {
    match action {
        Action::Create { name, role, password_stdin } => {
            let role = match Role::parse("role", &role) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: --{e}");
                    return Ok(ExitCode::from(2));
                }
            };
            let (secret, generated) = if password_stdin {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).context("reading the password from stdin")?;
                (text.lines().next().unwrap_or_default().to_owned(), false)
            } else {
                (password::generate()?, true)
            };
            if let Err(e) = password::check_new(&secret) {
                eprintln!("error: the password {e}");
                return Ok(ExitCode::from(2));
            }
            let store = Store::open(&config.database.url).context("opening the database")?;
            let hash = tokio::task::spawn_blocking(move || password::hash(&secret).map(|h| (h, secret))).await??;
            store.create_user(&name, role, &hash.0).await.with_context(|| format!("creating user {name:?}"))?;
            if generated {
                println!("{}", hash.1);
                eprintln!("user {name:?} ({}) created; the password above is shown only this once", role.as_str());
            } else {
                eprintln!("user {name:?} ({}) created", role.as_str());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Creates a user with a generated password and returns the password (the demo's sign-in).
pub async fn create_with_generated_password(store: &Store, name: &str, role: Role) -> anyhow::Result<String> {
    let secret = password::generate()?;
    let for_hash = secret.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&for_hash)).await??;
    store.create_user(name, role, &hash).await.with_context(|| format!("creating user {name:?}"))?;
    Ok(secret)
}
