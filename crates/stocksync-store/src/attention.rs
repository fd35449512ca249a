//! Store operations behind the web UI's dashboard and activity pages.

use stocksync_core::Timestamp;

use crate::Store;
use crate::error::Result;
use crate::views::{FailedPushView, PushedView};

impl Store {
    /// Orders per status, e.g. `("backordered", 3)`.
    pub async fn order_counts(&self) -> Result<Vec<(String, i64)>> {
        on_reader!(self, |c, db| db::attention::order_counts(c))
    }

    /// Listings whose push is failing, most attempts first.
    pub async fn failed_pushes(&self, limit: usize) -> Result<Vec<FailedPushView>> {
        on_reader!(self, |c, db| db::attention::failed_pushes(c, limit))
    }

    /// The newest accepted pushes (each listing's last one), newest first.
    pub async fn recent_pushed(&self, limit: usize) -> Result<Vec<PushedView>> {
        on_reader!(self, |c, db| db::attention::recent_pushed(c, limit))
    }

    /// When each channel last had a push accepted, by channel id.
    pub async fn last_pushes(&self) -> Result<Vec<(i64, Timestamp)>> {
        on_reader!(self, |c, db| db::attention::last_pushes(c))
    }

    /// When stock last changed other than through an order, if lately.
    pub async fn last_quantity_source(&self) -> Result<Option<Timestamp>> {
        on_reader!(self, |c, db| db::attention::last_quantity_source(c))
    }
}
