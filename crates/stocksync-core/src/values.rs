//! Validated domain values. Each has a private field and a fallible constructor,
//! so a `Sku` or a `Quantity` that exists is known to be well-formed.

use std::fmt;

use crate::error::FieldError;

/// Longest SKU accepted, in characters. Marketplaces allow 40 (Amazon) to 255
/// (Shopify); 100 covers every real catalog we have seen while keeping keys small.
pub const SKU_MAX_CHARS: usize = 100;
/// Longest fulfillment-center code, in characters: codes are short labels like `EAST`.
pub const FC_CODE_MAX_CHARS: usize = 32;
/// Largest quantity of one order line, in units. Far above any real order; it
/// keeps `units × component quantity` sums far from integer overflow.
pub const LINE_QUANTITY_MAX: u32 = 1_000_000;
/// Largest stock count of one item in one FC, in units.
pub const STOCK_MAX: i64 = 1_000_000_000;
/// Largest quantity of one component in a bundle, in units.
pub const COMPONENT_QUANTITY_MAX: u32 = 10_000;

fn check_label(field: &str, raw: &str, max: usize) -> Result<(), FieldError> {
    if raw.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if raw.trim().is_empty() {
        return Err(FieldError::new(field, "must not be only whitespace"));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    if raw.starts_with(char::is_whitespace) || raw.ends_with(char::is_whitespace) {
        return Err(FieldError::new(field, "must not start or end with whitespace"));
    }
    let n = raw.chars().count();
    if n > max {
        return Err(FieldError::new(field, format!("is {n} characters long; the limit is {max}")));
    }
    Ok(())
}

/// A stock-keeping unit: 1–100 characters, no control characters, no
/// leading or trailing whitespace. Case-sensitive, as on every marketplace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    /// Parses `raw`, naming `field` in the error.
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, FieldError> {
        check_label(field, raw, SKU_MAX_CHARS)?;
        Ok(Self(raw.to_owned()))
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field("sku", raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fulfillment-center code: 1–32 characters of letters, digits, `-`, `_` or `.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FcCode(String);

impl FcCode {
    pub fn parse_field(field: &str, raw: &str) -> Result<Self, FieldError> {
        check_label(field, raw, FC_CODE_MAX_CHARS)?;
        if let Some(c) = raw.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(*c))) {
            return Err(FieldError::new(
                field,
                format!("may contain only letters, digits, '-', '_' and '.', not {c:?}"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::parse_field("code", raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FcCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A positive count of units in an order line: 1..=`LINE_QUANTITY_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(u32);

impl Quantity {
    /// Accepts any integer type so that negative and overflowing inputs get a
    /// clear message rather than a parse error.
    pub fn new_field(field: &str, raw: i64) -> Result<Self, FieldError> {
        if raw <= 0 {
            return Err(FieldError::new(field, format!("must be at least 1, got {raw}")));
        }
        if raw > i64::from(LINE_QUANTITY_MAX) {
            return Err(FieldError::new(field, format!("must be at most {LINE_QUANTITY_MAX}, got {raw}")));
        }
        Ok(Self(raw as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Validates a stock count (`on_hand` or `available` target): 0..=`STOCK_MAX`.
pub fn stock_count(field: &str, raw: i64) -> Result<i64, FieldError> {
    if raw < 0 {
        return Err(FieldError::new(field, format!("must not be negative, got {raw}")));
    }
    if raw > STOCK_MAX {
        return Err(FieldError::new(field, format!("must be at most {STOCK_MAX}, got {raw}")));
    }
    Ok(raw)
}

/// Validates a free-text identifier from a channel (order ids, line ids):
/// 1–200 characters without control characters.
pub fn external_id(field: &str, raw: &str) -> Result<String, FieldError> {
    check_label(field, raw, 200)?;
    Ok(raw.to_owned())
}

/// Database identity of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(pub i64);
/// Database identity of a fulfillment center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FcId(pub i64);
/// Database identity of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub i64);
/// Database identity of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderId(pub i64);
/// Database identity of one order line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LineKey(pub i64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_rules() {
        assert!(Sku::parse("A-1").is_ok());
        assert!(Sku::parse("red shirt XL").is_ok(), "inner spaces are allowed");
        let cases = [
            ("", "must not be empty"),
            ("   ", "only whitespace"),
            (" A", "start or end"),
            ("A\t", "control"),
            ("A\u{7}B", "control"),
        ];
        for (raw, msg) in cases {
            let e = Sku::parse(raw).unwrap_err();
            assert_eq!(e.field, "sku");
            assert!(e.message.contains(msg), "{raw:?}: {e}");
        }
        let long = "x".repeat(SKU_MAX_CHARS + 1);
        assert!(Sku::parse(&long).unwrap_err().message.contains("limit is 100"));
        assert!(Sku::parse(&"é".repeat(SKU_MAX_CHARS)).is_ok(), "the limit counts characters");
    }

    #[test]
    fn fc_code_rules() {
        assert!(FcCode::parse("EAST-1").is_ok());
        assert!(FcCode::parse("EA ST").unwrap_err().message.contains("only letters"));
        assert!(FcCode::parse(&"E".repeat(33)).is_err());
    }

    #[test]
    fn quantity_rules() {
        assert_eq!(Quantity::new_field("q", 3).unwrap().get(), 3);
        for raw in [0, -1, i64::from(LINE_QUANTITY_MAX) + 1, i64::MAX, i64::MIN] {
            assert_eq!(Quantity::new_field("lines[0].quantity", raw).unwrap_err().field, "lines[0].quantity");
        }
        assert!(stock_count("on_hand", -1).is_err());
        assert!(stock_count("on_hand", STOCK_MAX + 1).is_err());
        assert_eq!(stock_count("on_hand", 0), Ok(0));
    }
}
