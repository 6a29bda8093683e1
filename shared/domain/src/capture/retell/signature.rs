//! `X-Retell-Signature: v=<timestamp_ms>,d=<hex hmac>` where the HMAC-SHA256 key is the Retell
//! API key and the message is the raw body immediately followed by the decimal timestamp.
//! Parsing follows the official Python SDK: anchored, exactly 64 lower-case hex digits.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::keys::{KeyRing, KeyUsed};

/// Requests signed more than this far from now (either direction) are rejected.
pub const REPLAY_WINDOW_MS: u64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Malformed,
    Stale,
    Mismatch,
}

impl SignatureError {
    pub fn reason(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing X-Retell-Signature header",
            SignatureError::Malformed => "malformed X-Retell-Signature header",
            SignatureError::Stale => "signature timestamp outside the 5-minute window",
            SignatureError::Mismatch => "signature does not match the body",
        }
    }
}

struct Parsed {
    timestamp_ms: u64,
    digest: [u8; 32],
}

fn parse(header: &str) -> Result<Parsed, SignatureError> {
    let rest = header.strip_prefix("v=").ok_or(SignatureError::Malformed)?;
    let (ts, hex_digest) = rest.split_once(",d=").ok_or(SignatureError::Malformed)?;
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::Malformed);
    }
    if hex_digest.len() != 64 || !hex_digest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(SignatureError::Malformed);
    }
    let timestamp_ms = ts.parse::<u64>().map_err(|_| SignatureError::Malformed)?;
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| SignatureError::Malformed)?;
    Ok(Parsed { timestamp_ms, digest })
}

fn mac(api_key: &str, body: &[u8], timestamp_ms: u64) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(api_key.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    mac
}

/// Verifies a Retell signature over the exact raw body, in constant time.
pub fn verify(api_key: &str, body: &[u8], header: Option<&str>, now_ms: u64) -> Result<(), SignatureError> {
    verify_with(&KeyRing::new(api_key), body, header, now_ms).map(|_| ())
}

/// Verifies a Retell signature against the current key and, during a rotation, the previous one
/// (each comparison in constant time); says which key matched. A retired key (neither) fails
/// with `Mismatch`.
pub fn verify_with(keys: &KeyRing, body: &[u8], header: Option<&str>, now_ms: u64) -> Result<KeyUsed, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let parsed = parse(header.trim())?;
    if parsed.timestamp_ms.abs_diff(now_ms) > REPLAY_WINDOW_MS {
        return Err(SignatureError::Stale);
    }
    keys.keys()
        .find(|(_, key)| mac(key, body, parsed.timestamp_ms).verify_slice(&parsed.digest).is_ok())
        .map(|(used, _)| used)
        .ok_or(SignatureError::Mismatch)
}

/// Produces the header value Retell would send (for tests, the demo and local tooling).
pub fn sign(api_key: &str, body: &[u8], timestamp_ms: u64) -> String {
    let digest = mac(api_key, body, timestamp_ms).finalize().into_bytes();
    format!("v={timestamp_ms},d={}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "test-api-key";
    const BODY: &[u8] = br#"{"event":"call_ended"}"#;
    const TS: u64 = 1_700_000_000_000;
    const HEADER: &str = "v=1700000000000,d=07024cabe7dd8f6d1c6e4a8324ca92c812e6ad4a7ee506c04f7e462e3321823e";

    #[test]
    fn sdk_test_vector_signs_and_verifies() {
        assert_eq!(sign(KEY, BODY, TS), HEADER);
        assert_eq!(verify(KEY, BODY, Some(HEADER), TS), Ok(()));
    }

    #[test]
    fn replay_window_is_inclusive_at_five_minutes() {
        assert_eq!(verify(KEY, BODY, Some(HEADER), TS + 300_000), Ok(()));
        assert_eq!(verify(KEY, BODY, Some(HEADER), TS - 300_000), Ok(()));
        assert_eq!(
            verify(KEY, BODY, Some(HEADER), TS + 300_001),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(KEY, BODY, Some(HEADER), TS - 300_001),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn tampered_body_or_wrong_key_fails() {
        assert_eq!(
            verify(KEY, br#"{"event":"call_ended"} "#, Some(HEADER), TS),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("wrong-api-key", BODY, Some(HEADER), TS),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_rejected() {
        let digest = &HEADER[16..];
        for bad in [
            String::new(),
            format!("prefix-{HEADER}"),
            format!("{HEADER}-suffix"),
            format!("{HEADER},extra=1"),
            format!("d={digest},v={TS}"),
            format!("v=-1,d={digest}"),
            format!("v=,d={digest}"),
            format!("v={TS},d={}", digest.to_uppercase()),
            format!("v={TS},d={}", &digest[..63]),
            "t=1700000000000,v1=abc".to_string(),
        ] {
            assert_eq!(
                verify(KEY, BODY, Some(&bad), TS),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(verify(KEY, BODY, None, TS), Err(SignatureError::Missing));
    }

    #[test]
    fn during_a_rotation_the_previous_key_verifies_and_a_retired_key_does_not() {
        let rotating = KeyRing::new("key-new").with_previous(Some(KEY));
        assert_eq!(verify_with(&rotating, BODY, Some(HEADER), TS), Ok(KeyUsed::Previous));
        let by_new = sign("key-new", BODY, TS);
        assert_eq!(verify_with(&rotating, BODY, Some(&by_new), TS), Ok(KeyUsed::Current));
        // After the rotation (previous cleared), and for a key older than the previous one.
        let done = KeyRing::new("key-new");
        assert_eq!(
            verify_with(&done, BODY, Some(HEADER), TS),
            Err(SignatureError::Mismatch)
        );
        let next = KeyRing::new("key-newer").with_previous(Some("key-new"));
        assert_eq!(
            verify_with(&next, BODY, Some(HEADER), TS),
            Err(SignatureError::Mismatch)
        );
        // The window and the header format hold for the previous key too.
        assert_eq!(
            verify_with(&rotating, BODY, Some(HEADER), TS + 300_001),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_with(&rotating, br#"{"event":"call_ended"} "#, Some(HEADER), TS),
            Err(SignatureError::Mismatch)
        );
    }
}
