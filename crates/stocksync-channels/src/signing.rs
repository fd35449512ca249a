//! HMAC-SHA256 signatures: of quantity pushes to `api` channels
//! (`X-Stocksync-Signature: sha256=<hex>`) and of inbound webhooks
//! (Shopify, WooCommerce: base64). Comparisons are constant-time.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(body);
    m
}

/// `sha256=<lowercase hex>` of the body.
pub fn stocksync_signature(secret: &str, body: &[u8]) -> String {
    let bytes = mac(secret, body).finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Checks a `sha256=<hex>` header.
pub fn verify_stocksync_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let Some(hex) = header.strip_prefix("sha256=") else { return false };
    let Some(bytes) = decode_hex(hex) else { return false };
    mac(secret, body).verify_slice(&bytes).is_ok()
}

/// Base64 HMAC-SHA256 of the body (Shopify's and WooCommerce's webhook signature).
pub fn base64_signature(secret: &str, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(secret, body).finalize().into_bytes())
}

pub fn verify_base64_signature(secret: &str, body: &[u8], header: &str) -> bool {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else { return false };
    mac(secret, body).verify_slice(&bytes).is_ok()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_round_trip_and_reject_tampering() {
        let sig = stocksync_signature("k", b"{}");
        assert!(verify_stocksync_signature("k", b"{}", &sig));
        assert!(!verify_stocksync_signature("k", b"{ }", &sig));
        assert!(!verify_stocksync_signature("other", b"{}", &sig));
        assert!(!verify_stocksync_signature("k", b"{}", "sha256=zz"));
        let b64 = base64_signature("k", b"x");
        assert!(verify_base64_signature("k", b"x", &b64) && !verify_base64_signature("k", b"y", &b64));
    }

    #[test]
    fn known_vector() {
        // RFC 4231 test case 2.
        let sig = stocksync_signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
