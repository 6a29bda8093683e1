//! The call's audit trail: every Retell request about a call is kept as a call event (recording
//! links included, which never go onto the case).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::costs::CostRecord;
use crate::error::StoreError;
use crate::ids::{CallId, CompanyId};

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
    pub company_id: Option<CompanyId>,
    pub call_id: CallId,
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
    /// The call's cost-ledger entry (with `call_analyzed`): stored as an item of its own, written
    /// in the same request as the event, never as part of it.
    #[serde(skip)]
    pub cost: Option<CostRecord>,
}

impl CallEvent {
    /// An event with only its identity; the rest is filled in by the caller as known.
    pub fn new(company_id: Option<&CompanyId>, call_id: &CallId, event: &str, received_at: DateTime<Utc>) -> Self {
        Self {
            company_id: company_id.cloned(),
            call_id: call_id.clone(),
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
            cost: None,
        }
    }
}

/// Reads a call's events; `company_id = None` reads the unrouted ones.
#[async_trait]
pub trait CallEventReader: Send + Sync {
    async fn call_events(&self, company_id: Option<&CompanyId>, call_id: &CallId)
    -> Result<Vec<CallEvent>, StoreError>;
}
