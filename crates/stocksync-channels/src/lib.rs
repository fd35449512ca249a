//! Marketplace connectors and their simulators (eBay, Shopify, Amazon, Etsy,
//! WooCommerce, Walmart, and `api` channels). This crate never touches the
//! database: connectors turn channel APIs into `stocksync_core` values and
//! back. It is empty until the channel-sync work lands; the crate exists now
//! so that the workspace has its final shape (core → {store, channels} → app).
