//! Store operations behind the web UI's dashboard and activity pages.

use stocksync_core::Timestamp;

use crate::Store;
use crate::error::Result;
use crate::sqlite::attention;
use crate::views::{FailedPushView, PushedView};

impl Store {
    /// Orders per status, e.g. `("backordered", 3)`.
    pub async fn order_counts(&self) -> Result<Vec<(String, i64)>> {
        self.read(attention::order_counts).await
    }

    /// Listings whose push is failing, most attempts first.
    pub async fn failed_pushes(&self, limit: usize) -> Result<Vec<FailedPushView>> {
        self.read(move |c| attention::failed_pushes(c, limit)).await
    }

    /// The newest accepted pushes (each listing's last one), newest first.
    pub async fn recent_pushed(&self, limit: usize) -> Result<Vec<PushedView>> {
        self.read(move |c| attention::recent_pushed(c, limit)).await
    }

    /// When each channel last had a push accepted, by channel id.
    pub async fn last_pushes(&self) -> Result<Vec<(i64, Timestamp)>> {
        self.read(attention::last_pushes).await
    }

    /// When stock last changed other than through an order, if lately.
    pub async fn last_quantity_source(&self) -> Result<Option<Timestamp>> {
        self.read(attention::last_quantity_source).await
    }
}
