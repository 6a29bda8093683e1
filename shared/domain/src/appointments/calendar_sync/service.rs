//! Applies a verified, parsed Cal.com webhook: dedupes the delivery, finds the appointment it is
//! about, decides ([`super::decide`]) and writes a staff change over the version it read
//! (re-reading and deciding again when another writer came first), then drops the cached free
//! slots of the company's Cal.com calendars.
//!
//! Replays: Cal.com signs no timestamp, so a delivery sent again verifies like the original. The
//! receipt written first (a conditional put, kept 30 days) answers every later copy `duplicate`
//! without looking further; a delivery that failed half-way takes its receipt back so it can be
//! sent again. Even without the receipt a replay would change nothing: the record would already
//! say what the webhook says.
//!
//! The slot cache is per process (per Lambda container): the drop reaches the container that got
//! the webhook; others keep their copy for at most the cache's TTL (≤ 30 s).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::appointments::backend::CalendarRef;
use crate::appointments::calendar_sync::decide::{Decision, Found, StaffChange, Unchanged, decide};
use crate::appointments::calendar_sync::ports::{ChangeMarks, WebhookReceipts};
use crate::appointments::calendar_sync::webhook::{BookingChange, CalcomWebhook, Trigger};
use crate::appointments::engine::Engine;
use crate::appointments::ports::AppointmentStore;
use crate::appointments::record::Appointment;
use crate::appointments::setup::Appointments;
use crate::clock::Clock;
use crate::error::{StoreError, chain};
use crate::ids::{AppointmentId, CompanyId};

/// How long a delivery's receipt is kept (Cal.com does not resend old deliveries; an attacker's
/// replay of an older capture finds the record already in that state).
pub const RECEIPT_DAYS: i64 = 30;
/// Reads and writes of one webhook when other writers keep coming first.
const ATTEMPTS: usize = 3;

/// Where cached free slots live; told when a calendar changed outside the engine.
pub trait SlotCacheDrop: Send + Sync {
    fn calendar_changed(&self, company: &CompanyId, calendar: &CalendarRef);
}

impl SlotCacheDrop for Engine {
    fn calendar_changed(&self, company: &CompanyId, calendar: &CalendarRef) {
        Engine::calendar_changed(self, company, calendar);
    }
}

#[derive(Clone)]
pub struct SyncPorts {
    pub store: Arc<dyn AppointmentStore>,
    pub receipts: Arc<dyn WebhookReceipts>,
    pub marks: Arc<dyn ChangeMarks>,
    pub clock: Arc<dyn Clock>,
    pub slots: Arc<dyn SlotCacheDrop>,
}

/// What became of a webhook.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncOutcome {
    /// Not a booking change (`PING`, meetings, …).
    Ignored { trigger: String },
    /// This delivery was processed before.
    Duplicate,
    Unchanged {
        reason: Unchanged,
        appointment_id: Option<AppointmentId>,
    },
    /// Not a booking we keep.
    NotOurs,
    /// Names our appointment, but not the booking we hold for it: left for an operator.
    Unmatched { appointment_id: AppointmentId },
    /// A staff change, written.
    Updated {
        appointment: Box<Appointment>,
        change: StaffChange,
    },
}

impl SyncOutcome {
    /// The answer to Cal.com: `{"status": …}` and ids only, never personal data.
    pub fn to_json(&self) -> Value {
        match self {
            SyncOutcome::Ignored { trigger } => json!({"status": "ignored", "trigger": trigger}),
            SyncOutcome::Duplicate => json!({"status": "duplicate"}),
            SyncOutcome::Unchanged { reason, appointment_id } => {
                json!({"status": "unchanged", "reason": reason.as_str(), "appointment_id": appointment_id})
            }
            SyncOutcome::NotOurs => json!({"status": "unchanged", "reason": "not_ours"}),
            SyncOutcome::Unmatched { appointment_id } => {
                json!({"status": "unmatched", "appointment_id": appointment_id})
            }
            SyncOutcome::Updated { appointment, change } => json!({
                "status": "updated",
                "change": change.as_str(),
                "appointment_id": appointment.appointment_id,
            }),
        }
    }

    /// Whether the calendar may have changed (its cached free slots are stale).
    fn calendar_may_have_changed(&self) -> bool {
        !matches!(self, SyncOutcome::Ignored { .. } | SyncOutcome::Duplicate)
    }

    fn label(&self) -> &'static str {
        match self {
            SyncOutcome::Ignored { .. } => "ignored",
            SyncOutcome::Duplicate => "duplicate",
            SyncOutcome::Unchanged { reason, .. } => reason.as_str(),
            SyncOutcome::NotOurs => "not_ours",
            SyncOutcome::Unmatched { .. } => "unmatched",
            SyncOutcome::Updated { change, .. } => change.as_str(),
        }
    }
}

