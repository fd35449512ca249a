//! Store integration tests: one binary, one module per concern.

#[macro_use]
mod common;
mod concurrency;
mod conformance;
mod corrections;
mod durability;
mod leases;
mod replay;
mod resources;
mod tokens;
mod uploads;
