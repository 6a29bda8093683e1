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
    fn debug_output_never_shows_a_key() {
        let shown = format!("{:?}", KeyRing::new("secret-current").with_previous(Some("secret-old")));
        assert!(!shown.contains("secret"), "{shown}");
    }
}
