//! Simulated marketplaces for tests, benchmarks and `stocksync demo`. Each
//! keeps its own orders and listing quantities, serves the official shapes,
//! and injects faults on demand (`POST /_sim/faults`) or by seed.
//!
//! - `faults`: the fault menu and the middleware that applies it.
//! - `amazon`: the SP-API Orders v0, Listings Items and LWA token calls stocksync uses.
//! - `api`: a receiver of `api`-channel quantity pushes.
//! - `ebay`: the eBay Sell Fulfillment and Sell Inventory calls stocksync uses.
//! - `etsy`: the Etsy Open API v3 receipts and listing inventory calls stocksync uses.
//! - `shopify`: the Shopify Admin GraphQL operations stocksync uses, and order webhooks.
//! - `walmart`: the Walmart Marketplace token, orders and inventory calls stocksync uses.
//! - `woocommerce`: the WooCommerce REST v3 orders and products batch calls, and order webhooks.
//! - `control`: the order-change body the marketplace simulators share.
//! - `book`: the order book the newer simulators share.

pub mod amazon;
pub mod api;
pub mod book;
pub mod control;
pub mod ebay;
pub mod etsy;
pub mod faults;
pub mod shopify;
pub mod walmart;
pub mod woocommerce;

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;

pub use faults::{FaultInjector, Faults};

/// A simulator serving on a loopback port until dropped.
#[derive(Debug)]
pub struct Running {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on `listen` (port 0: any free port).
pub async fn spawn(router: Router, listen: &str) -> std::io::Result<Running> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "simulator stopped");
        }
    });
    Ok(Running { addr, task })
}
