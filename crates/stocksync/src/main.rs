//! `stocksync`: the command-line entry point. Each subcommand lives in its
//! own module under `commands/` or `bench/`.

use stocksync::{bench, commands, config};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "stocksync", version, about = "Multichannel inventory and order hub that never oversells")]
struct Cli {
    /// A TOML configuration file (see `stocksync config example`).
    #[arg(long, global = true, env = "STOCKSYNC_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database if needed and apply pending migrations.
    Migrate,
    /// Verify every invariant the database can show; exit 1 on any violation, 2 if there is no database.
    Check,
    /// Run everything on a fresh machine: server, simulated marketplaces, live orders; then verify.
    Demo(commands::demo::Args),
    /// Run a simulated marketplace.
    Sim(commands::sim::Args),
    /// Upload a CSV file (inventory, items or listings) all or nothing; exit 2 listing every bad line.
    Import(commands::import::Args),
    /// Write inventory, items or listings as CSV, in the formats `import` reads.
    Export(commands::export::Args),
    /// Serve the HTTP API, the web UI at `/`, and the workers.
    Serve(commands::serve::Args),
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        action: commands::token::Action,
    },
    /// Manage web UI users.
    User {
        #[command(subcommand)]
        action: commands::user::Action,
    },
    /// Run a benchmark; the last line of stdout is one JSON object.
    Bench {
        #[command(subcommand)]
        scenario: bench::Scenario,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        action: commands::config::Action,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("STOCKSYNC_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config = match config::Config::load(cli.config.as_deref(), cli.database_url.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Migrate => commands::migrate::run(&config),
            Command::Check => commands::check::run(&config).await,
            Command::Demo(args) => commands::demo::run(&config, cli.database_url.is_some(), args).await,
            Command::Sim(args) => commands::sim::run(args).await,
            Command::Import(args) => commands::import::run(&config, args).await,
            Command::Export(args) => commands::export::run(&config, args).await,
            Command::Serve(args) => commands::serve::run(&config, args).await,
            Command::Token { action } => commands::token::run(&config, action).await,
            Command::User { action } => commands::user::run(&config, action).await,
            Command::Bench { scenario } => bench::run(scenario, &config, cli.database_url.is_some()).await,
            Command::Config { action } => commands::config::run(action),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            if is_configuration_error(&e) { ExitCode::from(2) } else { ExitCode::FAILURE }
        }
    }
}

/// Whether `e` comes from what the user asked for rather than from running
/// it: a database URL this build cannot use, or a database that does not
/// exist. These exit 2 like other usage and configuration errors, so scripts
/// can tell "fix the invocation" apart from "the operation failed" (exit 1).
fn is_configuration_error(e: &anyhow::Error) -> bool {
    use stocksync_store::StoreError;
    e.chain()
        .any(|cause| matches!(cause.downcast_ref::<StoreError>(), Some(StoreError::BadUrl(_) | StoreError::Missing(_))))
}
