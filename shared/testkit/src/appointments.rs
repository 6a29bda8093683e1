//! In-memory twins for the booking engine: the appointment store (holds, idempotency records,
//! appointments) and a calendar backend that generates slots from opening hours and keeps its
//! bookings, with injectable failures and delays. Fast engine tests only: the adapters are tested
//! against the Cal.com stand-in and a real Radicale, and the store against DynamoDB.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gateway_domain::appointments::backend::{
    BackendBooking, BackendError, BackendStatus, BookingRequest, CalendarBackend, CalendarRef, Reservation, SlotQuery,
};
use gateway_domain::appointments::calendar::local_time::Span;
use gateway_domain::appointments::calendar::slots::{Slot, free_slots};
use gateway_domain::appointments::engine::CalendarBackends;
use gateway_domain::appointments::ports::{AppointmentStore, HoldOutcome, OperationClaim, OperationKey, SlotHold};
use gateway_domain::appointments::record::{Appointment, AppointmentStatus, CallOutcome};
use gateway_domain::appointments::setup::Appointments;
use gateway_domain::deadline::Deadline;
use gateway_domain::error::StoreError;
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};
use gateway_domain::notices::NoticeRef;
use serde_json::Value;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug, Clone)]
enum Operation {
    Claimed { until: DateTime<Utc> },
    Done(Value),
}

