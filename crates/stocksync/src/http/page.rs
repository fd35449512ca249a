//! List paging (API.md "Lists"): `?limit=` (default 100, at most 1000) and
//! an opaque `?cursor=` from the previous page's `next_cursor`.

use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;

/// Rows per page unless `limit` says otherwise.
pub const LIMIT_DEFAULT: usize = 100;
/// Most rows one page may hold: bounds the work and memory of one request.
pub const LIMIT_MAX: usize = 1000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page, 1–1000 (default 100).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(LIMIT_DEFAULT),
            Some(n) if (1..=LIMIT_MAX as i64).contains(&n) => Ok(n as usize),
            Some(n) => Err(ApiError::invalid_field("limit", format!("must be between 1 and {LIMIT_MAX}, got {n}"))),
        }
    }

    /// The cursor's parts, as encoded by `cursor`.
    pub fn cursor_parts(&self, count: usize) -> Result<Option<Vec<String>>, ApiError> {
        let Some(raw) = &self.cursor else { return Ok(None) };
        let bad = || ApiError::invalid_field("cursor", "is not a cursor this API gave out");
        let bytes = (0..raw.len())
            .step_by(2)
            .map(|i| raw.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(bad)?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let parts: Vec<String> = text.split('\u{1f}').map(str::to_owned).collect();
        if parts.len() == count { Ok(Some(parts)) } else { Err(bad()) }
    }
}

/// An opaque cursor from its parts (hex, so it needs no URL escaping).
pub fn cursor(parts: &[&str]) -> String {
    parts.join("\u{1f}").bytes().map(|b| format!("{b:02x}")).collect()
}

/// `next_cursor` for a page: present only when the page is full.
pub fn next<T>(rows: &[T], limit: usize, key: impl Fn(&T) -> String) -> Option<String> {
    if rows.len() == limit { rows.last().map(key) } else { None }
}
