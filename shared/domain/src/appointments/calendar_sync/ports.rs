//! What calendar sync needs from storage: a receipt per webhook delivery (so a replay changes
//! nothing), and marks the booking engine leaves on a booking it is about to cancel or move (so
//! the calendar's webhook about that change, which Cal.com sends before it answers the engine, is
//! recognised as ours rather than taken for a staff change).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::ids::{AppointmentId, CallId, CompanyId};

#[async_trait]
pub trait WebhookReceipts: Send + Sync {
    /// Records the first receipt of `key`, kept until `expires_at`; `false` when it was received
    /// before (one conditional write: two copies arriving at once get one `true`).
    async fn first_receipt(
        &self,
        company: &CompanyId,
        key: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Forgets a receipt whose processing failed, so the delivery sent again is processed.
    async fn forget_receipt(&self, company: &CompanyId, key: &str) -> Result<(), StoreError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PendingKind {
    Cancel,
    Reschedule,
}

/// A change the engine is making to a calendar booking right now, for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    /// The booking being changed (its uid before the change).
    pub backend_uid: String,
    pub kind: PendingKind,
    pub appointment_id: AppointmentId,
    pub call_id: CallId,
    /// A move's new start.
    pub to: Option<DateTime<Utc>>,
    /// The mark means nothing after this.
    pub until: DateTime<Utc>,
}

#[async_trait]
pub trait ChangeMarks: Send + Sync {
    /// Marks a booking as being changed by us (replacing an older mark on it).
    async fn mark_change(&self, company: &CompanyId, change: &PendingChange) -> Result<(), StoreError>;
    /// The unexpired mark on booking `backend_uid`, if any.
    async fn pending_change(
        &self,
        company: &CompanyId,
        backend_uid: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingChange>, StoreError>;
    /// Takes a mark back (the change failed).
    async fn clear_change(&self, company: &CompanyId, backend_uid: &str) -> Result<(), StoreError>;
}
