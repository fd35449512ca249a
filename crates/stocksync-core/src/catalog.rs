//! Items, bundles and aliases: what a valid catalog entry is.
//!
//! Validation runs in two stages. `ItemDraft::validate` checks the entry on
//! its own (field formats, duplicates within it); `ItemSpec::check_against`
//! checks it against the rest of the catalog through `CatalogView`, so the
//! same rules hold on every backend.

use std::collections::HashSet;

use crate::error::{FieldError, Rejection};
use crate::values::{COMPONENT_QUANTITY_MAX, ItemId, Sku};

/// Longest item title, in characters.
pub const TITLE_MAX_CHARS: usize = 500;
/// Most components one bundle may have: a kit, not a warehouse.
pub const COMPONENTS_MAX: usize = 50;
/// Most aliases one item may have.
pub const ALIASES_MAX: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Stock,
    Bundle,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stock => "stock",
            Self::Bundle => "bundle",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "stock" => Ok(Self::Stock),
            "bundle" => Ok(Self::Bundle),
            other => Err(FieldError::new(field, format!("must be \"stock\" or \"bundle\", got {other:?}"))),
        }
    }
}

/// A component of a bundle: `quantity` units of stock item `sku` per bundle unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub sku: Sku,
    pub quantity: u32,
}

/// An item as submitted, before validation.
#[derive(Debug, Clone, Default)]
pub struct ItemDraft {
    pub sku: String,
    pub title: Option<String>,
    pub kind: String,
    pub components: Vec<(String, i64)>,
    pub aliases: Vec<String>,
}

/// A validated item definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSpec {
    pub sku: Sku,
    pub title: String,
    pub kind: ItemKind,
    pub components: Vec<Component>,
    pub aliases: Vec<Sku>,
}

/// What a string already names in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkuOwner {
    /// An item with this SKU.
    Item { id: ItemId, kind: ItemKind, components: Vec<Sku> },
    /// An alias of the item with SKU `of`.
    Alias { of: Sku },
}

/// Read access to the catalog for validation.
pub trait CatalogView {
    fn owner(&self, sku: &str) -> Option<SkuOwner>;
}

impl ItemDraft {
    /// Checks the draft on its own, collecting every problem.
    pub fn validate(&self) -> Result<ItemSpec, Rejection> {
        let mut errors = Vec::new();
        let sku = Sku::parse(&self.sku).map_err(|e| errors.push(e)).ok();
        let title = self.title.clone().unwrap_or_default();
        if title.chars().any(char::is_control) {
            errors.push(FieldError::new("title", "must not contain control characters"));
        } else if title.chars().count() > TITLE_MAX_CHARS {
            errors.push(FieldError::new("title", format!("must be at most {TITLE_MAX_CHARS} characters")));
        }
        let kind = ItemKind::parse("kind", &self.kind).map_err(|e| errors.push(e)).ok();

        let mut components = Vec::new();
        let mut seen = HashSet::new();
        match kind {
            Some(ItemKind::Stock) if !self.components.is_empty() => {
                errors.push(FieldError::new("components", "a stock item has no components; use kind \"bundle\""));
            }
            Some(ItemKind::Bundle) if self.components.is_empty() => {
                errors.push(FieldError::new("components", "a bundle needs at least one component"));
            }
            _ => {}
        }
        if self.components.len() > COMPONENTS_MAX {
            errors.push(FieldError::new("components", format!("at most {COMPONENTS_MAX} components")));
        }
        for (i, (raw_sku, qty)) in self.components.iter().enumerate() {
            let field = format!("components[{i}]");
            let c_sku = Sku::parse(raw_sku).map_err(|e| errors.push(e.within(&field)));
            let quantity = if *qty < 1 || *qty > i64::from(COMPONENT_QUANTITY_MAX) {
                errors.push(FieldError::new(
                    format!("{field}.quantity"),
                    format!("must be between 1 and {COMPONENT_QUANTITY_MAX}, got {qty}"),
                ));
                None
            } else {
                Some(*qty as u32)
            };
            if let Ok(c_sku) = c_sku {
                if sku.as_ref() == Some(&c_sku) {
                    errors.push(FieldError::new(format!("{field}.sku"), format!("{c_sku} is the bundle itself")));
                } else if !seen.insert(c_sku.clone()) {
                    errors.push(FieldError::new(format!("{field}.sku"), format!("{c_sku} is listed twice")));
                } else if let Some(quantity) = quantity {
                    components.push(Component { sku: c_sku, quantity });
                }
            }
        }

        let mut aliases = Vec::new();
        let mut seen_alias = HashSet::new();
        if self.aliases.len() > ALIASES_MAX {
            errors.push(FieldError::new("aliases", format!("at most {ALIASES_MAX} aliases")));
        }
        for (i, raw) in self.aliases.iter().enumerate() {
            let field = format!("aliases[{i}]");
            match Sku::parse_field(&field, raw) {
                Err(e) => errors.push(e),
                Ok(a) if sku.as_ref() == Some(&a) => {
                    errors.push(FieldError::new(field, format!("{a} is the item's own SKU")));
                }
                Ok(a) if !seen_alias.insert(a.clone()) => {
                    errors.push(FieldError::new(field, format!("{a} is listed twice")));
                }
                Ok(a) => aliases.push(a),
            }
        }
        match (sku, kind, errors.is_empty()) {
            (Some(sku), Some(kind), true) => Ok(ItemSpec { sku, title, kind, components, aliases }),
            _ => Err(Rejection::Invalid(errors)),
        }
    }
}

