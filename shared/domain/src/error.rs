//! The error every port shares. It keeps its source (the SDK's error, the I/O error) so the
//! edges can log the whole chain while answering callers with an opaque message.

use std::error::Error as StdError;

use thiserror::Error;

pub type BoxError = Box<dyn StdError + Send + Sync>;

/// A port (store, queue) failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The backend could not be reached or refused for now; the same request may succeed later.
    #[error("{operation} failed: storage unavailable")]
    Unavailable {
        operation: String,
        #[source]
        source: BoxError,
    },
    /// What is stored (or about to be) cannot be read or written as it is; retrying cannot help.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn unavailable(operation: impl Into<String>, source: impl Into<BoxError>) -> Self {
        StoreError::Unavailable {
            operation: operation.into(),
            source: source.into(),
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable { .. })
    }
}

/// An error and all its sources, `outer: inner: innermost`, for logs (never for callers).
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let part = inner.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_names_every_source() {
        let io = std::io::Error::other("connection reset by peer");
        let err = StoreError::unavailable("put item", io);
        assert_eq!(err.to_string(), "put item failed: storage unavailable");
        assert_eq!(
            chain(&err),
            "put item failed: storage unavailable: connection reset by peer"
        );
        assert!(err.is_retryable());
    }
}
