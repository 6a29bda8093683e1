//! What the booking engine needs from storage: slot holds (so two calls cannot book one slot
//! even where the calendar would let them), idempotency records (so a Retell retry gets the
//! stored answer instead of a second booking), and the appointments themselves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::appointments::record::{Appointment, CallOutcome};
use crate::error::StoreError;
use crate::ids::{AppointmentId, CallId, CompanyId};

/// A slot held for a call while it books: one item per calendar and start, owned by the call,
/// gone by itself after `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotHold {
    pub calendar_key: String,
    pub start: DateTime<Utc>,
    pub owner: CallId,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldOutcome {
    /// Held for this call (newly, or it already held it).
    Held,
    /// Another call holds it until `until`.
    HeldByOther { owner: CallId, until: DateTime<Utc> },
}

/// The idempotency key of a change a tool call makes: the call, what it does, and to what (the
/// slot's start for a booking, the appointment for a cancellation). A second, different
/// appointment in the same call has another key; the same tool call repeated has the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OperationKey {
    pub company_id: CompanyId,
    pub call_id: CallId,
    pub intent: &'static str,
    pub subject: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OperationClaim {
    /// This request does it (under a short lease).
    Claimed,
    /// Another request is doing it right now.
    InProgress,
    /// It was done: the stored answer.
    Done(Value),
}

#[async_trait]
pub trait AppointmentStore: Send + Sync {
    async fn hold_slot(
        &self,
        company_id: &CompanyId,
        hold: &SlotHold,
        now: DateTime<Utc>,
    ) -> Result<HoldOutcome, StoreError>;
    /// Gives a hold back early (only the owner's).
    async fn release_slot(
        &self,
        company_id: &CompanyId,
        calendar_key: &str,
        start: DateTime<Utc>,
        owner: &CallId,
    ) -> Result<(), StoreError>;

    /// Claims `key` unless it was done (stored answer) or another request holds its lease.
    async fn claim_operation(
        &self,
        key: &OperationKey,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<OperationClaim, StoreError>;
    /// Stores the answer of a finished operation (a retry gets it).
    async fn complete_operation(&self, key: &OperationKey, answer: &Value) -> Result<(), StoreError>;
    /// Gives the lease back after a failure nothing was changed by, so a retry may try again.
    async fn release_operation(&self, key: &OperationKey) -> Result<(), StoreError>;

    /// Writes a new appointment (only if its id is new).
    async fn create_appointment(&self, appointment: &Appointment) -> Result<(), StoreError>;
    /// Writes a changed appointment if its stored version is still `expected_version`; `false`
    /// when someone changed it first.
    async fn update_appointment(&self, appointment: &Appointment, expected_version: u64) -> Result<bool, StoreError>;
    async fn appointment(&self, company_id: &CompanyId, id: &AppointmentId) -> Result<Option<Appointment>, StoreError>;
    /// The appointment a backend booking belongs to (by the backend's uid).
    async fn appointment_by_uid(&self, company_id: &CompanyId, uid: &str) -> Result<Option<Appointment>, StoreError>;
    /// A caller's appointments that have not ended by `now`, soonest first.
    async fn upcoming_by_phone(
        &self,
        company_id: &CompanyId,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError>;
    /// A company's appointments that overlap [`from`, `to`), soonest first, cancelled ones too
    /// (the console's dashboard).
    async fn appointments_between(
        &self,
        company_id: &CompanyId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError>;
    /// Keeps how call `call_id` ended on the appointment (idempotent per call; bumps the
    /// version so a concurrent change re-reads). `false` when there is no such appointment.
    async fn record_call_outcome(
        &self,
        company_id: &CompanyId,
        id: &AppointmentId,
        call_id: &CallId,
        outcome: &CallOutcome,
    ) -> Result<bool, StoreError>;
}
