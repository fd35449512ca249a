//! Login with Amazon (LWA): access tokens from the seller's refresh token,
//! `POST {auth_url}/auth/o2/token` with `grant_type=refresh_token`,
//! `refresh_token`, `client_id`, `client_secret` (form-encoded). They last
//! an hour [doc]; the cache replaces them a minute before they expire.
//! `credentials.auth_url` defaults to the channel's `base_url`, so one
//! simulator serves both; in production it is `https://api.amazon.com`.

use serde::Deserialize;

use super::AmazonConnector;
use crate::http::json;
use crate::model::ChannelError;
use crate::oauth::Granted;

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Debug, Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

impl AmazonConnector {
    pub(super) async fn access_token(&self) -> Result<String, ChannelError> {
        self.tokens.get(self.clock.now(), || self.refresh()).await
    }

    async fn refresh(&self) -> Result<Granted, ChannelError> {
        let form = serde_urlencoded::to_string([
            ("grant_type", "refresh_token"),
            ("refresh_token", self.cfg.require("refresh_token")?),
            ("client_id", self.cfg.require("client_id")?),
            ("client_secret", self.cfg.require("client_secret")?),
        ])
        .map_err(|e| ChannelError::permanent(format!("encoding the token request: {e}")))?;
        let base = self.cfg.credential("auth_url").unwrap_or(&self.cfg.base_url);
        let url = format!("{}/auth/o2/token", base.trim_end_matches('/'));
        let res = self
            .http
            .send(|c| c.post(&url).header("content-type", "application/x-www-form-urlencoded").body(form.clone()))
            .await?;
        if !res.status().is_success() {
            let status = res.status();
            let e: TokenError = res.json().await.unwrap_or(TokenError { error: None, error_description: None });
            return Err(ChannelError::permanent(format!(
                "Amazon LWA token: {status}: {} {}",
                e.error.unwrap_or_default(),
                e.error_description.unwrap_or_default()
            )));
        }
        let answer: TokenAnswer = json(res).await?;
        Ok(Granted { access_token: answer.access_token, expires_in_s: answer.expires_in })
    }
}
