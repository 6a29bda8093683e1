//! What delivery needs: the message that starts it, the per-channel delivery state of a case,
//! an HTTP client for webhook targets and a mailer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{CaseReader, Channel, ChannelState};
use crate::deadline::Deadline;
use crate::delivery::email::OutgoingEmail;
use crate::delivery::webhook::WebhookRequest;
use crate::error::StoreError;
use crate::ids::{CallId, CaseId, CompanyId};

/// The message that starts delivery of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverRequest {
    pub company_id: CompanyId,
    pub call_id: CallId,
    pub case_id: CaseId,
}

#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    async fn enqueue(&self, request: &DeliverRequest) -> Result<(), StoreError>;
}

/// A case's delivery state.
#[async_trait]
pub trait DeliveryStore: CaseReader {
    /// Stores a channel's state (delivered, or the e-mail's progress so far) unless the channel
    /// was already delivered: `false` if it was.
    async fn save_channel_state(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        channel: Channel,
        state: &ChannelState,
    ) -> Result<bool, StoreError>;
    /// Every configured channel is delivered: `output_status = sent`.
    async fn mark_output_sent(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        external_reference: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Keeps the last delivery error on the case while it is retried (the status stays `pending`).
    async fn record_output_error(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        error: &str,
    ) -> Result<(), StoreError>;
}

/// Deliberate redelivery by an operator.
#[async_trait]
pub trait RedeliveryStore: Send + Sync {
    /// Forgets the given channels' `sent` marks and the alerts, and puts the case back to `pending`.
    async fn reset_for_redelivery(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        channels: &[Channel],
    ) -> Result<(), StoreError>;
}

/// What came back from a webhook target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// The start of the body (bounded by the adapter).
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("timed out: {0}")]
    Timeout(String),
    /// The SSRF guard refused the target: retrying cannot help.
    #[error("refused: {0}")]
    Refused(String),
    #[error("request failed: {0}")]
    Failed(String),
}

impl TransportError {
    /// How an attempt that got no answer is logged (status code, error class) and whether
    /// retrying can help.
    pub fn classified(&self) -> (u16, &'static str, bool) {
        match self {
            TransportError::Timeout(_) => (408, "Timeout", false),
            TransportError::Refused(_) => (403, "Blocked", true),
            TransportError::Failed(_) => (502, "TransportError", false),
        }
    }
}

/// POSTs to a webhook target, finishing by `deadline` (or failing with `Timeout`).
#[async_trait]
pub trait WebhookClient: Send + Sync {
    async fn post(&self, request: &WebhookRequest, deadline: Deadline) -> Result<HttpResponse, TransportError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The address or message was refused: retrying cannot help.
    #[error("rejected: {0}")]
    Rejected(String),
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message; returns the provider's message id.
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError>;
}
