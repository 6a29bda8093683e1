//! The session cookie: the verified ID token and, for platform admins, the company they chose,
//! signed with the console's key (HMAC-SHA256) so nobody can change the company in it. The
//! CSRF token is an HMAC of the session's signature: one per session, checked on every form
//! that changes something.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

pub struct SessionKey {
    key: Vec<u8>,
}

impl SessionKey {
    pub fn new(key: &str) -> Self {
        Self {
            key: key.as_bytes().to_vec(),
        }
    }

    fn mac(&self, label: &[u8], data: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(label);
        mac.update(data);
        mac
    }

    /// `<payload>.<signature>`, both base64url.
    pub fn seal(&self, session: &SessionData) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(session).unwrap_or_default());
        let sig = URL_SAFE_NO_PAD.encode(self.mac(b"session\n", payload.as_bytes()).finalize().into_bytes());
        format!("{payload}.{sig}")
    }

    /// The session if the cookie is one this key signed.
    pub fn open(&self, cookie: &str) -> Option<SessionData> {
        let (payload, sig) = cookie.split_once('.')?;
        let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
        self.mac(b"session\n", payload.as_bytes()).verify_slice(&sig).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }

    /// The CSRF token of the session in `cookie`.
    pub fn csrf(&self, cookie: &str) -> String {
        let sig = cookie.rsplit('.').next().unwrap_or_default();
        hex::encode(self.mac(b"csrf\n", sig.as_bytes()).finalize().into_bytes())
    }

    /// Constant-time check of a submitted CSRF token.
    pub fn csrf_ok(&self, cookie: &str, submitted: &str) -> bool {
        let sig = cookie.rsplit('.').next().unwrap_or_default();
        match hex::decode(submitted) {
            Ok(bytes) => self.mac(b"csrf\n", sig.as_bytes()).verify_slice(&bytes).is_ok(),
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
