//! Subcommands other than benchmarks, one module each.

pub mod check;
pub mod config;
pub mod migrate;
pub mod serve;
pub mod token;
