//! Reading every order of a window from APIs paged by number or offset
//! (Etsy, WooCommerce). Such result sets can move while they are paged (an
//! order modified mid-poll changes place, a host serves a page twice), so
//! pages are merged by order id, keeping the newest version; a page whose
//! every order was already seen in this pass is asked again; and passes
//! repeat until as many distinct orders as the API's total have been seen.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use stocksync_core::Timestamp;

use crate::model::{ChannelError, RemoteOrder};

/// Times a page whose every order was already seen in this pass is asked
/// again (a served-twice page hides the page that should have come).
const PAGE_REFETCH_MAX: usize = 3;
/// Passes over the pages before giving up on reaching the total; the
/// window's watermark then stays put and the next poll tries again.
const PASSES_MAX: usize = 3;

/// One page as the API answered it.
#[derive(Debug, Clone)]
pub struct Page {
    pub orders: Vec<RemoteOrder>,
    /// Orders in the whole result set, as this answer counts them.
    pub total: u64,
    /// Whether another page follows (`X-WP-TotalPages`, or offset < count).
    pub more: bool,
}

/// Every order of `[since, until)` from pages `0, 1, …` that `fetch` reads,
/// at most `pages_max` per pass, oldest modification first.
pub async fn all_pages<F, Fut>(
    label: &str,
    pages_max: u64,
    since: Timestamp,
    until: Timestamp,
    fetch: F,
) -> Result<Vec<RemoteOrder>, ChannelError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<Page, ChannelError>>,
{
    let mut newest: HashMap<String, RemoteOrder> = HashMap::new();
    let mut total = 0;
    for _ in 0..PASSES_MAX {
        total = one_pass(label, pages_max, &fetch, &mut newest).await?;
        if newest.len() as u64 >= total {
            return Ok(in_window(newest.into_values(), since, until));
        }
    }
    Err(ChannelError::transient(format!(
        "{label}: {} distinct orders seen of total {total} after {PASSES_MAX} passes",
        newest.len()
    )))
}

async fn one_pass<F, Fut>(
    label: &str,
    pages_max: u64,
    fetch: &F,
    newest: &mut HashMap<String, RemoteOrder>,
) -> Result<u64, ChannelError>
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = Result<Page, ChannelError>>,
{
    let mut seen_this_pass: HashSet<String> = HashSet::new();
    for index in 0..pages_max {
        let mut page = fetch(index).await?;
        for _ in 0..PAGE_REFETCH_MAX {
            let repeated = page.orders.iter().all(|o| seen_this_pass.contains(&o.external_id));
            if index == 0 || page.orders.is_empty() || !repeated {
                break;
            }
            page = fetch(index).await?;
        }
        for order in page.orders {
            seen_this_pass.insert(order.external_id.clone());
            keep_newest(newest, order);
        }
        if !page.more {
            return Ok(page.total);
        }
    }
    Err(ChannelError::permanent(format!("{label}: more than {pages_max} pages in one window; poll a shorter window")))
}

/// Keeps the newer of two versions of an order.
pub fn keep_newest(newest: &mut HashMap<String, RemoteOrder>, order: RemoteOrder) {
    if newest.get(&order.external_id).is_none_or(|kept| kept.updated_at < order.updated_at) {
        newest.insert(order.external_id.clone(), order);
    }
}

/// The orders modified in `[since, until)`, oldest modification first:
/// the order the importer applies them in.
pub fn in_window(
    orders: impl IntoIterator<Item = RemoteOrder>,
    since: Timestamp,
    until: Timestamp,
) -> Vec<RemoteOrder> {
    let mut orders: Vec<RemoteOrder> =
        orders.into_iter().filter(|o| o.updated_at >= since && o.updated_at < until).collect();
    orders.sort_by(|a, b| (a.updated_at, &a.external_id).cmp(&(b.updated_at, &b.external_id)));
    orders
}
