//! Subcommands other than benchmarks, one module each.

pub mod check;
pub mod config;
pub mod demo;
pub mod export;
pub mod import;
pub mod migrate;
pub mod serve;
pub mod sim;
pub mod token;
pub mod user;