impl ItemSpec {
    /// Checks the spec against the catalog. `existing` is the item's own id
    /// when this replaces an item (a PATCH), so its own SKU and aliases are
    /// not reported as taken.
    pub fn check_against(&self, catalog: &impl CatalogView, existing: Option<ItemId>) -> Result<(), Rejection> {
        let mut errors = Vec::new();
        let own_sku = |owner: &SkuOwner| match owner {
            SkuOwner::Item { id, .. } => Some(*id) == existing,
            SkuOwner::Alias { of } => of == &self.sku && existing.is_some(),
        };
        match catalog.owner(self.sku.as_str()) {
            Some(o) if own_sku(&o) => {}
            Some(SkuOwner::Item { .. }) => errors.push(FieldError::new("sku", format!("{} already exists", self.sku))),
            Some(SkuOwner::Alias { of }) => {
                errors.push(FieldError::new("sku", format!("{} is already an alias of {of}", self.sku)));
            }
            None => {}
        }
        for (i, c) in self.components.iter().enumerate() {
            let field = format!("components[{i}].sku");
            match catalog.owner(c.sku.as_str()) {
                None => errors.push(FieldError::new(field, format!("unknown item {}", c.sku))),
                Some(SkuOwner::Alias { of }) => errors
                    .push(FieldError::new(field, format!("{} is an alias of {of}; name the item by its SKU", c.sku))),
                Some(SkuOwner::Item { kind: ItemKind::Bundle, components, .. }) => {
                    let message = if components.contains(&self.sku) {
                        format!("{} contains {}: that would be a cycle", c.sku, self.sku)
                    } else {
                        format!(
                            "{} is a bundle; bundles of bundles are not allowed, list its components instead",
                            c.sku
                        )
                    };
                    errors.push(FieldError::new(field, message));
                }
                Some(SkuOwner::Item { .. }) => {}
            }
        }
        for (i, a) in self.aliases.iter().enumerate() {
            let field = format!("aliases[{i}]");
            match catalog.owner(a.as_str()) {
                None => {}
                Some(SkuOwner::Item { .. }) => {
                    errors.push(FieldError::new(field, format!("{a} is the SKU of another item")));
                }
                Some(SkuOwner::Alias { of }) if of == self.sku && existing.is_some() => {}
                Some(SkuOwner::Alias { of }) => {
                    errors.push(FieldError::new(field, format!("{a} is already an alias of {of}")));
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Rejection::Invalid(errors)) }
    }
}

/// Lowest (numerically largest) FC priority accepted; 1 is the highest priority.
pub const FC_PRIORITY_MAX: i64 = 1_000_000;

/// A fulfillment center as submitted, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcSpec {
    pub code: crate::values::FcCode,
    pub name: String,
    pub priority: i64,
    pub active: bool,
}

impl FcSpec {
    pub fn new(code: &str, name: &str, priority: i64, active: bool) -> Result<Self, Rejection> {
        let mut errors = Vec::new();
        let code = crate::values::FcCode::parse(code).map_err(|e| errors.push(e)).ok();
        if let Err(e) = fc_name(name) {
            errors.push(e);
        }
        if let Err(e) = fc_priority(priority) {
            errors.push(e);
        }
        match code {
            Some(code) if errors.is_empty() => Ok(Self { code, name: name.to_owned(), priority, active }),
            _ => Err(Rejection::Invalid(errors)),
        }
    }
}

/// Checks an FC edit's new name and priority, if given, naming each bad one.
pub fn fc_changes(name: Option<&str>, priority: Option<i64>) -> Result<(), Rejection> {
    let errors: Vec<FieldError> =
        [name.map(fc_name), priority.map(fc_priority)].into_iter().flatten().filter_map(Result::err).collect();
    if errors.is_empty() { Ok(()) } else { Err(Rejection::Invalid(errors)) }
}

pub fn fc_name(name: &str) -> Result<(), FieldError> {
    if name.trim().is_empty() {
        Err(FieldError::new("name", "must not be empty"))
    } else if name.chars().any(char::is_control) {
        Err(FieldError::new("name", "must not contain control characters"))
    } else if name.chars().count() > 200 {
        Err(FieldError::new("name", "must be at most 200 characters"))
    } else {
        Ok(())
    }
}

pub fn fc_priority(priority: i64) -> Result<(), FieldError> {
    if (1..=FC_PRIORITY_MAX).contains(&priority) {
        Ok(())
    } else {
        Err(FieldError::new("priority", format!("must be between 1 (highest) and {FC_PRIORITY_MAX}, got {priority}")))
    }
}
