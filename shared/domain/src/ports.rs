//! The ports the domain needs; the adapters crate implements them for AWS, `memory` in memory.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{Channel, ChannelState, Enrichment, EnrichmentStatus, ServiceCase};
use crate::customer::Customer;
use crate::email::OutgoingEmail;
use crate::error::StoreError;
use crate::exchange::ExchangeEntry;
use crate::tenant::{RouteKey, Tenant};
use crate::webhook::WebhookRequest;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Recording links Retell handed out with a call. Kept on the call event (for enrichment),
/// never on the case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct RecordingLinks {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_multi_channel_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrubbed_recording_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scrubbed_recording_multi_channel_url: Option<String>,
}

impl RecordingLinks {
    pub fn is_empty(&self) -> bool {
        *self == RecordingLinks::default()
    }
}

/// One Retell request about a call, kept as the call's audit trail. Retell's retries of the
/// same event overwrite the same record (key: call, event type, discriminator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallEvent {
    /// `None` when no company could be found for the call (kept as unrouted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    pub call_id: String,
    pub event: String,
    /// Tells apart several events of one type (transfer destinations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<String>,
    pub received_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnection_reason: Option<String>,
    #[serde(default, skip_serializing_if = "RecordingLinks::is_empty")]
    pub recording: RecordingLinks,
    pub body_bytes: usize,
    /// SHA-256 of the raw body, to tell a retry from a changed event.
    pub body_sha256: String,
    /// What the gateway did with it (`captured`, `appointment mode`, `unrouted`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The raw body, kept only when the event could not be routed so an operator can replay it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
}

impl CallEvent {
    /// An event with only its identity; the rest is filled in by the caller as known.
    pub fn new(company_id: Option<&str>, call_id: &str, event: &str, received_at: DateTime<Utc>) -> Self {
        Self {
            company_id: company_id.map(str::to_string),
            call_id: call_id.to_string(),
            event: event.to_string(),
            discriminator: None,
            received_at,
            agent_id: None,
            from_number: None,
            to_number: None,
            direction: None,
            call_status: None,
            start_timestamp: None,
            end_timestamp: None,
            disconnection_reason: None,
            recording: RecordingLinks::default(),
            body_bytes: 0,
            body_sha256: String::new(),
            outcome: None,
            raw_body: None,
        }
    }
}

/// Result of the guarded case write.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created,
    /// The call already has a case (returned as stored).
    Exists(Box<ServiceCase>),
}