type OpKey = (CompanyId, CallId, &'static str, String);

/// (company, calendar key, start).
type HoldKey = (CompanyId, String, DateTime<Utc>);

#[derive(Default)]
pub struct MemoryAppointmentStore {
    holds: Mutex<HashMap<HoldKey, SlotHold>>,
    operations: Mutex<HashMap<OpKey, Operation>>,
    appointments: Mutex<BTreeMap<(CompanyId, AppointmentId), Appointment>>,
    /// The notices written with the changes (the outbox; see `crate::notices`).
    pub(crate) notices: Mutex<BTreeMap<NoticeRef, crate::notices::MemoryNotice>>,
    /// Where a change's call event goes, as the DynamoDB store writes it with the change.
    call_events: Option<Arc<crate::memory::MemoryCaseStore>>,
}

impl MemoryAppointmentStore {
    /// Also writes each change's call event into `cases` (the call's audit trail), as the
    /// DynamoDB store does in the change's transaction.
    pub fn with_call_events(mut self, cases: Arc<crate::memory::MemoryCaseStore>) -> Self {
        self.call_events = Some(cases);
        self
    }

    async fn record_change(&self, appointment: &Appointment) -> Result<(), StoreError> {
        match (&self.call_events, appointment.change_event()) {
            (Some(cases), Some(event)) => {
                gateway_domain::capture::CaptureStore::record_event(cases.as_ref(), &event).await
            }
            _ => Ok(()),
        }
    }
    pub fn all(&self, company: &CompanyId) -> Vec<Appointment> {
        lock(&self.appointments)
            .iter()
            .filter(|((c, _), _)| c == company)
            .map(|(_, a)| a.clone())
            .collect()
    }
}

fn op_key(key: &OperationKey) -> OpKey {
    (
        key.company_id.clone(),
        key.call_id.clone(),
        key.intent,
        key.subject.clone(),
    )
}

#[async_trait]
impl AppointmentStore for MemoryAppointmentStore {
    async fn hold_slot(
        &self,
        company_id: &CompanyId,
        hold: &SlotHold,
        now: DateTime<Utc>,
    ) -> Result<HoldOutcome, StoreError> {
        let mut holds = lock(&self.holds);
        let key = (company_id.clone(), hold.calendar_key.clone(), hold.start);
        match holds.get(&key) {
            Some(h) if h.until > now && h.owner != hold.owner => Ok(HoldOutcome::HeldByOther {
                owner: h.owner.clone(),
                until: h.until,
            }),
            _ => {
                holds.insert(key, hold.clone());
                Ok(HoldOutcome::Held)
            }
        }
    }

    async fn release_slot(
        &self,
        company_id: &CompanyId,
        calendar_key: &str,
        start: DateTime<Utc>,
        owner: &CallId,
    ) -> Result<(), StoreError> {
        let mut holds = lock(&self.holds);
        let key = (company_id.clone(), calendar_key.to_string(), start);
        if holds.get(&key).is_some_and(|h| &h.owner == owner) {
            holds.remove(&key);
        }
        Ok(())
    }

    async fn claim_operation(
        &self,
        key: &OperationKey,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<OperationClaim, StoreError> {
        let mut ops = lock(&self.operations);
        let k = op_key(key);
        match ops.get(&k) {
            Some(Operation::Done(answer)) => Ok(OperationClaim::Done(answer.clone())),
            Some(Operation::Claimed { until }) if *until > now => Ok(OperationClaim::InProgress),
            _ => {
                ops.insert(k, Operation::Claimed { until: lease_until });
                Ok(OperationClaim::Claimed)
            }
        }
    }

    async fn complete_operation(&self, key: &OperationKey, answer: &Value) -> Result<(), StoreError> {
        lock(&self.operations).insert(op_key(key), Operation::Done(answer.clone()));
        Ok(())
    }

    async fn release_operation(&self, key: &OperationKey) -> Result<(), StoreError> {
        let mut ops = lock(&self.operations);
        if matches!(ops.get(&op_key(key)), Some(Operation::Claimed { .. })) {
            ops.remove(&op_key(key));
        }
        Ok(())
    }

    async fn create_appointment(&self, appointment: &Appointment) -> Result<(), StoreError> {
        {
            let mut all = lock(&self.appointments);
            let key = (appointment.company_id.clone(), appointment.appointment_id.clone());
            if all.contains_key(&key) {
                return Err(StoreError::Corrupt(format!(
                    "appointment {} exists",
                    appointment.appointment_id
                )));
            }
            all.insert(key, appointment.clone());
            self.write_notice(appointment);
        }
        self.record_change(appointment).await
    }

    async fn update_appointment(&self, appointment: &Appointment, expected_version: u64) -> Result<bool, StoreError> {
        let written = {
            let mut all = lock(&self.appointments);
            let key = (appointment.company_id.clone(), appointment.appointment_id.clone());
            match all.get(&key) {
                Some(stored) if stored.version == expected_version => {
                    let mut next = appointment.clone();
                    next.version = expected_version + 1;
                    self.write_notice(&next);
                    all.insert(key, next.clone());
                    Some(next)
                }
                _ => None,
            }
        };
        match written {
            Some(next) => self.record_change(&next).await.map(|()| true),
            None => Ok(false),
        }
    }

    async fn appointment(&self, company_id: &CompanyId, id: &AppointmentId) -> Result<Option<Appointment>, StoreError> {
        Ok(lock(&self.appointments).get(&(company_id.clone(), id.clone())).cloned())
    }

    async fn appointment_by_uid(&self, company_id: &CompanyId, uid: &str) -> Result<Option<Appointment>, StoreError> {
        Ok(lock(&self.appointments)
            .values()
            .find(|a| &a.company_id == company_id && a.backend_uid == uid)
            .cloned())
    }

    async fn upcoming_by_phone(
        &self,
        company_id: &CompanyId,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        let mut found: Vec<Appointment> = lock(&self.appointments)
            .values()
            .filter(|a| &a.company_id == company_id && a.customer.phone.as_deref() == Some(phone) && a.is_upcoming(now))
            .cloned()
            .collect();
        found.sort_by_key(|a| a.start);
        Ok(found)
    }

    async fn appointments_between(
        &self,
        company_id: &CompanyId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        let mut found: Vec<Appointment> = lock(&self.appointments)
            .values()
            .filter(|a| &a.company_id == company_id && a.start < to && a.end > from)
            .cloned()
            .collect();
        found.sort_by_key(|a| a.start);
        Ok(found)
    }

    async fn record_call_outcome(
        &self,
        company_id: &CompanyId,
        id: &AppointmentId,
        call_id: &CallId,
        outcome: &CallOutcome,
    ) -> Result<bool, StoreError> {
        let mut all = lock(&self.appointments);
        let Some(stored) = all.get_mut(&(company_id.clone(), id.clone())) else {
            return Ok(false);
        };
        stored.calls.insert(call_id.to_string(), outcome.clone());
        stored.version += 1;
        Ok(true)
    }
}

/// A calendar in memory: free slots from the query's opening hours and rules minus its bookings;
/// two bookings of one time are refused (`Taken`), like a calendar with its own availability.
#[derive(Default)]
pub struct MemoryCalendar {
    bookings: Mutex<BTreeMap<String, (CalendarRef, BackendBooking)>>,
    /// Every call, by operation name (`free_slots`, `book`, …).
    pub calls: Mutex<Vec<&'static str>>,
    /// The next n calls fail with this.
    failures: Mutex<Vec<BackendError>>,
    /// Every call waits this long first (to make requests overlap).
    pub delay: Mutex<Duration>,
    seq: AtomicUsize,
}

impl MemoryCalendar {
    pub fn fail_next(&self, errors: Vec<BackendError>) {
        *lock(&self.failures) = errors;
    }

    pub fn calls(&self) -> Vec<&'static str> {
        lock(&self.calls).clone()
    }

    pub fn count(&self, operation: &str) -> usize {
        lock(&self.calls).iter().filter(|c| **c == operation).count()
    }

    pub fn bookings(&self) -> Vec<BackendBooking> {
        lock(&self.bookings)
            .values()
            .filter(|(_, b)| b.status != BackendStatus::Cancelled)
            .map(|(_, b)| b.clone())
            .collect()
    }

    async fn enter(&self, operation: &'static str) -> Result<(), BackendError> {
        lock(&self.calls).push(operation);
        let delay = *lock(&self.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut failures = lock(&self.failures);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.remove(0))
        }
    }

    fn busy(&self, calendar: &CalendarRef, except: Option<&str>) -> Vec<Span> {
        lock(&self.bookings)
            .values()
            .filter(|(c, b)| c == calendar && b.status != BackendStatus::Cancelled && Some(b.uid.as_str()) != except)
            .filter_map(|(_, b)| Span::new(b.start, b.end))
            .collect()
    }
}

