//! Why a Retell request could not be taken in. Each variant says whether a retry can help, so
//! the HTTP edge can map it to a status code: 4xx naming the problem, 5xx only for a retry.

use thiserror::Error;

use crate::error::StoreError;
use crate::ids::CallId;

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
    InProgress(CallId),
    /// The enrich queue refused the message; the case is stored and a retry will re-enqueue it.
    #[error("could not enqueue the case for enrichment")]
    Enqueue(#[source] StoreError),
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
        match self {
            IngestError::InProgress(_) | IngestError::Enqueue(_) => true,
            IngestError::Store(e) => e.is_retryable(),
            _ => false,
        }
    }
}
