//! The session cookie: the verified ID token and, for platform admins, the company they chose,
//! signed with the console's key (HMAC-SHA256) so nobody can change the company in it. The
//! CSRF token is an HMAC of the session's signature: one per session, checked on every form
//! that changes something.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gateway_domain::keys::KeyRing;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const COOKIE: &str = "gw_console";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    /// The Cognito ID token (verified again on every request).
    #[serde(rename = "t")]
    pub token: String,
    /// The company a platform admin is looking at; ignored for everybody else.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
}

/// The console's key ring: the current key signs, and during a rotation sessions and CSRF tokens
/// made with the previous key still pass, so a rotation signs nobody out.
pub struct SessionKey {
    keys: KeyRing,
}

impl SessionKey {
    /// A ring with one key.
    pub fn new(key: &str) -> Self {
        Self::from_ring(KeyRing::new(key))
    }

    pub fn from_ring(keys: KeyRing) -> Self {
        Self { keys }
    }

    fn mac(key: &str, label: &[u8], data: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
        mac.update(label);
        mac.update(data);
        mac
    }

    /// Whether `tag` is the MAC of `data` under any key of the ring (constant-time per key).
    fn verifies(&self, label: &[u8], data: &[u8], tag: &[u8]) -> bool {
        self.keys
            .keys()
            .any(|(_, key)| Self::mac(key, label, data).verify_slice(tag).is_ok())
    }

    /// `<payload>.<signature>`, both base64url, signed with the current key.
    pub fn seal(&self, session: &SessionData) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(session).unwrap_or_default());
        let mac = Self::mac(self.keys.current(), b"session\n", payload.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{sig}")
    }

    /// The session if the cookie is one a key of the ring signed.
    pub fn open(&self, cookie: &str) -> Option<SessionData> {
        let (payload, sig) = cookie.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        if !self.verifies(b"session\n", payload.as_bytes(), &sig) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    /// The CSRF token of the session in `cookie` (current key).
    pub fn csrf(&self, cookie: &str) -> String {
        let sig = cookie.rsplit('.').next().unwrap_or_default();
        hex::encode(
            Self::mac(self.keys.current(), b"csrf\n", sig.as_bytes())
                .finalize()
                .into_bytes(),
        )
    }

    /// Check of a submitted CSRF token against every key of the ring (a form may come from a
    /// page another container rendered before or after a rotation).
    pub fn csrf_ok(&self, cookie: &str, submitted: &str) -> bool {
        let sig = cookie.rsplit('.').next().unwrap_or_default();
        match hex::decode(submitted) {
            Ok(bytes) => self.verifies(b"csrf\n", sig.as_bytes(), &bytes),
            Err(_) => false,
        }
    }
}

/// The `Set-Cookie` value for a session: HttpOnly, Secure, SameSite=Strict, the console's path.
pub fn set_cookie(value: &str, max_age_seconds: i64) -> String {
    format!("{COOKIE}={value}; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age={max_age_seconds}")
}

/// Removes the session cookie.
pub fn clear_cookie() -> String {
    set_cookie("", 0)
}

/// A cookie's value from a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .map(str::trim)
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "old-console-session-key-0123456789";
    const NEW: &str = "new-console-session-key-0123456789";

    #[test]
    fn during_a_rotation_sessions_and_csrf_tokens_of_the_previous_key_pass_and_retired_ones_do_not() {
        let session = SessionData {
            token: "id-token".into(),
            company: None,
        };
        let before = SessionKey::new(OLD);
        let cookie = before.seal(&session);
        let token = before.csrf(&cookie);
        let rotating = SessionKey::from_ring(KeyRing::new(NEW).with_previous(Some(OLD)));
        assert_eq!(
            rotating.open(&cookie),
            Some(session.clone()),
            "signed in before the rotation"
        );
        assert!(rotating.csrf_ok(&cookie, &token), "a form rendered before the rotation");
        let fresh = rotating.seal(&session);
        assert!(
            SessionKey::new(NEW).open(&fresh).is_some(),
            "new sessions are signed with the new key"
        );
        let finished = SessionKey::new(NEW);
        assert_eq!(finished.open(&cookie), None, "the old key is retired");
        assert!(!finished.csrf_ok(&cookie, &token));
    }

    #[test]
    fn a_session_opens_only_unchanged() {
        let key = SessionKey::new("0123456789abcdef0123456789abcdef");
        let session = SessionData {
            token: "a.b.c".into(),
            company: Some("acme".into()),
        };
        let sealed = key.seal(&session);
        assert_eq!(key.open(&sealed), Some(session.clone()));
        // Another company in the payload breaks the signature.
        let forged = SessionData {
            company: Some("other".into()),
            ..session
        };
        let forged_payload = key.seal(&forged);
        let spliced = format!(
            "{}.{}",
            forged_payload.split('.').next().unwrap(),
            sealed.split('.').nth(1).unwrap()
        );
        assert_eq!(key.open(&spliced), None);
        assert_eq!(SessionKey::new("another key of thirty-two chars!").open(&sealed), None);
    }

    #[test]
    fn the_csrf_token_belongs_to_its_session() {
        let key = SessionKey::new("0123456789abcdef0123456789abcdef");
        let a = key.seal(&SessionData {
            token: "a".into(),
            company: None,
        });
        let b = key.seal(&SessionData {
            token: "b".into(),
            company: None,
        });
        assert!(key.csrf_ok(&a, &key.csrf(&a)));
        assert!(!key.csrf_ok(&a, &key.csrf(&b)));
        assert!(!key.csrf_ok(&a, ""));
        assert!(!key.csrf_ok(&a, "zz"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        assert_eq!(cookie_value("a=1; gw_console=x.y; b=2", COOKIE), Some("x.y"));
        assert_eq!(cookie_value("gw_console_other=1", COOKIE), None);
    }
}
