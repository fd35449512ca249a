//! Subcommands other than benchmarks, one module each.

pub mod check;
pub mod config;
pub mod export;
pub mod import;
pub mod migrate;
pub mod serve;
pub mod token;
