//! Request signatures (`X-Inngest-Signature: t=<secs>&s=<hex>`) and the hashed signing key
//! used as the API bearer token.
//!
//! The two use the key differently: the HMAC key is the key's hex text as ASCII bytes
//! (after the `signkey-<env>-` prefix), while the bearer hashes the hex-*decoded* bytes.

use crate::InngestError;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// How old a signature may be.
pub const SIGNATURE_WINDOW_SECS: u64 = 5 * 60;

/// Splits `signkey-<env>-<hex>` into (`signkey-<env>-`, `<hex>`); a bare key has no prefix.
fn split_key(key: &str) -> (&str, &str) {
    if let Some(rest) = key.strip_prefix("signkey-") {
        if let Some(dash) = rest.find('-') {
            let env = &rest[..dash];
            if !env.is_empty() && env.chars().all(|c| c.is_alphanumeric() || c == '_') {
                let cut = "signkey-".len() + dash + 1;
                return (&key[..cut], &key[cut..]);
            }
        }
    }
    ("", key)
}

/// `hex(hmac_sha256(key_hex_as_ascii, body || decimal(t)))`.
pub fn sign(body: &[u8], signing_key: &str, timestamp: u64) -> String {
    let (_, hex_key) = split_key(signing_key);
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(hex_key.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    mac.update(timestamp.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The full header value for `body` signed at `timestamp`.
pub fn signature_header(body: &[u8], signing_key: &str, timestamp: u64) -> String {
    format!("t={timestamp}&s={}", sign(body, signing_key, timestamp))
}

/// `signkey-<env>-<hex(sha256(hex_decode(key)))>`, the `Authorization: Bearer` value.
pub fn hash_signing_key(signing_key: &str) -> Result<String, InngestError> {
    let (prefix, hex_key) = split_key(signing_key);
    let bytes = hex::decode(hex_key)
        .map_err(|e| InngestError::Config(format!("the signing key is not hex: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(Sha256::digest(bytes))))
}

/// A parsed `t=..&s=..` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: u64,
    pub signature: String,
}

impl SignatureHeader {
    pub fn parse(header: &str) -> Result<Self, InngestError> {
        let (mut timestamp, mut signature) = (None, None);
        for pair in header.split('&') {
            match pair.split_once('=') {
                Some(("t", t)) => timestamp = t.trim().parse::<u64>().ok(),
                Some(("s", s)) => signature = Some(s.trim().to_owned()),
                _ => {}
            }
        }
        match (timestamp, signature) {
            (Some(timestamp), Some(signature)) => Ok(Self {
                timestamp,
                signature,
            }),
            _ => Err(InngestError::Signature(format!(
                "malformed X-Inngest-Signature {header:?}"
            ))),
        }
    }
}

/// Checks `header` against `body` with the signing key, then the fallback key. `now` is
/// unix seconds; signatures older than five minutes are rejected.
pub fn verify(
    header: &str,
    body: &[u8],
    signing_key: Option<&str>,
    fallback_key: Option<&str>,
    now: u64,
) -> Result<(), InngestError> {
    let parsed = SignatureHeader::parse(header)?;
    if now.saturating_sub(parsed.timestamp) > SIGNATURE_WINDOW_SECS {
        return Err(InngestError::Signature("the signature has expired".into()));
    }
    let keys: Vec<&str> = [signing_key, fallback_key].into_iter().flatten().collect();
    if keys.is_empty() {
        return Err(InngestError::Signature(
            "no signing key is configured".into(),
        ));
    }
    let wanted = parsed.signature.to_ascii_lowercase();
    let matches = keys.iter().any(|key| {
        constant_time_eq(
            sign(body, key, parsed.timestamp).as_bytes(),
            wanted.as_bytes(),
        )
    });
    if matches {
        Ok(())
    } else {
        Err(InngestError::Signature(
            "the signature does not match".into(),
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // inngest-protocol.md §1.3.
    const KEY: &str = "signkey-test-7468697320697320612074657374206b6579";
    const T: u64 = 1_705_586_504;
    const S: &str = "7b5670d47c7b6557f138bdb25cd63a5f64d261ae49b5c9e7214541af71ba94e8";

    #[test]
    fn hmac_vector() {
        assert_eq!(sign(br#"{"a":1}"#, KEY, T), S);
        assert_eq!(
            signature_header(br#"{"a":1}"#, KEY, T),
            format!("t={T}&s={S}")
        );
    }

    #[test]
    fn bearer_vectors() {
        assert_eq!(
            hash_signing_key(KEY).unwrap(),
            "signkey-test-ed30c63423735b44011c49a38c01a8062833420cfb299072e0263c986242556a"
        );
        assert_eq!(
            hash_signing_key("signkey-prod-12345678").unwrap(),
            "signkey-prod-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"
        );
        assert!(hash_signing_key("signkey-prod-xyz").is_err());
    }

    #[test]
    fn verifies_within_the_window_with_either_key() {
        let header = format!("t={T}&s={S}");
        let body = br#"{"a":1}"#;
        assert!(verify(&header, body, Some(KEY), None, T + 299).is_ok());
        assert!(verify(&header, body, Some("signkey-test-00"), Some(KEY), T).is_ok());
        let upper = format!("t={T}&s={}", S.to_uppercase());
        assert!(verify(&upper, body, Some(KEY), None, T).is_ok());
    }

    #[test]
    fn rejects_stale_wrong_unkeyed_and_malformed() {
        let header = format!("t={T}&s={S}");
        let body = br#"{"a":1}"#;
        assert!(verify(&header, body, Some(KEY), None, T + 301).is_err());
        assert!(verify(&header, br#"{"a":2}"#, Some(KEY), None, T).is_err());
        assert!(verify(&header, body, Some("signkey-test-00"), None, T).is_err());
        assert!(verify(&header, body, None, None, T).is_err());
        assert!(verify("s=abc", body, Some(KEY), None, T).is_err());
    }
}
