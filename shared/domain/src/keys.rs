//! Secrets that are rotated without a lost request: the current key, and during a rotation window
//! the previous one. Whatever is signed *by* the gateway uses the current key; whatever is
//! *checked* by it (Retell's `X-Retell-Signature`, the gateway's own signed links) passes with
//! either, so a key can change at the sender and at the gateway at different moments.

use std::fmt;

/// The current key and, while a rotation is under way, the previous one.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRing {
    current: String,
    previous: Option<String>,
}

/// Which key of a [`KeyRing`] verified something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsed {
    Current,
    /// The previous key: the rotation is not finished at the sender (or a link predates it).
    Previous,
}

impl KeyRing {
    /// A ring with no rotation under way.
    pub fn new(current: impl Into<String>) -> Self {
        Self {
            current: current.into(),
            previous: None,
        }
    }

    /// Adds the previous key; an empty one, or one equal to the current key, means none.
    pub fn with_previous(mut self, previous: Option<impl Into<String>>) -> Self {
        self.previous = previous
            .map(Into::into)
            .filter(|p: &String| !p.trim().is_empty() && *p != self.current);
        self
    }

    /// The key that signs.
    pub fn current(&self) -> &str {
        &self.current
    }

    pub fn previous(&self) -> Option<&str> {
        self.previous.as_deref()
    }

    /// Whether a previous key is still accepted.
    pub fn is_rotating(&self) -> bool {
        self.previous.is_some()
    }

    /// The keys a signature is checked against, the current one first.
    pub fn keys(&self) -> impl Iterator<Item = (KeyUsed, &str)> {
        std::iter::once((KeyUsed::Current, self.current.as_str()))
            .chain(self.previous.as_deref().map(|p| (KeyUsed::Previous, p)))
    }
}

impl From<&str> for KeyRing {
    fn from(current: &str) -> Self {
        Self::new(current)
    }
}

impl From<String> for KeyRing {
    fn from(current: String) -> Self {
        Self::new(current)
    }
}

impl From<&String> for KeyRing {
    fn from(current: &String) -> Self {
        Self::new(current.as_str())
    }
}

/// How a key ring is stored as a secret (AWS Secrets Manager): `{"current": "…", "previous": "…"}`,
/// `previous` empty or absent when no rotation is under way.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredRing {
    current: String,
    #[serde(default)]
    previous: Option<String>,
}

/// A secret's text that is not a key ring.
#[derive(Debug, thiserror::Error)]
#[error("the secret is not a key ring ({{\"current\": \"…\", \"previous\": \"…\"}}): {0}")]
pub struct StoredRingError(String);

impl KeyRing {
    /// Reads a ring stored as `{"current": "…", "previous": "…"}`.
    pub fn from_secret(text: &str) -> Result<Self, StoredRingError> {
        // serde's message may quote the secret's text: only the error's kind is kept.
        let stored: StoredRing = serde_json::from_str(text).map_err(|e| {
            StoredRingError(format!(
                "not a JSON object with a string \"current\" ({:?} error at line {})",
                e.classify(),
                e.line()
            ))
        })?;
        if stored.current.trim().is_empty() {
            return Err(StoredRingError("\"current\" is empty".into()));
        }
        Ok(KeyRing::new(stored.current).with_previous(stored.previous))
    }

    /// The ring as it is stored (the inverse of [`KeyRing::from_secret`]).
    pub fn to_secret(&self) -> String {
        serde_json::json!({"current": self.current, "previous": self.previous.clone().unwrap_or_default()}).to_string()
    }

    /// Starts a rotation: `new` signs from now on, the key it replaces is still accepted.
    pub fn rotated_to(&self, new: impl Into<String>) -> Self {
        KeyRing::new(new).with_previous(Some(self.current.clone()))
    }

    /// Prepares the rotation of a key the gateway signs with: `next` is accepted everywhere but
    /// does not sign yet, so no container signs with a key another does not accept. Then
    /// [`KeyRing::promoted`] once every container has this ring.
    pub fn prepared(&self, next: impl Into<String>) -> Self {
        KeyRing::new(self.current.clone()).with_previous(Some(next.into()))
    }

    /// The other key signs from now on; the one it replaces is still accepted.
    pub fn promoted(&self) -> Self {
        match &self.previous {
            Some(other) => KeyRing::new(other.clone()).with_previous(Some(self.current.clone())),
            None => self.clone(),
        }
    }

    /// Ends a rotation: only the current key is accepted.
    pub fn finished(&self) -> Self {
        KeyRing::new(self.current.clone())
    }

    /// A short, non-secret name of a key (the first 8 hex digits of its SHA-256) so an operator
    /// can tell keys apart without seeing them.
    pub fn fingerprint(key: &str) -> String {
        use sha2::{Digest, Sha256};
        Sha256::digest(key.as_bytes())[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Never prints a key (configuration is logged at cold start).
impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("current", &"<redacted>")
            .field("previous", &self.previous.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_key_comes_first_and_an_empty_or_repeated_previous_key_is_none() {
        let ring = KeyRing::new("new").with_previous(Some("old"));
        assert_eq!(
            ring.keys().collect::<Vec<_>>(),
            vec![(KeyUsed::Current, "new"), (KeyUsed::Previous, "old")]
        );
        assert!(ring.is_rotating());
        assert_eq!(ring.current(), "new");
        for none in [Some(""), Some("  "), Some("new"), None] {
            let ring = KeyRing::new("new").with_previous(none);
            assert_eq!(ring.previous(), None, "{none:?}");
            assert_eq!(ring.keys().count(), 1);
        }
    }

    #[test]
    fn a_rotation_keeps_the_replaced_key_until_it_is_finished_and_survives_storage() {
        let start = KeyRing::from_secret(r#"{"current":"k1"}"#).unwrap();
        assert!(!start.is_rotating());
        let rotating = start.rotated_to("k2");
        assert_eq!(
            rotating.keys().collect::<Vec<_>>(),
            vec![(KeyUsed::Current, "k2"), (KeyUsed::Previous, "k1")]
        );
        assert_eq!(KeyRing::from_secret(&rotating.to_secret()).unwrap(), rotating);
        let prepared = start.prepared("k2");
        assert_eq!(prepared.current(), "k1", "the prepared key does not sign yet");
        assert_eq!(
            prepared.promoted(),
            rotating,
            "promoted: it signs, the old one is still accepted"
        );
        assert_eq!(start.promoted(), start, "nothing to promote without a second key");
        let done = rotating.finished();
        assert_eq!(done.keys().collect::<Vec<_>>(), vec![(KeyUsed::Current, "k2")]);
        assert_eq!(KeyRing::from_secret(&done.to_secret()).unwrap(), done);
        for bad in ["k1", r#"{"current":""}"#, r#"{"previous":"k1"}"#, r#""secret-k1""#] {
            let error = KeyRing::from_secret(bad).unwrap_err().to_string();
            assert!(!error.contains("k1"), "the error shows no key: {error}");
        }
        assert_eq!(
            KeyRing::from_secret(r#"{"current":"k1","previous":null}"#).unwrap(),
            KeyRing::new("k1")
        );
        assert_eq!(KeyRing::fingerprint("k1").len(), 8);
        assert_ne!(KeyRing::fingerprint("k1"), KeyRing::fingerprint("k2"));
    }

    #[test]
    fn debug_output_never_shows_a_key() {
        let shown = format!("{:?}", KeyRing::new("secret-current").with_previous(Some("secret-old")));
        assert!(!shown.contains("secret"), "{shown}");
    }
}
