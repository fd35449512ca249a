//! Integration tests of the stocksync domain, through its public API only.
//!
//! - `allocation`: the allocation rule of PRODUCT.md §3, as a table of cases.
//! - `workflow`: the order workflow of §2 in scenarios over `MemBooks`.
//! - `replay`: import idempotency and out-of-order versions (§8.4).
//! - `bad_input`: every rejection names its field and changes nothing (§9).
//! - `props`: property tests: random catalogs and operation streams keep the
//!   invariants of §8, plans pass `check_plan`, runs are deterministic.

mod allocation;
mod bad_input;
mod common;
mod props;
mod replay;
mod workflow;
