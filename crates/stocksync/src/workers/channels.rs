//! The connector of every channel, built from its stored settings and
//! credentials, and rebuilt when they change.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use stocksync_channels::http::RetryPolicy;
use stocksync_channels::{ChannelConfig, Connector};
use stocksync_store::Store;
use stocksync_store::views::ChannelView;

#[derive(Debug, Clone)]
pub struct Live {
    pub view: ChannelView,
    pub connector: Connector,
}

/// Channels and their connectors.
#[derive(Debug, Clone)]
pub struct Channels {
    store: Store,
    policy: RetryPolicy,
    setup: Setup,
    built: Arc<Mutex<Built>>,
}

/// What every connector goes through once built (nothing unless a test
/// sets it: a clock of its own, usage plans it can afford).
#[derive(Clone)]
struct Setup(Arc<dyn Fn(Connector) -> Connector + Send + Sync>);

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Setup")
    }
}

/// Connectors by channel id with the fingerprint of the settings they were
/// built from; and channels skipped, with the fingerprint that was refused.
#[derive(Debug, Default)]
struct Built {
    connectors: HashMap<i64, (String, Connector)>,
    skipped: HashMap<i64, String>,
}

impl Channels {
    pub fn new(store: Store, policy: RetryPolicy) -> Self {
        Self { store, policy, setup: Setup(Arc::new(|c| c)), built: Arc::default() }
    }

    /// The same channels passing each connector they build through `setup`
    /// (e.g. giving Amazon's the test's clock). Connectors already built
    /// are built again.
    pub fn with_setup(mut self, setup: impl Fn(Connector) -> Connector + Send + Sync + 'static) -> Self {
        self.setup = Setup(Arc::new(setup));
        self.built = Arc::default();
        self
    }

    /// Every channel whose connector could be built. A channel whose kind has
    /// no connector yet, or with a setting the connector refuses, is logged
    /// once per change and skipped: it must not stop the others.
    pub async fn load(&self) -> anyhow::Result<Vec<Live>> {
        let configs = self.store.channel_configs().await?;
        let mut built = self.built.lock().unwrap_or_else(PoisonError::into_inner);
        let mut live = Vec::with_capacity(configs.len());
        for (view, credentials) in configs {
            let fingerprint =
                format!("{}|{}|{}", view.kind.as_str(), view.base_url.as_deref().unwrap_or(""), credentials);
            if let Some((f, c)) = built.connectors.get(&view.id)
                && *f == fingerprint
            {
                live.push(Live { view, connector: c.clone() });
                continue;
            }
            let cfg = ChannelConfig {
                id: view.id,
                name: view.name.clone(),
                kind: view.kind,
                base_url: view.base_url.clone().unwrap_or_default(),
                credentials: serde_json::from_str(&credentials).unwrap_or_default(),
            };
            match Connector::with_policy(cfg, self.policy).map(|c| (self.setup.0)(c)) {
                Ok(c) => {
                    built.skipped.remove(&view.id);
                    built.connectors.insert(view.id, (fingerprint, c.clone()));
                    live.push(Live { view, connector: c });
                }
                Err(e) => {
                    built.connectors.remove(&view.id);
                    if built.skipped.get(&view.id) != Some(&fingerprint) {
                        tracing::warn!(channel.id = view.id, channel.kind = view.kind.as_str(), error = %e, "channel skipped");
                        built.skipped.insert(view.id, fingerprint);
                    }
                }
            }
        }
        Ok(live)
    }
}
