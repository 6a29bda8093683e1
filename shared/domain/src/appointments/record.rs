//! An appointment as the gateway keeps it: who, what, where, when (UTC instants with the zone
//! they were booked in), the backend's uid, its status and the history of every change, each
//! linked to the call (or the staff action) that made it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::appointments::backend::CalendarRef;
use crate::ids::{AppointmentId, BranchId, CallId, CompanyId, ServiceId};
use crate::locale::TimeZone;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppointmentStatus {
    Booked,
    /// Booked but waiting for the host's confirmation (Cal.com event types that require it).
    Pending,
    Cancelled,
}

/// Who changed an appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum ChangedBy {
    /// The caller, through the voice agent during `call_id`.
    Caller { call_id: CallId },
    /// Staff in the calendar itself (learnt from a Cal.com webhook).
    Staff,
    /// An operator in the console.
    Operator { name: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Booked,
    Rescheduled,
    Cancelled,
}

/// One entry of an appointment's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub kind: ChangeKind,
    #[serde(flatten)]
    pub by: ChangedBy,
    /// The time before a reschedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// The time after a booking or reschedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The person the appointment is for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AppointmentCustomer {
    pub name: String,
    /// E.164; the identity a caller must match to cancel or move it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// How a call that booked, moved or cancelled an appointment ended (from Retell's `call_analyzed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallOutcome {
    pub analyzed_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successful: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disconnection_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub company_id: CompanyId,
    pub appointment_id: AppointmentId,
    pub branch_id: BranchId,
    pub service_id: ServiceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
    pub customer: AppointmentCustomer,
    /// The call that booked it.
    pub call_id: CallId,
    pub calendar: CalendarRef,
    /// The backend's id of the booking (a reschedule in Cal.com gives a new one).
    pub backend_uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone the appointment was booked and is spoken in.
    pub time_zone: TimeZone,
    pub status: AppointmentStatus,
    #[serde(default)]
    pub history: Vec<Change>,
    /// The outcome of every call that changed it, by call id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub calls: BTreeMap<String, CallOutcome>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version: every change is written only over the version it read.
    #[serde(default)]
    pub version: u64,
}

impl Appointment {
    /// The event its latest change adds to the audit trail of the call that made it (`None` for
    /// a change made elsewhere, e.g. by staff in the calendar). Stores write it with the change.
    pub fn change_event(&self) -> Option<crate::call_event::CallEvent> {
        let instant = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let change = self.history.last()?;
        let ChangedBy::Caller { call_id } = &change.by else {
            return None;
        };
        let kind = crate::notices::notice::NoticeEvent::from(change.kind).name();
        let id = &self.appointment_id;
        let mut event = crate::call_event::CallEvent::new(Some(&self.company_id), call_id, kind, change.at);
        event.discriminator = Some(format!("{id}#{}", self.version));
        event.outcome = Some(match (change.from, change.to) {
            (Some(from), Some(to)) => format!("{id} moved from {} to {}", instant(from), instant(to)),
            (_, Some(to)) => format!("{id} booked for {}", instant(to)),
            (Some(from), None) => format!("{id} for {} cancelled", instant(from)),
            (None, None) => id.to_string(),
        });
        Some(event)
    }

    pub fn is_upcoming(&self, now: DateTime<Utc>) -> bool {
        self.status != AppointmentStatus::Cancelled && self.end > now
    }
}