#[async_trait]
impl CalendarBackend for MemoryCalendar {
    async fn free_slots(&self, query: &SlotQuery, _deadline: Deadline) -> Result<Vec<Slot>, BackendError> {
        self.enter("free_slots").await?;
        let (Some(rules), Some(opening)) = (&query.rules, &query.opening) else {
            return Err(BackendError::Rejected(
                "the memory calendar needs rules and opening hours".into(),
            ));
        };
        free_slots(
            query.range,
            opening,
            rules,
            &self.busy(&query.calendar, None),
            query.now,
        )
        .map_err(|e| BackendError::Rejected(e.to_string()))
    }

    async fn reserve(
        &self,
        _calendar: &CalendarRef,
        _slot: &Slot,
        _deadline: Deadline,
    ) -> Result<Option<Reservation>, BackendError> {
        Ok(None)
    }

    async fn release(&self, _reservation: &Reservation, _deadline: Deadline) -> Result<(), BackendError> {
        Ok(())
    }

    async fn book(&self, request: &BookingRequest, _deadline: Deadline) -> Result<BackendBooking, BackendError> {
        self.enter("book").await?;
        let span =
            Span::new(request.slot.start, request.slot.end).ok_or(BackendError::Rejected("empty slot".into()))?;
        let mut bookings = lock(&self.bookings);
        let taken = bookings.values().any(|(c, b)| {
            c == &request.calendar
                && b.status != BackendStatus::Cancelled
                && Span::new(b.start, b.end).is_some_and(|s| s.overlaps(&span))
        });
        if taken {
            return Err(BackendError::Taken);
        }
        let uid = format!("mem-{}", self.seq.fetch_add(1, Ordering::SeqCst) + 1);
        let booking = BackendBooking {
            uid: uid.clone(),
            start: request.slot.start,
            end: request.slot.end,
            status: BackendStatus::Accepted,
            attendee: Some(request.attendee.clone()),
            metadata: request.metadata.to_map(),
            rescheduled_from: None,
        };
        bookings.insert(uid, (request.calendar.clone(), booking.clone()));
        Ok(booking)
    }

    async fn get(
        &self,
        _calendar: &CalendarRef,
        uid: &str,
        _deadline: Deadline,
    ) -> Result<BackendBooking, BackendError> {
        self.enter("get").await?;
        lock(&self.bookings)
            .get(uid)
            .map(|(_, b)| b.clone())
            .ok_or(BackendError::NotFound)
    }

    async fn cancel(
        &self,
        _calendar: &CalendarRef,
        uid: &str,
        _reason: &str,
        _deadline: Deadline,
    ) -> Result<(), BackendError> {
        self.enter("cancel").await?;
        let mut bookings = lock(&self.bookings);
        let (_, booking) = bookings.get_mut(uid).ok_or(BackendError::NotFound)?;
        if booking.status == BackendStatus::Cancelled {
            return Err(BackendError::AlreadyCancelled);
        }
        booking.status = BackendStatus::Cancelled;
        Ok(())
    }

    async fn reschedule(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        to: &Slot,
        _reason: &str,
        _deadline: Deadline,
    ) -> Result<BackendBooking, BackendError> {
        self.enter("reschedule").await?;
        let span = Span::new(to.start, to.end).ok_or(BackendError::Rejected("empty slot".into()))?;
        if self.busy(calendar, Some(uid)).iter().any(|b| b.overlaps(&span)) {
            return Err(BackendError::Taken);
        }
        let mut bookings = lock(&self.bookings);
        let (_, booking) = bookings.get_mut(uid).ok_or(BackendError::NotFound)?;
        booking.start = to.start;
        booking.end = to.end;
        Ok(booking.clone())
    }
}

/// Every company books into the one memory calendar.
pub struct OneCalendar(pub Arc<MemoryCalendar>);

impl CalendarBackends for OneCalendar {
    fn backend(&self, _company: &CompanyId, _setup: &Appointments) -> Result<Arc<dyn CalendarBackend>, BackendError> {
        Ok(self.0.clone())
    }
}

/// An appointment's history as (kind, status) pairs, for compact assertions.
pub fn statuses(appointments: &[Appointment]) -> Vec<AppointmentStatus> {
    appointments.iter().map(|a| a.status).collect()
}
