//! The `api` connector against the `api` receiver simulator.

use stocksync_channels::http::RetryPolicy;
use stocksync_channels::model::ErrorKind;
use stocksync_channels::sim::{self, Faults, api::ApiSim};
use stocksync_channels::{ChannelConfig, Connector, PushEntry};
use stocksync_core::channel::ChannelKind;

fn config(url: String, secret: &str) -> ChannelConfig {
    let mut credentials = serde_json::Map::new();
    credentials.insert("signing_secret".into(), secret.into());
    ChannelConfig { id: 7, name: "store".into(), kind: ChannelKind::Api, base_url: url, credentials }
}

fn entry(sku: &str, quantity: i64, version: i64) -> PushEntry {
    PushEntry { channel_sku: sku.into(), sku: sku.into(), external_id: None, quantity, version }
}

fn fast() -> RetryPolicy {
    RetryPolicy { min_delay: std::time::Duration::from_millis(1), ..RetryPolicy::default() }
}

#[tokio::test]
async fn pushes_are_signed_and_received() {
    let sim = ApiSim::new("s3cret", Faults::default());
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    let c = Connector::with_policy(config(running.url(), "s3cret"), fast()).unwrap();
    let results = c.push(&[entry("A-1", 5, 1), entry("B-2", 0, 1)]).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let st = sim.state();
    assert_eq!(st.listings["A-1"].quantity, 5);
    assert_eq!(st.listings["B-2"].quantity, 0);
    assert_eq!((st.batches, st.bad_signatures), (1, 0));
}

#[tokio::test]
async fn a_wrong_secret_is_refused_for_good() {
    let sim = ApiSim::new("right", Faults::default());
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    let c = Connector::with_policy(config(running.url(), "wrong"), fast()).unwrap();
    let results = c.push(&[entry("A-1", 5, 1)]).await;
    assert_eq!(results[0].as_ref().unwrap_err().kind, ErrorKind::Permanent);
    assert_eq!(sim.state().bad_signatures, 1);
    assert!(sim.state().listings.is_empty());
}

#[tokio::test]
async fn throttling_and_errors_are_retried_until_the_push_lands() {
    let faults = Faults { seed: 7, throttle: 0.3, retry_after_s: 0, error: 0.3, ..Faults::default() };
    let sim = ApiSim::new("k", faults);
    let running = sim::spawn(sim.router(), "127.0.0.1:0").await.unwrap();
    let policy = RetryPolicy { retries: 20, ..fast() };
    let c = Connector::with_policy(config(running.url(), "k"), policy).unwrap();
    for v in 1..=20 {
        let results = c.push(&[entry("A-1", v, v)]).await;
        assert!(results[0].is_ok(), "push {v}: {results:?}");
    }
    assert_eq!(sim.state().listings["A-1"].quantity, 20);
    assert!(sim.state().stale.is_empty());
}
