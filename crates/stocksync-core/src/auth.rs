//! Roles and token names: who may do what through the API (API.md).

use crate::error::FieldError;

/// What a token may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Read anything.
    Viewer,
    /// Also change inventory, orders and uploads.
    Operator,
    /// Also change channels, fulfillment centers, items and tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "viewer" => Ok(Self::Viewer),
            "operator" => Ok(Self::Operator),
            "admin" => Ok(Self::Admin),
            other => {
                Err(FieldError::new(field, format!("must be \"viewer\", \"operator\" or \"admin\", got {other:?}")))
            }
        }
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

/// Longest token name, in characters.
pub const TOKEN_NAME_MAX_CHARS: usize = 100;

/// Validates a token's name: 1–100 characters, no control characters, no
/// leading or trailing spaces (a name is typed again to delete the token).
pub fn token_name(raw: &str) -> Result<String, FieldError> {
    if raw.is_empty() || raw.chars().count() > TOKEN_NAME_MAX_CHARS {
        return Err(FieldError::new("name", format!("must be 1 to {TOKEN_NAME_MAX_CHARS} characters")));
    }
    if raw.chars().any(char::is_control) {
        return Err(FieldError::new("name", "must not contain control characters"));
    }
    if raw.trim() != raw {
        return Err(FieldError::new("name", "must not start or end with a space"));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest() {
        assert!(Role::Admin.allows(Role::Operator) && Role::Operator.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Operator) && !Role::Operator.allows(Role::Admin));
        assert_eq!(Role::parse("role", "operator"), Ok(Role::Operator));
        assert_eq!(Role::parse("role", "root").unwrap_err().field, "role");
    }

    #[test]
    fn token_names() {
        assert!(token_name("ci-bot.1").is_ok() && token_name("ci bot").is_ok());
        for bad in ["", "a\nb", " x", &"n".repeat(101)] {
            assert_eq!(token_name(bad).unwrap_err().field, "name", "{bad:?}");
        }
    }
}
