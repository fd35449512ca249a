//! `stocksync config example`: print the commented example configuration.

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Print every setting with its default and a comment.
    Example,
}

pub fn run(action: Action) -> anyhow::Result<ExitCode> {
    match action {
        Action::Example => print!("{}", crate::config::EXAMPLE),
    }
    Ok(ExitCode::SUCCESS)
}