/// The Cal.com calendars whose cached slots a webhook makes stale: every one of the company's
/// (a host is busy across all their event types) and the webhook's own event type.
pub fn calcom_calendars(setup: Option<&Appointments>, event_type_id: Option<u64>) -> Vec<CalendarRef> {
    let mut calendars: Vec<CalendarRef> = setup
        .into_iter()
        .flat_map(|s| {
            let services = s
                .services
                .iter()
                .flat_map(|svc| svc.calendars.iter().map(|(_, c)| c.clone()));
            let staff = s.staff.iter().filter_map(|st| st.calendar.clone());
            services.chain(staff).collect::<Vec<_>>()
        })
        .chain(event_type_id.map(|event_type_id| CalendarRef::CalCom { event_type_id }))
        .filter(|c| matches!(c, CalendarRef::CalCom { .. }))
        .collect();
    calendars.sort();
    calendars.dedup();
    calendars
}

pub struct CalcomSync {
    ports: SyncPorts,
}

impl CalcomSync {
    pub fn new(ports: SyncPorts) -> Self {
        Self { ports }
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    /// Applies `webhook` (signature already verified) for `company`, whose setup is `setup`.
    pub async fn apply(
        &self,
        company: &CompanyId,
        setup: Option<&Appointments>,
        webhook: &CalcomWebhook,
    ) -> Result<SyncOutcome, StoreError> {
        let outcome = self.dedupe_and_sync(company, webhook).await?;
        if outcome.calendar_may_have_changed() {
            let event_type = webhook.booking.as_ref().and_then(|b| b.event_type_id);
            for calendar in calcom_calendars(setup, event_type) {
                self.ports.slots.calendar_changed(company, &calendar);
            }
        }
        let uid = webhook.booking.as_ref().map(|b| b.uid.as_str()).unwrap_or_default();
        match &outcome {
            SyncOutcome::Unmatched { appointment_id } => tracing::warn!(
                company = %company, trigger = webhook.trigger.name(), uid, appointment = %appointment_id,
                "Cal.com changed a booking of ours that our record does not hold; nothing changed, please check"
            ),
            other => tracing::info!(
                company = %company, trigger = webhook.trigger.name(), uid, outcome = other.label(),
                "Cal.com webhook"
            ),
        }
        Ok(outcome)
    }

    async fn dedupe_and_sync(&self, company: &CompanyId, webhook: &CalcomWebhook) -> Result<SyncOutcome, StoreError> {
        let (Some(change), Some(key)) = (webhook.booking.as_ref(), webhook.dedupe_key()) else {
            return Ok(SyncOutcome::Ignored {
                trigger: webhook.trigger.name().to_string(),
            });
        };
        let expires_at = self.now() + TimeDelta::days(RECEIPT_DAYS);
        if !self.ports.receipts.first_receipt(company, &key, expires_at).await? {
            return Ok(SyncOutcome::Duplicate);
        }
        let result = self.sync(company, &webhook.trigger, change).await;
        if result.is_err()
            && let Err(e) = self.ports.receipts.forget_receipt(company, &key).await
        {
            tracing::warn!(error = %chain(&e), "could not take back a webhook receipt; a resend will be seen as a duplicate");
        }
        result
    }

    async fn sync(
        &self,
        company: &CompanyId,
        trigger: &Trigger,
        change: &BookingChange,
    ) -> Result<SyncOutcome, StoreError> {
        for _ in 0..ATTEMPTS {
            let found = self.find(company, trigger, change).await?;
            let pending = match &found {
                Found::ByUid(record) | Found::ByPreviousUid(record) => {
                    self.ports
                        .marks
                        .pending_change(company, &record.backend_uid, self.now())
                        .await?
                }
                _ => None,
            };
            match decide(company, trigger, change, &found, pending.as_ref(), self.now()) {
                Decision::Unchanged { reason, appointment_id } => {
                    return Ok(SyncOutcome::Unchanged { reason, appointment_id });
                }
                Decision::NotOurs => return Ok(SyncOutcome::NotOurs),
                Decision::Unmatched { appointment_id } => return Ok(SyncOutcome::Unmatched { appointment_id }),
                Decision::Apply {
                    appointment,
                    change,
                    expected_version,
                } => {
                    if self
                        .ports
                        .store
                        .update_appointment(&appointment, expected_version)
                        .await?
                    {
                        return Ok(SyncOutcome::Updated { appointment, change });
                    }
                    // Someone wrote it meanwhile (the engine, another webhook): read and decide again.
                }
            }
        }
        Err(StoreError::unavailable(
            "apply a calendar change",
            format!("the appointment kept changing under {ATTEMPTS} attempts"),
        ))
    }

    /// The appointment a webhook is about: by the booking's uid; for a reschedule first by the
    /// booking it replaced; else the one our ids in the metadata name (this company's only).
    async fn find(&self, company: &CompanyId, trigger: &Trigger, change: &BookingChange) -> Result<Found, StoreError> {
        let store = &self.ports.store;
        if *trigger == Trigger::Rescheduled
            && let Some(previous) = &change.previous_uid
            && let Some(record) = store.appointment_by_uid(company, previous).await?
        {
            return Ok(Found::ByPreviousUid(record));
        }
        if let Some(record) = store.appointment_by_uid(company, &change.uid).await? {
            return Ok(Found::ByUid(record));
        }
        let ours = change.ours.as_ref().filter(|o| &o.company_id == company);
        if let Some(ours) = ours
            && let Some(record) = store.appointment(company, &ours.appointment_id).await?
        {
            return Ok(Found::ByOurIds(record));
        }
        Ok(Found::Nothing)
    }
}
