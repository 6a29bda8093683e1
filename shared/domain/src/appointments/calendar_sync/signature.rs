//! `X-Cal-Signature-256`: the lower-case hex HMAC-SHA256 of the exact raw body, keyed with the
//! webhook's secret (Cal.com `sendPayload.ts`). Without a secret Cal.com sends the literal
//! `no-secret-provided`, which is refused like any wrong signature. Unlike the original, no
//! `sha256=` prefix, no trimmed body and no other header spellings are tried: one exact form.
//!
//! Cal.com signs no timestamp, so a captured delivery verifies forever and nothing here can tell
//! a replay from the original. Replay protection is therefore the dedupe record alone (see
//! [`super::service`]): the same delivery is answered `duplicate` and changes nothing again.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header, as the HTTP edge sees it (header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-cal-signature-256";
/// What Cal.com sends in place of a signature when the webhook has no secret.
pub const NO_SECRET: &str = "no-secret-provided";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Cal-Signature-256 header")]
    Missing,
    #[error("the webhook was sent without a secret (no-secret-provided); set the secret in Cal.com")]
    NoSecretProvided,
    #[error("malformed X-Cal-Signature-256 header (64 hex digits expected)")]
    Malformed,
    #[error("X-Cal-Signature-256 does not match the body")]
    Mismatch,
}

fn mac(secret: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac
}

/// Verifies the header over the exact raw body, in constant time.
pub fn verify(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.map(str::trim).ok_or(SignatureError::Missing)?;
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    if header == NO_SECRET {
        return Err(SignatureError::NoSecretProvided);
    }
    let mut digest = [0u8; 32];
    if header.len() != 64 || hex::decode_to_slice(header, &mut digest).is_err() {
        return Err(SignatureError::Malformed);
    }
    mac(secret, body)
        .verify_slice(&digest)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value Cal.com sends for `body` (tests and local tools).
pub fn sign(secret: &str, body: &[u8]) -> String {
    hex::encode(mac(secret, body).finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] =
        br#"{"triggerEvent":"BOOKING_CANCELLED","createdAt":"2026-12-02T08:15:03.120Z","payload":{"uid":"u1"}}"#;

    #[test]
    fn a_good_signature_verifies() {
        let header = sign("whsec_praxis", BODY);
        assert_eq!(header.len(), 64);
        assert!(header.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()));
        assert_eq!(verify("whsec_praxis", BODY, Some(&header)), Ok(()));
    }

    /// The stand-in's golden fixture: Cal.com's signature of its exact body.
    #[test]
    fn the_stand_ins_fixture_signature_verifies() {
        let fixture: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../../infra/calcom-standin/fixtures/webhook_booking_rescheduled.json"
        ))
        .expect("fixture");
        let hook = &fixture["webhook"];
        let body = hook["rawBody"].as_str().expect("body");
        let secret = hook["secret"].as_str().expect("secret");
        let header = hook["headers"]["x-cal-signature-256"].as_str().expect("header");
        assert_eq!(verify(secret, body.as_bytes(), Some(header)), Ok(()));
    }

    #[test]
    fn everything_else_is_refused() {
        let good = sign("whsec_praxis", BODY);
        let mut tampered = BODY.to_vec();
        tampered[30] ^= 1;
        assert_eq!(
            verify("whsec_praxis", &tampered, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify("whsec_other", BODY, Some(&good)), Err(SignatureError::Mismatch));
        assert_eq!(
            verify("whsec_praxis", BODY, Some(NO_SECRET)),
            Err(SignatureError::NoSecretProvided)
        );
        assert_eq!(verify("whsec_praxis", BODY, None), Err(SignatureError::Missing));
        assert_eq!(verify("whsec_praxis", BODY, Some(" ")), Err(SignatureError::Missing));
        assert_eq!(
            verify("whsec_praxis", BODY, Some(&format!("sha256={good}"))),
            Err(SignatureError::Malformed),
            "no prefixes"
        );
        assert_eq!(
            verify("whsec_praxis", BODY, Some(&good[..63])),
            Err(SignatureError::Malformed)
        );
        // A trimmed or re-serialised body is another body.
        let spaced = [BODY, b" "].concat();
        assert_eq!(
            verify("whsec_praxis", &spaced, Some(&good)),
            Err(SignatureError::Mismatch)
        );
    }
}
