//! Store integration tests: one binary, one module per concern.

mod common;
mod concurrency;
mod conformance;
mod durability;
mod replay;
mod tokens;
