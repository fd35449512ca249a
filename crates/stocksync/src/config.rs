//! Typed, layered configuration: defaults, then a TOML file, then
//! `STOCKSYNC__SECTION__KEY` environment variables, then command-line flags.

use std::path::Path;

use anyhow::{Context, bail};
use serde::Deserialize;

/// The commented example, printed by `stocksync config example`.
pub const EXAMPLE: &str = include_str!("../../../config/example.toml");

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub database: Database,
    pub server: Server,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Database {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    pub listen: String,
}

impl Default for Database {
    fn default() -> Self {
        Self { url: "sqlite://stocksync.db".into() }
    }
}

impl Default for Server {
    fn default() -> Self {
        Self { listen: "127.0.0.1:8080".into() }
    }
}

impl Config {
    pub fn load(file: Option<&Path>, database_url: Option<&str>) -> anyhow::Result<Self> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(std::env::vars())?;
        if let Some(url) = database_url {
            config.database.url = url.to_owned();
        }
        Ok(config)
    }

    /// Applies `STOCKSYNC__DATABASE__URL`-style variables.
    fn apply_env(&mut self, vars: impl Iterator<Item = (String, String)>) -> anyhow::Result<()> {
        for (key, value) in vars {
            let Some(path) = key.strip_prefix("STOCKSYNC__") else { continue };
            match path.to_ascii_lowercase().as_str() {
                "database__url" => self.database.url = value,
                "server__listen" => self.server.listen = value,
                other => bail!("unknown setting {key} (database__url and server__listen are known; {other:?} is not)"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(EXAMPLE).expect("example.toml parses");
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn env_overrides_and_unknown_keys_are_named() {
        let mut c = Config::default();
        c.apply_env([("STOCKSYNC__DATABASE__URL".to_owned(), "sqlite://x.db".to_owned())].into_iter()).unwrap();
        assert_eq!(c.database.url, "sqlite://x.db");
        let err = c.apply_env([("STOCKSYNC__NOPE".to_owned(), "1".to_owned())].into_iter()).unwrap_err();
        assert!(err.to_string().contains("STOCKSYNC__NOPE"));
    }

    #[test]
    fn unknown_toml_keys_are_rejected() {
        let err = toml::from_str::<Config>("[database]\nulr = \"x\"").unwrap_err();
        assert!(err.to_string().contains("ulr"), "{err}");
    }
}
