//! Domain errors. Each variant says whether a retry can help, so the edges can map them to a
//! status code (HTTP) or a batch item failure (SQS).

use thiserror::Error;

/// A port (store, queue) failed. `Retryable` means the same request may succeed later.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// Why a Retell request could not be taken in.
#[derive(Debug, Error)]
pub enum IngestError {
    /// Missing, malformed, wrong or stale `X-Retell-Signature`.
    #[error("invalid Retell signature: {0}")]
    Unauthorized(&'static str),
    #[error("request body is {size} bytes; the limit is {limit}")]
    PayloadTooLarge { size: usize, limit: usize },
    /// The body is not what Retell sends; `field` names the offending field.
    #[error("{message}")]
    BadRequest { field: String, message: String },
    /// A custom function this gateway does not implement.
    #[error("unknown function '{0}'")]
    UnknownFunction(String),
    /// Another request for the same call is finishing the case right now.
    #[error("case for call '{0}' is being captured by another request; retry shortly")]
    InProgress(String),
    /// The enrich queue refused the message; the case is stored and a retry will re-enqueue it.
    #[error("could not enqueue case for enrichment: {0}")]
    Enqueue(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IngestError {
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        IngestError::BadRequest {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Whether Retell should retry (the edge answers 5xx only then).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            IngestError::InProgress(_) | IngestError::Enqueue(_) | IngestError::Store(StoreError::Unavailable(_))
        )
    }
}
