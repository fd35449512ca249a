//! Passwords: argon2id with the crate's defaults (OWASP's recommended
//! m=19 MiB, t=2, p=1), stored as PHC strings. Hashing and checking are
//! slow on purpose, so callers run them on the blocking pool.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Shortest password accepted, in characters (NIST SP 800-63B's minimum).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest, in characters: bounds the work one sign-in attempt can ask for.
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Checks a chosen password's length; the message names no field (callers do).
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&n) {
        return Err(format!("must be {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters"));
    }
    Ok(())
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let h = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?;
    Ok(h.to_string())
}

/// A hash of nothing anyone can type, checked when the user does not exist,
/// so that a wrong name takes as long as a wrong password.
static DUMMY: LazyLock<String> = LazyLock::new(|| hash("\u{0}no user\u{0}").unwrap_or_default());

/// Whether `password` matches `phc` (a malformed hash matches nothing).
pub fn verify(password: &str, phc: Option<&str>) -> bool {
    let phc = phc.unwrap_or(DUMMY.as_str());
    if password.chars().count() > PASSWORD_MAX_CHARS {
        return false;
    }
    let Ok(parsed) = argon2::password_hash::phc::PasswordHash::new(phc) else { return false };
    Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
}

/// A new random password for `user create` without `--password-stdin`:
/// 20 characters from an unambiguous alphabet (~115 bits).
pub fn generate() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Bytes at or above the largest multiple of the alphabet's size are
    // dropped, so every character is equally likely.
    let limit = 256 - 256 % ALPHABET.len();
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness available: {e}"))?;
        for b in bytes.iter().map(|b| usize::from(*b)).filter(|&b| b < limit).take(20 - out.len()) {
            out.push(ALPHABET[b % ALPHABET.len()] as char);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_differ() {
        let a = super::hash("correct horse").unwrap();
        let b = super::hash("correct horse").unwrap();
        assert_ne!(a, b, "salted");
        assert!(a.starts_with("$argon2id$"));
        assert!(super::verify("correct horse", Some(&a)));
        assert!(!super::verify("wrong horse", Some(&a)));
        assert!(!super::verify("correct horse", Some("not a hash")));
        assert!(!super::verify("correct horse", None));
        assert_eq!(super::generate().unwrap().len(), 20);
    }
}
