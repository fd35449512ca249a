//! Domain rejections: bad input or an impossible request, always naming the field.

use std::fmt;

/// One problem with one field of an input. `field` is a path such as `lines[2].quantity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The same error under a parent path: `lines[0]` + `quantity` → `lines[0].quantity`.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Why the domain refused a request. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The input is malformed or breaks a rule; every problem is listed.
    #[error("validation failed: {}", join(.0))]
    Invalid(Vec<FieldError>),
    /// A named thing does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the current state (a duplicate, a terminal order).
    #[error("{0}")]
    Conflict(String),
}

impl Rejection {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<FieldError> for Rejection {
    fn from(e: FieldError) -> Self {
        Self::Invalid(vec![e])
    }
}

fn join(errors: &[FieldError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
