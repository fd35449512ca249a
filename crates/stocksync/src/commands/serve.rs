//! `stocksync serve`: the HTTP API on one database, until SIGINT or SIGTERM.

use std::process::ExitCode;

use anyhow::Context;
use stocksync_core::auth::Role;
use stocksync_store::Store;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::{self, AppState};
use crate::workers::import::ImportWorker;
use crate::workers::leases::Leases;
use crate::workers::push::PushWorker;

/// Name of the token made from `STOCKSYNC_BOOTSTRAP_TOKEN`.
pub const BOOTSTRAP_TOKEN_NAME: &str = "bootstrap";
/// Below this many characters the bootstrap token is accepted with a warning.
const BOOTSTRAP_TOKEN_ADVISED_CHARS: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (default 127.0.0.1:8080, or `server.listen`).
    #[arg(long)]
    pub listen: Option<String>,
}

pub async fn run(config: &Config, args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.database.url).context("opening the database")?;
    install_bootstrap_token(&store).await?;
    let listen = args.listen.unwrap_or_else(|| config.server.listen.clone());
    let listener = TcpListener::bind(&listen).await.with_context(|| format!("listening on {listen}"))?;
    tracing::info!(listen = %listener.local_addr()?, database = %stocksync_store::DatabaseUrl::redacted(&config.database.url), "serving");
    serve(listener, AppState::new(store), shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Serves the API and runs the workers until `shutdown` completes, then
/// finishes the requests in flight and stops the workers.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut workers = tokio::task::JoinSet::new();
    // Other processes may share the database: each channel's workers run
    // where its lease is held.
    let leases = Leases::shared();
    workers.spawn(leases.clone().run(state.store.clone(), state.channels.clone(), stopped.clone()));
    let push = PushWorker::new(state.store.clone(), state.channels.clone(), state.latency.clone());
    workers.spawn(push.with_leases(leases.clone()).run(stopped.clone()));
    workers.spawn(ImportWorker::new(state.store.clone(), state.channels.clone()).run(leases, stopped));
    let served = axum::serve(listener, http::router(state)).with_graceful_shutdown(shutdown).await;
    let _ = stop.send(true);
    while workers.join_next().await.is_some() {}
    served
}

/// Makes the token in `STOCKSYNC_BOOTSTRAP_TOKEN`, if set, an admin token.
pub async fn install_bootstrap_token(store: &Store) -> anyhow::Result<()> {
    let Ok(secret) = std::env::var("STOCKSYNC_BOOTSTRAP_TOKEN") else { return Ok(()) };
    if secret.is_empty() {
        return Ok(());
    }
    if secret.chars().count() < BOOTSTRAP_TOKEN_ADVISED_CHARS {
        tracing::warn!(
            "STOCKSYNC_BOOTSTRAP_TOKEN is shorter than {BOOTSTRAP_TOKEN_ADVISED_CHARS} characters; \
             use a long random value outside of tests"
        );
    }
    store.put_token(BOOTSTRAP_TOKEN_NAME, Role::Admin, &secret).await.context("installing the bootstrap token")?;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
