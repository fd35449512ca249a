//! The quantity a listing should show (PRODUCT.md §4).

/// Buffers applied to the summed quantity. Each is a channel default that a
/// listing may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushRules {
    /// Percentage of the stock to show, 0–100, rounded down.
    pub percent: u32,
    /// Below this many units, show 0.
    pub min_threshold: i64,
    /// Never show more than this many units.
    pub max_visible: Option<i64>,
}

impl Default for PushRules {
    fn default() -> Self {
        Self { percent: 100, min_threshold: 0, max_visible: None }
    }
}

/// Per-listing overrides of the channel's rules; `None` keeps the channel's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PushOverrides {
    pub percent: Option<u32>,
    pub min_threshold: Option<i64>,
    pub max_visible: Option<i64>,
}

impl PushOverrides {
    /// Every value outside its range, named by field (`percent`, …).
    pub fn problems(&self) -> Vec<crate::error::FieldError> {
        use crate::error::FieldError;
        let mut errors = Vec::new();
        if self.percent.is_some_and(|p| p > 100) {
            errors.push(FieldError::new("percent", "must be between 0 and 100"));
        }
        if self.min_threshold.is_some_and(|m| m < 0) {
            errors.push(FieldError::new("min_threshold", "must not be negative"));
        }
        if self.max_visible.is_some_and(|m| m < 0) {
            errors.push(FieldError::new("max_visible", "must not be negative"));
        }
        errors
    }
}

impl PushRules {
    /// Every value outside its range, named by field (`percent`, …).
    pub fn problems(&self) -> Vec<crate::error::FieldError> {
        PushOverrides {
            percent: Some(self.percent),
            min_threshold: Some(self.min_threshold),
            max_visible: self.max_visible,
        }
        .problems()
    }

    pub fn with(self, o: PushOverrides) -> Self {
        Self {
            percent: o.percent.unwrap_or(self.percent),
            min_threshold: o.min_threshold.unwrap_or(self.min_threshold),
            max_visible: o.max_visible.or(self.max_visible),
        }
    }
}

/// Units of a bundle that one FC can build: the minimum over components of
/// `⌊available / per_unit⌋`. `parts` yields `(available, per_unit)`.
pub fn buildable(parts: impl IntoIterator<Item = (i64, u32)>) -> i64 {
    parts.into_iter().map(|(available, per_unit)| available.max(0) / i64::from(per_unit.max(1))).min().unwrap_or(0)
}

/// The quantity to send: the sum over the channel's FCs of what each can
/// supply, then `percent`, then `min_threshold`, then `max_visible`; never negative.
pub fn pushed_quantity(per_fc: impl IntoIterator<Item = i64>, rules: PushRules) -> i64 {
    let total: i64 = per_fc.into_iter().map(|q| q.max(0)).sum();
    let shown = total * i64::from(rules.percent.min(100)) / 100;
    let shown = if shown < rules.min_threshold { 0 } else { shown };
    let shown = rules.max_visible.map_or(shown, |cap| shown.min(cap));
    shown.max(0)
}

/// Whether a newly computed `quantity` for a listing must be sent: not when
/// it equals the value already waiting to be sent, nor, with nothing
/// waiting, what the channel was last told (PRODUCT.md §4: coalescing, and
/// skipping values the channel already shows).
pub fn worth_sending(quantity: i64, waiting: Option<i64>, shown: Option<i64>) -> bool {
    match waiting {
        Some(q) => q != quantity,
        None => shown != Some(quantity),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_table() {
        let r = |percent, min_threshold, max_visible| PushRules { percent, min_threshold, max_visible };
        let cases: &[(&[i64], PushRules, i64)] = &[
            (&[3, 4], PushRules::default(), 7),
            (&[3, -2], PushRules::default(), 3),
            (&[10], r(50, 0, None), 5),
            (&[9], r(50, 0, None), 4),
            (&[4], r(100, 5, None), 0),
            (&[5], r(100, 5, None), 5),
            (&[100], r(100, 0, Some(10)), 10),
            (&[100], r(30, 40, Some(10)), 0),
            (&[], PushRules::default(), 0),
            (&[10], r(0, 0, None), 0),
        ];
        for (per_fc, rules, want) in cases {
            assert_eq!(pushed_quantity(per_fc.iter().copied(), *rules), *want, "{per_fc:?} {rules:?}");
        }
    }

    #[test]
    fn bundles_build_from_the_scarcest_component() {
        assert_eq!(buildable([(10, 2), (3, 1)]), 3);
        assert_eq!(buildable([(10, 3)]), 3);
        assert_eq!(buildable([(1, 2)]), 0);
        assert_eq!(buildable([(-4, 1)]), 0);
    }

    #[test]
    fn overrides_replace_channel_defaults() {
        let o = PushOverrides { percent: Some(50), min_threshold: None, max_visible: Some(3) };
        let r = PushRules { percent: 100, min_threshold: 2, max_visible: None }.with(o);
        assert_eq!(r, PushRules { percent: 50, min_threshold: 2, max_visible: Some(3) });
    }

    #[test]
    fn only_new_values_are_worth_sending() {
        assert!(worth_sending(5, None, None), "never told");
        assert!(!worth_sending(5, None, Some(5)), "the channel shows it");
        assert!(worth_sending(4, None, Some(5)));
        assert!(!worth_sending(4, Some(4), Some(5)), "already waiting");
        assert!(worth_sending(5, Some(4), Some(5)), "back to what it shows, but 4 is waiting to go");
    }
}