/// Cases, call events and the ticket counter.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Atomically writes the case (only if the call has none yet) together with its call event.
    async fn create_case(&self, case: &ServiceCase, event: &CallEvent) -> Result<CreateOutcome, StoreError>;
    /// Writes a call event (idempotent per call, type and discriminator).
    async fn record_event(&self, event: &CallEvent) -> Result<(), StoreError>;
    /// Writes the content of a case if its stored version is still `expected_version`
    /// (hand-off fields are left alone). `false` when someone else changed it first.
    async fn update_content(&self, case: &ServiceCase, expected_version: u64) -> Result<bool, StoreError>;
    /// Takes the hand-off lease if the case is not handed off and no lease is active at `now_ms`.
    async fn claim_handoff(
        &self,
        company_id: &str,
        call_id: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Next number of the company's ticket counter for `year` (1, 2, …).
    async fn next_ticket_number(&self, company_id: &str, year: i32) -> Result<u64, StoreError>;
    /// Records that the case was handed to enrichment under `ticket_ref`, releasing the lease.
    async fn complete_handoff(
        &self,
        company_id: &str,
        call_id: &str,
        ticket_ref: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Gives the lease back early (after a failed enqueue) so a retry need not wait for it.
    async fn release_handoff(&self, company_id: &str, call_id: &str) -> Result<(), StoreError>;
    /// Moves enrichment `pending|enriching → enriching` and returns the case; a case whose
    /// enrichment already ended comes back as `Finished`.
    async fn begin_enrichment(&self, company_id: &str, call_id: &str) -> Result<EnrichClaim, StoreError>;
    /// Moves `enriching → status` with the results; `false` if the case was not enriching.
    async fn finish_enrichment(
        &self,
        company_id: &str,
        call_id: &str,
        status: EnrichmentStatus,
        enrichment: &Enrichment,
    ) -> Result<bool, StoreError>;
    /// Stores a channel's state (delivered, or the e-mail's progress so far) unless the channel
    /// was already delivered: `false` if it was.
    async fn save_channel_state(
        &self,
        company_id: &str,
        call_id: &str,
        channel: Channel,
        state: &ChannelState,
    ) -> Result<bool, StoreError>;
    /// Every configured channel is delivered: `output_status = sent`.
    async fn mark_output_sent(
        &self,
        company_id: &str,
        call_id: &str,
        external_reference: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The final state after the last delivery attempt: `output_status = failed` with the error
    /// (never over `sent`). `false` when the case was sent after all.
    async fn mark_output_failed(
        &self,
        company_id: &str,
        call_id: &str,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records that the alert on `channel` (`email` or `slack`) went out, once: `false` if it already had.
    async fn mark_alerted(
        &self,
        company_id: &str,
        call_id: &str,
        channel: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Deliberate redelivery: forgets the given channels' `sent` marks and the alerts, and puts
    /// the case back to `pending`.
    async fn reset_for_redelivery(
        &self,
        company_id: &str,
        call_id: &str,
        channels: &[Channel],
    ) -> Result<(), StoreError>;
    /// Keeps the last delivery error on the case while it is retried (the status stays `pending`).
    async fn record_output_error(&self, company_id: &str, call_id: &str, error: &str) -> Result<(), StoreError>;
    async fn mark_delivery_enqueued(
        &self,
        company_id: &str,
        call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn get_case(&self, company_id: &str, call_id: &str) -> Result<Option<ServiceCase>, StoreError>;
    async fn list_cases(&self, company_id: &str) -> Result<Vec<ServiceCase>, StoreError>;
    /// Events of a call; `company_id = None` reads the unrouted ones.
    async fn list_events(&self, company_id: Option<&str>, call_id: &str) -> Result<Vec<CallEvent>, StoreError>;
}

/// Routes and tenant configuration (read side).
#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn company_for(&self, route: &RouteKey) -> Result<Option<String>, StoreError>;
    async fn tenant(&self, company_id: &str) -> Result<Option<Tenant>, StoreError>;
}

/// The message that starts enrichment of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichRequest {
    pub company_id: String,
    pub call_id: String,
    pub case_id: String,
}

#[async_trait]
pub trait EnrichQueue: Send + Sync {
    async fn enqueue(&self, request: &EnrichRequest, delay_seconds: u32) -> Result<(), StoreError>;
}

/// Result of claiming a case for enrichment.
#[derive(Debug, Clone, PartialEq)]
pub enum EnrichClaim {
    Started(Box<ServiceCase>),
    /// Enrichment already ended (a duplicate message).
    Finished(Box<ServiceCase>),
    Missing,
}

/// A company's customers, for recognising callers.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn customers_by_phone(&self, company_id: &str, e164: &str) -> Result<Vec<Customer>, StoreError>;
    async fn customers_by_email(&self, company_id: &str, email: &str) -> Result<Vec<Customer>, StoreError>;
    async fn all_customers(&self, company_id: &str) -> Result<Vec<Customer>, StoreError>;
    async fn save_customer(&self, company_id: &str, customer: &Customer) -> Result<(), StoreError>;
}

/// The message that starts delivery of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverRequest {
    pub company_id: String,
    pub call_id: String,
    pub case_id: String,
}

#[async_trait]
pub trait DeliveryQueue: Send + Sync {
    async fn enqueue(&self, request: &DeliverRequest) -> Result<(), StoreError>;
}

/// A stored copy of a call recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingCopy {
    pub bytes: u64,
    /// The object was already there (an earlier attempt stored it).
    pub already_present: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordingError {
    #[error("recording download timed out: {0}")]
    Timeout(String),
    #[error("recording copy failed: {0}")]
    Failed(String),
}

/// Copies a recording from a URL into private storage under `key`, streaming.
#[async_trait]
pub trait RecordingStore: Send + Sync {
    async fn copy(&self, url: &str, key: &str) -> Result<RecordingCopy, RecordingError>;
}

/// The audit log of every delivery attempt and internal step of a case.
#[async_trait]
pub trait ExchangeLog: Send + Sync {
    async fn append(&self, company_id: &str, case_id: &str, entry: &ExchangeEntry) -> Result<(), StoreError>;
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

#[async_trait]
pub trait WebhookClient: Send + Sync {
    async fn post(&self, request: &WebhookRequest) -> Result<HttpResponse, TransportError>;
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
