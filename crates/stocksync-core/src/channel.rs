//! Channels: the kinds stocksync integrates with, and their settings (PRODUCT.md §5).

use crate::error::{FieldError, Rejection};
use crate::push::PushRules;
use crate::values::FcCode;

/// Shortest allowed order-polling interval, in seconds. Every marketplace's
/// order endpoints allow one call a second or better; faster is pointless.
pub const POLL_INTERVAL_MIN_S: u32 = 1;
/// Longest allowed order-polling interval, in seconds: a day.
pub const POLL_INTERVAL_MAX_S: u32 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChannelKind {
    Ebay,
    Amazon,
    Shopify,
    Etsy,
    Woocommerce,
    Walmart,
    Api,
}

impl ChannelKind {
    pub const ALL: [Self; 7] =
        [Self::Ebay, Self::Amazon, Self::Shopify, Self::Etsy, Self::Woocommerce, Self::Walmart, Self::Api];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ebay => "ebay",
            Self::Amazon => "amazon",
            Self::Shopify => "shopify",
            Self::Etsy => "etsy",
            Self::Woocommerce => "woocommerce",
            Self::Walmart => "walmart",
            Self::Api => "api",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|k| k.as_str()).collect();
            FieldError::new(field, format!("must be one of {}, got {raw:?}", names.join(", ")))
        })
    }

    /// The default polling interval, in seconds, within the channel's published rate limits.
    pub fn default_poll_interval_s(self) -> u32 {
        match self {
            // Amazon's getOrders allows a burst of 20, then one call per
            // minute (0.0167/s) [spec]. A poll is one getOrders call per 100
            // changed orders: polling every minute spends exactly the
            // sustained rate, and the burst absorbs the extra pages of a busy
            // window. Each changed order also costs a getOrderItems call,
            // whose own budget (0.5/s, burst 30) paces itself.
            Self::Amazon => 60,
            // Walmart counts calls per API in hourly and daily windows and
            // says what is left on every answer; its orders search reaches
            // back 180 days and pages 200 at a time, so a poll is one call
            // per 200 changed orders. A minute between polls spends little of
            // the orders allowance and leaves the rest for catching up after
            // downtime, when one poll pages through hours of changes.
            Self::Walmart => 60,
            // Etsy allows 10,000 requests a day per app. Polling every 15 s
            // would spend 5,760 of them on receipts alone; every 60 s spends
            // 1,440 and leaves the rest for pushes (two requests per listing).
            Self::Etsy => 60,
            Self::Api => 60,
            _ => 15,
        }
    }
}

/// A channel's settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSettings {
    pub import_orders: bool,
    pub push_quantities: bool,
    pub import_quantities: bool,
    /// Where imported quantities go; required when `import_quantities` is on.
    pub source_fc: Option<FcCode>,
    /// FCs that sell on this channel; `None` means all.
    pub fulfillment_centers: Option<Vec<FcCode>>,
    pub allow_split: bool,
    pub push: PushRules,
    pub poll_interval_s: u32,
}

impl ChannelSettings {
    pub fn defaults(kind: ChannelKind) -> Self {
        Self {
            import_orders: true,
            push_quantities: true,
            import_quantities: false,
            source_fc: None,
            fulfillment_centers: None,
            allow_split: true,
            push: PushRules::default(),
            poll_interval_s: kind.default_poll_interval_s(),
        }
    }

    /// Checks the combination of values; field names are under `settings.`.
    pub fn validate(&self) -> Result<(), Rejection> {
        let mut errors: Vec<FieldError> = self.push.problems().into_iter().map(|e| e.within("settings")).collect();
        if !(POLL_INTERVAL_MIN_S..=POLL_INTERVAL_MAX_S).contains(&self.poll_interval_s) {
            errors.push(FieldError::new(
                "settings.poll_interval_s",
                format!("must be between {POLL_INTERVAL_MIN_S} and {POLL_INTERVAL_MAX_S}"),
            ));
        }
        if self.import_quantities && self.source_fc.is_none() {
            errors.push(FieldError::new("settings.source_fc", "import_quantities needs a source_fc to import into"));
        }
        if errors.is_empty() { Ok(()) } else { Err(Rejection::Invalid(errors)) }
    }

    /// What the seller should know about these settings.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !self.import_orders {
            w.push(
                "import_orders is off: sales on this channel deduct nothing from stock. Keep quantities updated from \
                 another source (manual edits, bulk uploads, the API, or import_quantities), or you may oversell."
                    .to_owned(),
            );
        }
        if self.import_quantities && self.push_quantities {
            w.push(
                "import_quantities and push_quantities are both on: the quantities read back from this channel include \
                 what stocksync pushed there. For a marketplace-run warehouse, switch push_quantities off."
                    .to_owned(),
            );
        }
        if !self.push_quantities {
            w.push("push_quantities is off: this channel's listings are not updated when stock changes.".to_owned());
        }
        w
    }
}
