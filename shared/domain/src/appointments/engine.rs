//! The booking engine: availability with alternatives from one calendar fetch per search window,
//! bookings that hold the slot first (a conditional item per calendar and start, owned by the
//! call) and are idempotent per (call, intent, slot), cancellations and moves under the company's
//! identity and notice rules. Every calendar call fits a voice budget and passes a circuit
//! breaker that only backend failures open.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::appointments::alternatives::{Answer, Offer, SearchPolicy, SlotSearch};
use crate::appointments::backend::{
    Attendee, BackendBooking, BackendError, BackendStatus, BookingMetadata, BookingRequest, CalendarBackend,
    CalendarRef, SlotQuery,
};
use crate::appointments::breaker::{Breaker, BreakerSettings};
use crate::appointments::calendar::local_time::Span;
use crate::appointments::calendar::slots::{Slot, StaffId};
use crate::appointments::calendar_sync::ports::{ChangeMarks, PendingChange, PendingKind};
use crate::appointments::ports::{AppointmentStore, HoldOutcome, OperationClaim, OperationKey, SlotHold};
use crate::appointments::record::{Appointment, AppointmentCustomer, AppointmentStatus, Change, ChangeKind, ChangedBy};
use crate::appointments::setup::{Appointments, Branch, Service};
use crate::appointments::slot_cache::SlotCache;
use crate::appointments::speech::parse::Wish;
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::error::StoreError;
use crate::ids::{AppointmentId, CallId, CompanyId, ServiceId};
use crate::tenancy::Tenant;

/// Builds the calendar backend of a company from its accounts (adapters cache the clients).
pub trait CalendarBackends: Send + Sync {
    fn backend(&self, company: &CompanyId, setup: &Appointments) -> Result<Arc<dyn CalendarBackend>, BackendError>;
}

#[derive(Clone)]
pub struct EnginePorts {
    pub calendars: Arc<dyn CalendarBackends>,
    pub store: Arc<dyn AppointmentStore>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// A slot search answers within this (the agent is talking to a caller).
    pub slots_budget: Duration,
    /// A booking, move or cancellation in the calendar.
    pub booking_budget: Duration,
    /// How long a chosen slot stays held for the call that books it.
    pub hold_for: TimeDelta,
    /// How long one request owns an operation before a retry may take it over.
    pub operation_lease: TimeDelta,
    pub cache_ttl: TimeDelta,
    /// Days from the wished day searched for alternatives in the one fetch.
    pub search_days: i64,
    pub breaker: BreakerSettings,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            slots_budget: Duration::from_secs(2),
            booking_budget: Duration::from_secs(6),
            hold_for: TimeDelta::minutes(5),
            operation_lease: TimeDelta::seconds(15),
            cache_ttl: TimeDelta::seconds(30),
            search_days: 14,
            breaker: BreakerSettings::default(),
        }
    }
}

/// Who is asking: the company, the call, and the caller's number (E.164) if known.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub tenant: &'a Tenant,
    pub call_id: &'a CallId,
    pub phone: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the company has no booking setup")]
    NotSetUp,
    #[error("unknown service '{0}'")]
    UnknownService(ServiceId),
    #[error("the service's branch is not configured")]
    UnknownBranch,
    #[error("the calendar is not available right now")]
    BreakerOpen,
    /// The calendar failed in a way a later attempt may not (the caller gets a callback offer).
    #[error("calendar: {0}")]
    Backend(BackendError),
    /// The same change is being made by another request right now (a Retell retry): try again.
    #[error("the same request is in progress")]
    InProgress,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What became of a booking request.
#[derive(Debug, Clone, PartialEq)]
pub enum BookOutcome {
    Booked {
        appointment: Box<Appointment>,
        repeated: bool,
    },
    /// Someone else was faster (or holds the slot): fresh alternatives, in the same answer.
    Taken(Answer),
    /// The calendar refused the time itself (too soon, too far, in the past).
    NotBookable(BackendError, Answer),
}

/// What the caller wants booked.
#[derive(Debug, Clone, PartialEq)]
pub struct BookRequest {
    pub service: ServiceId,
    pub staff: Option<StaffId>,
    pub start: DateTime<Utc>,
    pub attendee: Attendee,
}

/// Why a caller may not cancel or move an appointment themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Refusal {
    /// The caller's number is not the appointment's (or withheld).
    NotTheirs,
    /// Too close to the appointment for the company's notice rule.
    TooLate {
        hours_before: f64,
        notice_hours: u32,
    },
    AlreadyCancelled,
    InThePast,
}

