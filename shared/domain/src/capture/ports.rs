//! What capture needs from storage: the guarded case write, the call's events, the merge of a
//! second capture path, and the hand-off (ticket number + enrich message) under a lease.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::call_event::CallEvent;
use crate::case::{
    Analysis, CallLink, Caller, CaptureSource, CaseReader, CaseType, CategoryMatch, Priority, ServiceCase, Utterance,
};
use crate::error::StoreError;
use crate::ids::{CallId, CompanyId, TicketRef};

/// Result of the guarded case write.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateOutcome {
    Created,
    /// The call already has a case (returned as stored).
    Exists(Box<ServiceCase>),
}

/// The attributes of a case that capture owns: what a second capture path may rewrite. Enrichment,
/// delivery marks, output status, alerts and the hand-off belong to other writers, which do not
/// bump the case's version, so a merge must never write them back from the snapshot it read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapturedContent {
    pub case_type: CaseType,
    pub priority: Priority,
    pub urgency: Priority,
    pub impact: Priority,
    pub subject: String,
    pub description: String,
    pub caller: Caller,
    pub category: Option<String>,
    pub category_match: Option<CategoryMatch>,
    pub use_case_category: Option<String>,
    pub use_case_detail: Option<String>,
    pub analysis: Analysis,
    pub transcript: Vec<Utterance>,
    pub call: CallLink,
    pub sla_response_due_at: Option<DateTime<Utc>>,
    pub sla_resolution_due_at: Option<DateTime<Utc>>,
    pub captured_by: Vec<CaptureSource>,
    pub updated_at: DateTime<Utc>,
}

impl CapturedContent {
    pub fn of(case: &ServiceCase) -> Self {
        Self {
            case_type: case.case_type,
            priority: case.priority,
            urgency: case.urgency,
            impact: case.impact,
            subject: case.subject.clone(),
            description: case.description.clone(),
            caller: case.caller.clone(),
            category: case.category.clone(),
            category_match: case.category_match,
            use_case_category: case.use_case_category.clone(),
            use_case_detail: case.use_case_detail.clone(),
            analysis: case.analysis.clone(),
            transcript: case.transcript.clone(),
            call: case.call.clone(),
            sla_response_due_at: case.sla_response_due_at,
            sla_resolution_due_at: case.sla_resolution_due_at,
            captured_by: case.captured_by.clone(),
            updated_at: case.updated_at,
        }
    }

    /// Writes this content into `case`, leaving everything capture does not own as it is.
    pub fn apply_to(self, case: &mut ServiceCase) {
        case.case_type = self.case_type;
        case.priority = self.priority;
        case.urgency = self.urgency;
        case.impact = self.impact;
        case.subject = self.subject;
        case.description = self.description;
        case.caller = self.caller;
        case.category = self.category;
        case.category_match = self.category_match;
        case.use_case_category = self.use_case_category;
        case.use_case_detail = self.use_case_detail;
        case.analysis = self.analysis;
        case.transcript = self.transcript;
        case.call = self.call;
        case.sla_response_due_at = self.sla_response_due_at;
        case.sla_resolution_due_at = self.sla_resolution_due_at;
        case.captured_by = self.captured_by;
        case.updated_at = self.updated_at;
    }
}

/// Cases and call events as capture writes them.
#[async_trait]
pub trait CaptureStore: CaseReader {
    /// Atomically writes the case (only if the call has none yet) together with its call event.
    async fn create_case(&self, case: &ServiceCase, event: &CallEvent) -> Result<CreateOutcome, StoreError>;
    /// Writes a call event (idempotent per call, type and discriminator).
    async fn record_event(&self, event: &CallEvent) -> Result<(), StoreError>;
    /// Writes the capture-owned content if the case's version is still `expected_version`, and
    /// bumps it. `false` when another merge changed the case first.
    async fn merge_content(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        content: &CapturedContent,
        expected_version: u64,
    ) -> Result<bool, StoreError>;
    /// Takes the hand-off lease if the case is not handed off and no lease is active at `now_ms`.
    async fn claim_handoff(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Next number of the company's ticket counter for `year` (1, 2, …).
    async fn next_ticket_number(&self, company_id: &CompanyId, year: i32) -> Result<u64, StoreError>;
    /// Records that the case was handed to enrichment under `ticket_ref`, releasing the lease.
    async fn complete_handoff(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        ticket_ref: &TicketRef,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Gives the lease back early (after a failed enqueue) so a retry need not wait for it.
    async fn release_handoff(&self, company_id: &CompanyId, call_id: &CallId) -> Result<(), StoreError>;
    /// Cases of any company created before `created_before` and not handed off yet (the sweep's
    /// work list), at most `limit`.
    async fn pending_handoffs(
        &self,
        created_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(CompanyId, CallId)>, StoreError>;
}
