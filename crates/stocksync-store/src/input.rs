//! What callers submit to the store: new channels and listings, edits, and
//! the channels' answers to pushes. Plain values, shared by both backends.

use stocksync_core::channel::{ChannelKind, ChannelSettings};
use stocksync_core::push::PushOverrides;
use stocksync_core::{ChannelId, Timestamp};

/// A new channel, as submitted.
#[derive(Debug, Clone)]
pub struct NewChannel {
    pub name: String,
    pub kind: ChannelKind,
    pub base_url: Option<String>,
    /// Write-only secrets as a JSON object; never returned.
    pub credentials_json: String,
    pub settings: ChannelSettings,
}

/// A new listing, as submitted.
#[derive(Debug, Clone, Default)]
pub struct NewListing {
    pub channel_sku: String,
    pub sku: Option<String>,
    pub external_id: Option<String>,
    pub overrides: PushOverrides,
}

/// The changes of an item edit; `None` keeps the current value, a list
/// replaces the current list.
#[derive(Debug, Clone, Default)]
pub struct ItemPatch {
    pub title: Option<String>,
    pub kind: Option<String>,
    pub components: Option<Vec<(String, i64)>>,
    pub aliases: Option<Vec<String>>,
}

/// A channel's editable fields, handed to an edit function.
#[derive(Debug, Clone)]
pub struct ChannelEdit {
    pub name: String,
    pub base_url: Option<String>,
    /// `Some` replaces the stored credentials (a JSON object).
    pub credentials_json: Option<String>,
    pub settings: ChannelSettings,
}

/// A channel's answer for one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAnswer {
    pub listing_id: i64,
    pub version: i64,
    pub quantity: i64,
    /// `Err((message, retry_at))` when the channel refused or failed.
    pub outcome: std::result::Result<(), (String, Timestamp)>,
}

/// One row of an items upload. `None` means the column is absent from the
/// file: an existing item keeps that value (a new one gets the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemRow {
    pub sku: String,
    pub kind: String,
    pub title: Option<String>,
    pub components: Option<Vec<(String, i64)>>,
    pub aliases: Option<Vec<String>>,
}

/// One row of a listings upload; `None` keeps an existing listing's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingUpsert {
    pub channel: ChannelId,
    pub channel_sku: String,
    pub sku: Option<String>,
    pub external_id: Option<String>,
}