/// Whether a caller may change an appointment now, and at what fee.
#[derive(Debug, Clone, PartialEq)]
pub enum Terms {
    Allowed {
        appointment: Box<Appointment>,
        fee_eur: Option<f64>,
    },
    Refused {
        refusal: Refusal,
        appointment: Box<Appointment>,
    },
    NotFound,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CancelOutcome {
    Cancelled {
        appointment: Box<Appointment>,
        fee_eur: Option<f64>,
        repeated: bool,
    },
    Refused(Refusal),
    NotFound,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MoveProposal {
    /// The new time is free; the caller confirms (fee, if any, read out).
    Possible {
        offer: Offer,
        fee_eur: Option<f64>,
    },
    /// Not free: alternatives instead.
    Taken(Answer),
    Refused(Refusal),
    NotFound,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MoveOutcome {
    Moved {
        appointment: Box<Appointment>,
        fee_eur: Option<f64>,
        repeated: bool,
    },
    Taken(Answer),
    Refused(Refusal),
    NotFound,
}

/// A stored answer of a finished change, for Retell's retries.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    appointment: Appointment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fee_eur: Option<f64>,
}

pub struct Engine {
    ports: EnginePorts,
    settings: EngineSettings,
    breaker: Breaker,
    cache: SlotCache,
    /// Where the engine marks the Cal.com bookings it is changing (see [`Engine::with_change_marks`]).
    marks: Option<Arc<dyn ChangeMarks>>,
}

/// The setup, service and branch a request is about.
struct Target<'a> {
    setup: &'a Appointments,
    service: &'a Service,
    branch: &'a Branch,
}

impl Engine {
    pub fn new(ports: EnginePorts, settings: EngineSettings) -> Self {
        Self {
            breaker: Breaker::new(settings.breaker),
            cache: SlotCache::new(settings.cache_ttl),
            ports,
            settings,
            marks: None,
        }
    }

    /// Marks every Cal.com booking before cancelling or moving it, so the webhook Cal.com sends
    /// about the change (before it answers us) is recognised as ours, not as a staff change.
    /// Wire it wherever Cal.com webhooks are received.
    pub fn with_change_marks(mut self, marks: Arc<dyn ChangeMarks>) -> Self {
        self.marks = Some(marks);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.ports.clock.now()
    }

