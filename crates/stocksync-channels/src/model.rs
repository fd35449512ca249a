//! The values connectors exchange with the rest of stocksync.

use std::time::Duration;

use stocksync_core::Timestamp;
use stocksync_core::channel::ChannelKind;
use stocksync_core::order::SourceStatus;

/// What a connector needs to talk to one channel.
#[derive(Clone)]
pub struct ChannelConfig {
    pub id: i64,
    pub name: String,
    pub kind: ChannelKind,
    /// Where the channel's API is (a simulator's address in tests and the demo).
    pub base_url: String,
    /// The write-only credentials, as stored (a JSON object).
    pub credentials: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for ChannelConfig {
    // Credentials are secrets: never printed, never logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("base_url", &self.base_url)
            .field("credentials", &"<redacted>")
            .finish()
    }
}

impl ChannelConfig {
    /// A credential by key, as a string.
    pub fn credential(&self, key: &str) -> Option<&str> {
        self.credentials.get(key).and_then(|v| v.as_str())
    }

    /// A credential that must be present.
    pub fn require(&self, key: &str) -> Result<&str, ChannelError> {
        self.credential(key)
            .ok_or_else(|| ChannelError::permanent(format!("channel {} has no credentials.{key}", self.name)))
    }
}

/// One line of an order as the channel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteLine {
    pub line_id: String,
    pub channel_sku: String,
    /// Units still ordered (cancelled or removed units excluded).
    pub quantity: u32,
}

/// An order as the channel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOrder {
    pub external_id: String,
    pub status: SourceStatus,
    pub placed_at: Timestamp,
    /// The channel's last-modified time: orders apply in this order, and an
    /// older version than one already imported is ignored.
    pub updated_at: Timestamp,
    pub lines: Vec<RemoteLine>,
}

/// A listing as the channel has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteListing {
    pub channel_sku: String,
    /// The id(s) the channel needs to update it (offer id, inventory item id…).
    pub external_id: Option<String>,
    pub quantity: Option<i64>,
}

/// One quantity to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEntry {
    pub channel_sku: String,
    pub sku: String,
    pub external_id: Option<String>,
    pub quantity: i64,
    /// Increases per listing with every value computed; never goes back.
    pub version: i64,
}

/// What happened to one entry of a push.
pub type PushResult = Result<(), ChannelError>;

/// How a call to a channel failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ChannelError {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttled (429 or a cost budget): try again after the given time.
    Throttled(Option<Duration>),
    /// A timeout, a dropped connection or a 5xx: worth retrying.
    Transient,
    /// Refused for good (4xx, bad credentials, a listing that does not exist).
    Permanent,
    /// The channel answered something that is not its documented shape.
    BadResponse,
}

impl ChannelError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Transient, message: message.into() }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Permanent, message: message.into() }
    }

    pub fn bad_response(message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::BadResponse, message: message.into() }
    }

    pub fn throttled(after: Option<Duration>, message: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Throttled(after), message: message.into() }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ErrorKind::Throttled(_) | ErrorKind::Transient | ErrorKind::BadResponse)
    }
}
