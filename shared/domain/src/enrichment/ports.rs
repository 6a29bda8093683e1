//! What enrichment needs: the message that starts it, the case's enrichment state, the
//! company's customers, private storage for recordings, and the hand-off to delivery.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::call_event::CallEventReader;
use crate::case::{Enrichment, EnrichmentStatus, ServiceCase};
use crate::deadline::Deadline;
use crate::enrichment::customer::Customer;
use crate::error::StoreError;
use crate::ids::{CallId, CaseId, CompanyId};

/// The message that starts enrichment of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichRequest {
    pub company_id: CompanyId,
    pub call_id: CallId,
    pub case_id: CaseId,
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

/// A case's enrichment state (and the call events that carry the recording links).
#[async_trait]
pub trait EnrichmentStore: CallEventReader {
    /// Moves enrichment `pending|enriching → enriching` and returns the case; a case whose
    /// enrichment already ended comes back as `Finished`.
    async fn begin_enrichment(&self, company_id: &CompanyId, call_id: &CallId) -> Result<EnrichClaim, StoreError>;
    /// Moves `enriching → status` with the results; `false` if the case was not enriching.
    async fn finish_enrichment(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        status: EnrichmentStatus,
        enrichment: &Enrichment,
    ) -> Result<bool, StoreError>;
    /// The mark that the case went to the delivery queue (so a duplicate message does not repeat it).
    async fn mark_delivery_enqueued(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// A company's customers, for recognising callers.
#[async_trait]
pub trait CustomerStore: Send + Sync {
    async fn customers_by_phone(&self, company_id: &CompanyId, e164: &str) -> Result<Vec<Customer>, StoreError>;
    async fn customers_by_email(&self, company_id: &CompanyId, email: &str) -> Result<Vec<Customer>, StoreError>;
    async fn all_customers(&self, company_id: &CompanyId) -> Result<Vec<Customer>, StoreError>;
    async fn save_customer(&self, company_id: &CompanyId, customer: &Customer) -> Result<(), StoreError>;
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

/// Copies a recording from a URL into private storage under `key`, streaming, by `deadline`.
#[async_trait]
pub trait RecordingStore: Send + Sync {
    async fn copy(&self, url: &str, key: &str, deadline: Deadline) -> Result<RecordingCopy, RecordingError>;
}