    fn target<'a>(&self, tenant: &'a Tenant, service: &ServiceId) -> Result<Target<'a>, EngineError> {
        let setup = tenant.appointments.as_ref().ok_or(EngineError::NotSetUp)?;
        let service = setup
            .service(service)
            .ok_or_else(|| EngineError::UnknownService(service.clone()))?;
        let branch = setup.branch(&service.branch).ok_or(EngineError::UnknownBranch)?;
        Ok(Target { setup, service, branch })
    }

    fn search_policy(&self, t: &Target) -> SearchPolicy {
        SearchPolicy {
            max_offers: usize::from(t.setup.policy.max_alternatives.max(1)),
            grid_step: t.service.rules.grid_step,
            min_notice: t.service.rules.min_notice,
            ..SearchPolicy::default()
        }
    }

    /// The search window for a wish on `day`: that local day through `search_days` later.
    fn window(&self, t: &Target, from: DateTime<Utc>) -> Span {
        let tz = t.branch.calendar.tz;
        let day = from.with_timezone(&tz).date_naive();
        let start = crate::appointments::calendar::local_time::to_instant_or_after_gap(
            tz,
            day.and_time(chrono::NaiveTime::MIN),
        )
        .unwrap_or(from);
        let last = day + TimeDelta::days(self.settings.search_days);
        let end = crate::appointments::calendar::local_time::to_instant_or_after_gap(
            tz,
            last.and_time(chrono::NaiveTime::MIN),
        )
        .unwrap_or(start + TimeDelta::days(self.settings.search_days));
        Span::new(start.max(self.now()), end).unwrap_or(Span { start, end })
    }

    /// Free slots of every calendar the request may book into, each fetched once per window
    /// (or taken from the ≤ 30 s cache), tagged with the staff member they belong to.
    async fn free_slots(
        &self,
        caller: &Caller<'_>,
        t: &Target<'_>,
        staff: Option<&StaffId>,
        window: &Span,
        deadline: Deadline,
    ) -> Result<Vec<Slot>, EngineError> {
        let company = caller.tenant.company_id();
        let backend = self.backend(company, t.setup)?;
        let mut all = Vec::new();
        for (who, calendar) in t.service.calendars_for(staff) {
            let key = calendar.key();
            let slots = match self.cache.get(company, &key, window, self.now()) {
                Some(slots) => slots,
                None => {
                    let query = SlotQuery {
                        calendar: calendar.clone(),
                        range: *window,
                        time_zone: t.branch.calendar.tz,
                        duration: t.service.rules.duration,
                        rules: Some(t.service.rules.clone()),
                        opening: Some(t.branch.calendar.clone()),
                        now: self.now(),
                    };
                    let budget = deadline.min(Deadline::after(self.settings.slots_budget));
                    let slots = self
                        .guarded(company, &calendar, backend.free_slots(&query, budget))
                        .await?;
                    self.cache.put(company, &key, window, self.now(), slots.clone());
                    slots
                }
            };
            all.extend(slots.into_iter().map(|mut s| {
                s.staff = s.staff.or_else(|| who.clone());
                s
            }));
        }
        all.sort_by_key(|s| s.start);
        Ok(all)
    }

    fn backend(&self, company: &CompanyId, setup: &Appointments) -> Result<Arc<dyn CalendarBackend>, EngineError> {
        self.ports
            .calendars
            .backend(company, setup)
            .map_err(EngineError::Backend)
    }

    fn breaker_key(company: &CompanyId, calendar: &CalendarRef) -> String {
        let kind = match calendar {
            CalendarRef::CalCom { .. } => "calcom",
            CalendarRef::CalDav { .. } => "caldav",
        };
        format!("{company}:{kind}")
    }

    /// Runs a backend call through the company's breaker, recording only backend failures.
    async fn guarded<T>(
        &self,
        company: &CompanyId,
        calendar: &CalendarRef,
        call: impl std::future::Future<Output = Result<T, BackendError>>,
    ) -> Result<T, EngineError> {
        let key = Self::breaker_key(company, calendar);
        if !self.breaker.allows(&key, self.now()) {
            return Err(EngineError::BreakerOpen);
        }
        let result = call.await;
        let unwell = result.as_ref().err().is_some_and(BackendError::counts_against_backend);
        self.breaker.record(&key, self.now(), unwell);
        result.map_err(EngineError::Backend)
    }

    /// Whether the wish is free, else 2–3 alternatives, from one fetch of the search window.
    pub async fn availability(
        &self,
        caller: &Caller<'_>,
        service: &ServiceId,
        staff: Option<&StaffId>,
        wish: &Wish,
        deadline: Deadline,
    ) -> Result<Answer, EngineError> {
        self.answer_wish(caller, service, staff, wish, false, deadline).await
    }

    /// Other times than the wish (the caller does not want it, or asks what else there is): the
    /// wished start itself is left out, everything else as [`Engine::availability`].
    pub async fn alternatives(
        &self,
        caller: &Caller<'_>,
        service: &ServiceId,
        staff: Option<&StaffId>,
        wish: &Wish,
        deadline: Deadline,
    ) -> Result<Answer, EngineError> {
        self.answer_wish(caller, service, staff, wish, true, deadline).await
    }

    async fn answer_wish(
        &self,
        caller: &Caller<'_>,
        service: &ServiceId,
        staff: Option<&StaffId>,
        wish: &Wish,
        without_wish: bool,
        deadline: Deadline,
    ) -> Result<Answer, EngineError> {
        let t = self.target(caller.tenant, service)?;
        let tz = t.branch.calendar.tz;
        let from = crate::appointments::calendar::local_time::to_instant_or_after_gap(
            tz,
            wish.date.and_time(chrono::NaiveTime::MIN),
        )
        .unwrap_or(self.now());
        let window = self.window(&t, from);
        // The wished staff member first, but everyone's slots are alternatives.
        let mut slots = self.free_slots(caller, &t, None, &window, deadline).await?;
        if without_wish && let crate::appointments::speech::parse::TimeWish::Exact(time) = wish.time {
            let wished = crate::appointments::calendar::local_time::to_instant(tz, wish.date.and_time(time));
            slots.retain(|s| Some(s.start) != wished);
        }
        let policy = self.search_policy(&t);
        Ok(SlotSearch::new(&slots, &t.branch.calendar, self.now(), &policy, staff).answer(wish))
    }

    /// The first free slot after `after` (optionally inside a daily window).
    pub async fn next_available(
        &self,
        caller: &Caller<'_>,
        service: &ServiceId,
        staff: Option<&StaffId>,
        after: DateTime<Utc>,
        daily_window: Option<(chrono::NaiveTime, chrono::NaiveTime)>,
        deadline: Deadline,
    ) -> Result<Option<Offer>, EngineError> {
        let t = self.target(caller.tenant, service)?;
        let window = self.window(&t, after.max(self.now()));
        let slots = self.free_slots(caller, &t, staff, &window, deadline).await?;
        let policy = self.search_policy(&t);
        Ok(SlotSearch::new(&slots, &t.branch.calendar, self.now(), &policy, staff).next_available(after, daily_window))
    }

    /// Alternatives to a time that turned out taken, from a fresh fetch. The taken time itself is
    /// left out even if the calendar still shows it free: another call holds it and is booking it.
    async fn fresh_alternatives(
        &self,
        caller: &Caller<'_>,
        t: &Target<'_>,
        staff: Option<&StaffId>,
        start: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<Answer, EngineError> {
        let tz = t.branch.calendar.tz;
        let local = start.with_timezone(&tz);
        let wish = Wish {
            date: local.date_naive(),
            time: crate::appointments::speech::parse::TimeWish::Exact(local.time()),
        };
        let window = self.window(t, start);
        let mut slots = self.free_slots(caller, t, None, &window, deadline).await?;
        slots.retain(|s| s.start != start);
        let policy = self.search_policy(t);
        Ok(SlotSearch::new(&slots, &t.branch.calendar, self.now(), &policy, staff).answer(&wish))
    }

    /// Books `request.start`: holds the slot for this call, books it in the calendar and keeps the
    /// appointment. Idempotent per (call, service, start): the same tool call again gets the same
    /// booking; a different appointment in the same call is a new booking.
    pub async fn book(
        &self,
        caller: &Caller<'_>,
        request: &BookRequest,
        deadline: Deadline,
    ) -> Result<BookOutcome, EngineError> {
        let t = self.target(caller.tenant, &request.service)?;
        let company = caller.tenant.company_id();
        let key = OperationKey {
            company_id: company.clone(),
            call_id: caller.call_id.clone(),
            intent: "book",
            subject: format!("{}@{}", request.service, request.start.to_rfc3339()),
        };
        if let Some(stored) = self.claim(&key).await? {
            return Ok(BookOutcome::Booked {
                appointment: Box::new(stored.appointment),
                repeated: true,
            });
        }
        let result = self.book_claimed(caller, &t, request, deadline).await;
        self.settle(&key, &result, |o| match o {
            BookOutcome::Booked { appointment, .. } => Some(Stored {
                appointment: (**appointment).clone(),
                fee_eur: None,
            }),
            _ => None,
        })
        .await?;
        result
    }

    async fn book_claimed(
        &self,
        caller: &Caller<'_>,
        t: &Target<'_>,
        request: &BookRequest,
        deadline: Deadline,
    ) -> Result<BookOutcome, EngineError> {
        let company = caller.tenant.company_id();
        let calendars = t.service.calendars_for(request.staff.as_ref());
        let calendar = match calendars.as_slice() {
            [(_, only)] => only.clone(),
            // Several calendars: the one whose free slots (usually cached from the check) have it.
            _ => {
                let window = self.window(t, request.start);
                let slots = self
                    .free_slots(caller, t, request.staff.as_ref(), &window, deadline)
                    .await?;
                let staff = slots
                    .iter()
                    .find(|s| s.start == request.start)
                    .and_then(|s| s.staff.clone());
                match calendars.iter().find(|(who, _)| who.is_some() && *who == staff) {
                    Some((_, calendar)) => calendar.clone(),
                    None => {
                        let answer = self
                            .fresh_alternatives(caller, t, request.staff.as_ref(), request.start, deadline)
                            .await?;
                        return Ok(BookOutcome::Taken(answer));
                    }
                }
            }
        };
        let staff = calendars
            .iter()
            .find(|(_, c)| *c == calendar)
            .and_then(|(who, _)| who.clone());
        let now = self.now();
        let slot = Slot {
            start: request.start,
            end: request.start + t.service.rules.duration,
            staff: staff.clone(),
        };
        let hold = SlotHold {
            calendar_key: calendar.key(),
            start: slot.start,
            owner: caller.call_id.clone(),
            until: now + self.settings.hold_for,
        };
        if let HoldOutcome::HeldByOther { .. } = self.ports.store.hold_slot(company, &hold, now).await? {
            let answer = self
                .fresh_alternatives(caller, t, request.staff.as_ref(), request.start, deadline)
                .await?;
            return Ok(BookOutcome::Taken(answer));
        }
        let appointment_id = AppointmentId::new(Ulid::from_datetime(now.into()).to_string());
        let backend = self.backend(company, t.setup)?;
        let budget = deadline.min(Deadline::after(self.settings.booking_budget));
        let reservation = self
            .guarded(company, &calendar, backend.reserve(&calendar, &slot, budget))
            .await
            .ok()
            .flatten();
        let booking = BookingRequest {
            calendar: calendar.clone(),
            slot: slot.clone(),
            time_zone: t.branch.calendar.tz,
            attendee: request.attendee.clone(),
            title: t.service.name.clone(),
            reservation,
            metadata: BookingMetadata {
                company_id: company.clone(),
                call_id: caller.call_id.clone(),
                appointment_id: appointment_id.clone(),
            },
        };
        let booked = self.guarded(company, &calendar, backend.book(&booking, budget)).await;
        self.cache.drop_calendar(company, &calendar.key());
        let booked = match booked {
            Ok(b) => self.trusted(company, caller.call_id, b).await?,
            Err(EngineError::Backend(e)) => Err(e),
            Err(other) => {
                self.release_hold(company, &hold).await;
                return Err(other);
            }
        };
        match booked {
            Ok(b) => {
                let appointment = Appointment {
                    company_id: company.clone(),
                    appointment_id,
                    branch_id: t.branch.id.clone(),
                    service_id: t.service.id.clone(),
                    staff_id: staff.map(|s| s.0),
                    customer: AppointmentCustomer {
                        name: request.attendee.name.clone(),
                        phone: request.attendee.phone.clone(),
                        email: request.attendee.email.clone(),
                    },
                    call_id: caller.call_id.clone(),
                    calendar,
                    backend_uid: b.uid.clone(),
                    start: b.start,
                    end: b.end,
                    time_zone: crate::locale::TimeZone(t.branch.calendar.tz),
                    status: if b.status == BackendStatus::Pending {
                        AppointmentStatus::Pending
                    } else {
                        AppointmentStatus::Booked
                    },
                    history: vec![Change {
                        at: now,
                        kind: ChangeKind::Booked,
                        by: ChangedBy::Caller {
                            call_id: caller.call_id.clone(),
                        },
                        from: None,
                        to: Some(b.start),
                        reason: None,
                    }],
                    calls: Default::default(),
                    created_at: now,
                    updated_at: now,
                    version: 0,
                };
                self.ports.store.create_appointment(&appointment).await?;
                Ok(BookOutcome::Booked {
                    appointment: Box::new(appointment),
                    repeated: false,
                })
            }
            Err(e @ (BackendError::Taken | BackendError::Untrusted(_))) => {
                tracing::info!(error = %e, "slot taken at booking time; answering with fresh alternatives");
                self.release_hold(company, &hold).await;
                let answer = self
                    .fresh_alternatives(caller, t, request.staff.as_ref(), request.start, deadline)
                    .await?;
                Ok(BookOutcome::Taken(answer))
            }
            Err(e @ (BackendError::OutOfBounds(_) | BackendError::InPast)) => {
                self.release_hold(company, &hold).await;
                let answer = self
                    .fresh_alternatives(caller, t, request.staff.as_ref(), request.start, deadline)
                    .await?;
                Ok(BookOutcome::NotBookable(e, answer))
            }
            Err(e) => {
                self.release_hold(company, &hold).await;
                Err(EngineError::Backend(e))
            }
        }
    }

    /// A booking the calendar answered with: never one whose uid belongs to another call's
    /// appointment (Cal.com dedupes on start, end and host and may hand back someone else's).
    async fn trusted(
        &self,
        company: &CompanyId,
        call: &CallId,
        booking: BackendBooking,
    ) -> Result<Result<BackendBooking, BackendError>, EngineError> {
        match self.ports.store.appointment_by_uid(company, &booking.uid).await? {
            Some(existing) if &existing.call_id != call => Ok(Err(BackendError::Untrusted(format!(
                "the calendar returned booking {} of another call",
                booking.uid
            )))),
            _ => Ok(Ok(booking)),
        }
    }

    /// The calendar has given the appointment's slot back (cancelled, or moved away): so does our
    /// hold on it, which would otherwise answer `taken` for a free slot until it expires. It
    /// belongs to the call that last moved the appointment there, else to the one that booked it
    /// (a wrong guess deletes nothing: the release is conditional on the owner).
    async fn release_slot_of(&self, company: &CompanyId, appointment: &Appointment) {
        let owner = appointment
            .history
            .iter()
            .rev()
            .find_map(|c| match (&c.kind, &c.by) {
                (ChangeKind::Rescheduled, ChangedBy::Caller { call_id }) if c.to == Some(appointment.start) => {
                    Some(call_id.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| appointment.call_id.clone());
        let hold = SlotHold {
            calendar_key: appointment.calendar.key(),
            start: appointment.start,
            owner,
            until: appointment.start,
        };
        self.release_hold(company, &hold).await;
    }

    async fn release_hold(&self, company: &CompanyId, hold: &SlotHold) {
        if let Err(e) = self
            .ports
            .store
            .release_slot(company, &hold.calendar_key, hold.start, &hold.owner)
            .await
        {
            tracing::warn!(error = %crate::error::chain(&e), "could not release a slot hold; it expires by itself");
        }
    }

    /// `Some(stored)` when the operation was done before; `None` when this request does it now.
    async fn claim(&self, key: &OperationKey) -> Result<Option<Stored>, EngineError> {
        let now = self.now();
        match self
            .ports
            .store
            .claim_operation(key, now, now + self.settings.operation_lease)
            .await?
        {
            OperationClaim::Claimed => Ok(None),
            OperationClaim::InProgress => Err(EngineError::InProgress),
            OperationClaim::Done(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| EngineError::Store(StoreError::Corrupt(format!("stored answer: {e}")))),
        }
    }

    /// Stores a finished change's answer, or gives the operation back when nothing changed.
    async fn settle<T>(
        &self,
        key: &OperationKey,
        result: &Result<T, EngineError>,
        done: impl Fn(&T) -> Option<Stored>,
    ) -> Result<(), EngineError> {
        match result.as_ref().ok().and_then(done) {
            Some(stored) => {
                let value = serde_json::to_value(&stored)
                    .map_err(|e| EngineError::Store(StoreError::Corrupt(format!("answer: {e}"))))?;
                self.ports.store.complete_operation(key, &value).await?;
            }
            None => self.ports.store.release_operation(key).await?,
        }
        Ok(())
    }

    /// The caller's appointments that have not ended yet, soonest first.
    pub async fn upcoming(&self, tenant: &Tenant, phone: &str) -> Result<Vec<Appointment>, EngineError> {
        Ok(self
            .ports
            .store
            .upcoming_by_phone(tenant.company_id(), phone, self.now())
            .await?)
    }

    /// Whether `caller` may change `appointment` now: their number and the notice rule.
    fn may_change(&self, caller: &Caller<'_>, appointment: &Appointment, notice_hours: u32) -> Result<f64, Refusal> {
        let setup = caller.tenant.appointments.as_ref();
        let must_match = setup.is_none_or(|s| s.policy.caller_number_must_match);
        if appointment.status == AppointmentStatus::Cancelled {
            return Err(Refusal::AlreadyCancelled);
        }
        if must_match
            && caller
                .phone
                .is_none_or(|p| appointment.customer.phone.as_deref() != Some(p))
        {
            return Err(Refusal::NotTheirs);
        }
        let hours_before = (appointment.start - self.now()).num_minutes() as f64 / 60.0;
        if hours_before <= 0.0 {
            return Err(Refusal::InThePast);
        }
        if hours_before < f64::from(notice_hours) {
            return Err(Refusal::TooLate {
                hours_before,
                notice_hours,
            });
        }
        Ok(hours_before)
    }

    /// Whether `caller` may cancel (`cancel = true`) or move appointment `id` now, and the fee it
    /// would cost: asked before the change so the caller hears the fee and can decide.
    pub async fn change_terms(
        &self,
        caller: &Caller<'_>,
        id: &AppointmentId,
        cancel: bool,
    ) -> Result<Terms, EngineError> {
        let setup = caller.tenant.appointments.as_ref().ok_or(EngineError::NotSetUp)?;
        let Some(appointment) = self.ports.store.appointment(caller.tenant.company_id(), id).await? else {
            return Ok(Terms::NotFound);
        };
        let notice = if cancel {
            setup.policy.cancel_notice_hours
        } else {
            setup.policy.reschedule_notice_hours
        };
        Ok(match self.may_change(caller, &appointment, notice) {
            Ok(hours_before) => Terms::Allowed {
                fee_eur: setup.policy.fee_for(hours_before),
                appointment: Box::new(appointment),
            },
            Err(refusal) => Terms::Refused {
                refusal,
                appointment: Box::new(appointment),
            },
        })
    }

    /// Cancels an appointment for its own caller, under the company's notice rule.
    pub async fn cancel(
        &self,
        caller: &Caller<'_>,
        id: &AppointmentId,
        reason: &str,
        deadline: Deadline,
    ) -> Result<CancelOutcome, EngineError> {
        let setup = caller.tenant.appointments.as_ref().ok_or(EngineError::NotSetUp)?;
        let company = caller.tenant.company_id();
        let key = OperationKey {
            company_id: company.clone(),
            call_id: caller.call_id.clone(),
            intent: "cancel",
            subject: id.to_string(),
        };
        if let Some(stored) = self.claim(&key).await? {
            return Ok(CancelOutcome::Cancelled {
                appointment: Box::new(stored.appointment),
                fee_eur: stored.fee_eur,
                repeated: true,
            });
        }
        let result = self.cancel_claimed(caller, setup, id, reason, deadline).await;
        self.settle(&key, &result, |o| match o {
            CancelOutcome::Cancelled {
                appointment, fee_eur, ..
            } => Some(Stored {
                appointment: (**appointment).clone(),
                fee_eur: *fee_eur,
            }),
            _ => None,
        })
        .await?;
        result
    }

    async fn cancel_claimed(
        &self,
        caller: &Caller<'_>,
        setup: &Appointments,
        id: &AppointmentId,
        reason: &str,
        deadline: Deadline,
    ) -> Result<CancelOutcome, EngineError> {
        let company = caller.tenant.company_id();
        let Some(mut appointment) = self.ports.store.appointment(company, id).await? else {
            return Ok(CancelOutcome::NotFound);
        };
        let hours_before = match self.may_change(caller, &appointment, setup.policy.cancel_notice_hours) {
            Ok(h) => h,
            Err(refusal) => return Ok(CancelOutcome::Refused(refusal)),
        };
        let backend = self.backend(company, setup)?;
        let budget = deadline.min(Deadline::after(self.settings.booking_budget));
        self.mark_change(company, &appointment, PendingKind::Cancel, None, caller.call_id)
            .await?;
        let cancelled = self
            .guarded(
                company,
                &appointment.calendar,
                backend.cancel(&appointment.calendar, &appointment.backend_uid, reason, budget),
            )
            .await;
        self.cache.drop_calendar(company, &appointment.calendar.key());
        match cancelled {
            Ok(()) | Err(EngineError::Backend(BackendError::AlreadyCancelled)) => {}
            Err(e) => {
                self.clear_mark(company, &appointment).await;
                return Err(e);
            }
        }
        self.release_slot_of(company, &appointment).await;
        let expected = appointment.version;
        let now = self.now();
        appointment.status = AppointmentStatus::Cancelled;
        appointment.updated_at = now;
        appointment.version += 1;
        appointment.history.push(Change {
            at: now,
            kind: ChangeKind::Cancelled,
            by: ChangedBy::Caller {
                call_id: caller.call_id.clone(),
            },
            from: Some(appointment.start),
            to: None,
            reason: Some(reason.to_string()).filter(|r| !r.is_empty()),
        });
        if !self.ports.store.update_appointment(&appointment, expected).await? {
            return Err(EngineError::InProgress);
        }
        Ok(CancelOutcome::Cancelled {
            appointment: Box::new(appointment),
            fee_eur: setup.policy.fee_for(hours_before),
            repeated: false,
        })
    }

    /// Step one of a move: whether `to` is free for this caller's appointment (nothing changes).
    pub async fn propose_move(
        &self,
        caller: &Caller<'_>,
        id: &AppointmentId,
        wish: &Wish,
        deadline: Deadline,
    ) -> Result<MoveProposal, EngineError> {
        let company = caller.tenant.company_id();
        let setup = caller.tenant.appointments.as_ref().ok_or(EngineError::NotSetUp)?;
        let Some(appointment) = self.ports.store.appointment(company, id).await? else {
            return Ok(MoveProposal::NotFound);
        };
        let hours_before = match self.may_change(caller, &appointment, setup.policy.reschedule_notice_hours) {
            Ok(h) => h,
            Err(refusal) => return Ok(MoveProposal::Refused(refusal)),
        };
        let staff = appointment.staff_id.clone().map(StaffId);
        let answer = self
            .availability(caller, &appointment.service_id, staff.as_ref(), wish, deadline)
            .await?;
        Ok(match answer.outcome {
            crate::appointments::alternatives::Outcome::Available { offer } => MoveProposal::Possible {
                offer,
                fee_eur: setup.policy.fee_for(hours_before),
            },
            _ => MoveProposal::Taken(answer),
        })
    }

    /// Step two: moves the appointment to `to` (confirmed by the caller). Idempotent per
    /// (call, appointment, new start).
    pub async fn confirm_move(
        &self,
        caller: &Caller<'_>,
        id: &AppointmentId,
        to: DateTime<Utc>,
        reason: &str,
        deadline: Deadline,
    ) -> Result<MoveOutcome, EngineError> {
        let setup = caller.tenant.appointments.as_ref().ok_or(EngineError::NotSetUp)?;
        let company = caller.tenant.company_id();
        let key = OperationKey {
            company_id: company.clone(),
            call_id: caller.call_id.clone(),
            intent: "reschedule",
            subject: format!("{id}@{}", to.to_rfc3339()),
        };
        if let Some(stored) = self.claim(&key).await? {
            return Ok(MoveOutcome::Moved {
                appointment: Box::new(stored.appointment),
                fee_eur: stored.fee_eur,
                repeated: true,
            });
        }
        let result = self.move_claimed(caller, setup, id, to, reason, deadline).await;
        self.settle(&key, &result, |o| match o {
            MoveOutcome::Moved {
                appointment, fee_eur, ..
            } => Some(Stored {
                appointment: (**appointment).clone(),
                fee_eur: *fee_eur,
            }),
            _ => None,
        })
        .await?;
        result
    }

    async fn move_claimed(
        &self,
        caller: &Caller<'_>,
        setup: &Appointments,
        id: &AppointmentId,
        to: DateTime<Utc>,
        reason: &str,
        deadline: Deadline,
    ) -> Result<MoveOutcome, EngineError> {
        let company = caller.tenant.company_id();
        let Some(mut appointment) = self.ports.store.appointment(company, id).await? else {
            return Ok(MoveOutcome::NotFound);
        };
        let hours_before = match self.may_change(caller, &appointment, setup.policy.reschedule_notice_hours) {
            Ok(h) => h,
            Err(refusal) => return Ok(MoveOutcome::Refused(refusal)),
        };
        let t = self.target(caller.tenant, &appointment.service_id)?;
        let now = self.now();
        let hold = SlotHold {
            calendar_key: appointment.calendar.key(),
            start: to,
            owner: caller.call_id.clone(),
            until: now + self.settings.hold_for,
        };
        let staff = appointment.staff_id.clone().map(StaffId);
        if let HoldOutcome::HeldByOther { .. } = self.ports.store.hold_slot(company, &hold, now).await? {
            let answer = self
                .fresh_alternatives(caller, &t, staff.as_ref(), to, deadline)
                .await?;
            return Ok(MoveOutcome::Taken(answer));
        }
        let backend = self.backend(company, setup)?;
        let budget = deadline.min(Deadline::after(self.settings.booking_budget));
        let slot = Slot {
            start: to,
            end: to + (appointment.end - appointment.start),
            staff: staff.clone(),
        };
        if let Err(e) = self
            .mark_change(company, &appointment, PendingKind::Reschedule, Some(to), caller.call_id)
            .await
        {
            self.release_hold(company, &hold).await;
            return Err(e);
        }
        let moved = self
            .guarded(
                company,
                &appointment.calendar,
                backend.reschedule(&appointment.calendar, &appointment.backend_uid, &slot, reason, budget),
            )
            .await;
        self.cache.drop_calendar(company, &appointment.calendar.key());
        let booking = match moved {
            Ok(b) => b,
            Err(EngineError::Backend(BackendError::Taken | BackendError::OutOfBounds(_) | BackendError::InPast)) => {
                self.release_hold(company, &hold).await;
                self.clear_mark(company, &appointment).await;
                let answer = self
                    .fresh_alternatives(caller, &t, staff.as_ref(), to, deadline)
                    .await?;
                return Ok(MoveOutcome::Taken(answer));
            }
            Err(e) => {
                self.release_hold(company, &hold).await;
                self.clear_mark(company, &appointment).await;
                return Err(e);
            }
        };
        self.release_slot_of(company, &appointment).await;
        let expected = appointment.version;
        appointment.history.push(Change {
            at: now,
            kind: ChangeKind::Rescheduled,
            by: ChangedBy::Caller {
                call_id: caller.call_id.clone(),
            },
            from: Some(appointment.start),
            to: Some(booking.start),
            reason: Some(reason.to_string()).filter(|r| !r.is_empty()),
        });
        appointment.backend_uid = booking.uid;
        appointment.start = booking.start;
        appointment.end = booking.end;
        appointment.updated_at = now;
        appointment.version += 1;
        if !self.ports.store.update_appointment(&appointment, expected).await? {
            return Err(EngineError::InProgress);
        }
        Ok(MoveOutcome::Moved {
            appointment: Box::new(appointment),
            fee_eur: setup.policy.fee_for(hours_before),
            repeated: false,
        })
    }

    /// Forgets cached slots of a calendar (a staff change learnt from the calendar's webhook).
    pub fn calendar_changed(&self, company: &CompanyId, calendar: &CalendarRef) {
        self.cache.drop_calendar(company, &calendar.key());
    }

    /// Marks `appointment`'s Cal.com booking as being changed by `call` (for two minutes: far
    /// beyond the booking budget). Only Cal.com sends webhooks; CalDAV bookings are not marked.
    async fn mark_change(
        &self,
        company: &CompanyId,
        appointment: &Appointment,
        kind: PendingKind,
        to: Option<DateTime<Utc>>,
        call: &CallId,
    ) -> Result<(), EngineError> {
        let (Some(marks), CalendarRef::CalCom { .. }) = (&self.marks, &appointment.calendar) else {
            return Ok(());
        };
        let change = PendingChange {
            backend_uid: appointment.backend_uid.clone(),
            kind,
            appointment_id: appointment.appointment_id.clone(),
            call_id: call.clone(),
            to,
            until: self.now() + TimeDelta::minutes(2),
        };
        marks.mark_change(company, &change).await?;
        Ok(())
    }

    /// Takes the mark back after a failed change, so a later webhook about the booking (a staff
    /// change, or ours arriving after we gave up) is applied to the record.
    async fn clear_mark(&self, company: &CompanyId, appointment: &Appointment) {
        let (Some(marks), CalendarRef::CalCom { .. }) = (&self.marks, &appointment.calendar) else {
            return;
        };
        if let Err(e) = marks.clear_change(company, &appointment.backend_uid).await {
            tracing::warn!(error = %crate::error::chain(&e), "could not clear a change mark; it expires by itself");
        }
    }
}
