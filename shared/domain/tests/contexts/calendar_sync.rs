//! Calendar sync against the in-memory twins: staff moves and cancellations from Cal.com
//! webhooks follow in our records (one history entry by staff each), replays change nothing,
//! our own bookings and changes coming back — even mid-call, before the engine has written them,
//! as Cal.com delivers them — change nothing, a failed write takes its receipt back, a race with
//! another writer is retried, and every change drops the cached slots.

use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gateway_domain::appointments::backend::{
    BackendBooking, BackendError, BookingRequest, CalendarBackend, CalendarRef, Reservation, SlotQuery,
};
use gateway_domain::appointments::calendar::slots::Slot;
use gateway_domain::appointments::calendar_sync::{
    CalcomSync, CalcomWebhook, SlotCacheDrop, StaffChange, SyncOutcome, SyncPorts, Unchanged,
};
use gateway_domain::appointments::engine::{
    BookOutcome, BookRequest, CalendarBackends, Caller, CancelOutcome, Engine, EngineError, EnginePorts,
    EngineSettings, MoveOutcome,
};
use gateway_domain::appointments::ports::{AppointmentStore, HoldOutcome, OperationClaim, OperationKey, SlotHold};
use gateway_domain::appointments::record::{Appointment, AppointmentStatus, ChangeKind, ChangedBy};
use gateway_domain::appointments::setup::Appointments;
use gateway_domain::deadline::Deadline;
use gateway_domain::error::StoreError;
use gateway_domain::ids::{AppointmentId, CallId, CompanyId, ServiceId};
use gateway_domain::tenancy::{Tenant, TenantSpec};
use gateway_testkit::appointments::{MemoryAppointmentStore, MemoryCalendar};
use gateway_testkit::calendar_sync::MemoryCalendarSync;
use gateway_testkit::memory::FixedClock;
use serde_json::json;

const SETUP: &str = r#"
company: {company_id: praxis, name: Praxis am Platz, mode: appointment}
appointments:
  calcom: {api_key: cal_test_sync, webhook_secret: whsec_praxis_0123456789abcdef}
  branches:
  - id: hannover
    name: Praxis Hannover
    time_zone: Europe/Berlin
    opening_hours: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-15:00"]}
  services:
  - id: beratung
    name: Beratung
    duration_minutes: 30
    min_notice_minutes: 60
    horizon_days: 60
    calendar: {calcom: {event_type_id: 1001}}
"#;

/// Tuesday 2026-12-01 10:00 in Hannover.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

/// Thursday 2026-12-03 at `h`:00 Berlin (UTC+1).
fn thursday(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, h - 1, 0, 0).unwrap()
}

fn praxis() -> CompanyId {
    CompanyId::new("praxis")
}

fn tenant() -> Tenant {
    let spec: TenantSpec = serde_norway::from_str(SETUP).unwrap();
    spec.tenant().unwrap()
}

fn rfc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A Cal.com webhook body as Cal.com sends it (the fields calendar sync reads, plus some noise);
/// its metadata names none of our appointments, so only the uids match it to one.
fn hook(trigger: &str, uid: &str, previous: Option<&str>, start: DateTime<Utc>, created_at: &str) -> CalcomWebhook {
    let mut payload = json!({
        "type": "beratung", "title": "Beratung", "uid": uid, "bookingId": 7, "eventTypeId": 1001,
        "startTime": rfc(start), "endTime": rfc(start + TimeDelta::minutes(30)),
        "status": if trigger == "BOOKING_CANCELLED" { "CANCELLED" } else { "ACCEPTED" },
        "attendees": [{"name": "Jonas Weber", "email": "jw@example.de", "timeZone": "Europe/Berlin"}],
        "metadata": {"booked_via": "service-gateway"},
    });
    if let Some(previous) = previous {
        payload["rescheduleUid"] = json!(previous);
    }
    if trigger == "BOOKING_CANCELLED" {
        payload["cancellationReason"] = json!("Praxis geschlossen");
    }
    let body = json!({"triggerEvent": trigger, "createdAt": created_at, "payload": payload});
    CalcomWebhook::parse(body.to_string().as_bytes()).expect("a webhook")
}

/// Records which calendars had their cached slots dropped.
#[derive(Default)]
struct DroppedSlots(Mutex<Vec<CalendarRef>>);

impl SlotCacheDrop for DroppedSlots {
    fn calendar_changed(&self, _company: &CompanyId, calendar: &CalendarRef) {
        self.0.lock().unwrap().push(calendar.clone());
    }
}

impl DroppedSlots {
    fn take(&self) -> Vec<CalendarRef> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The world: an engine booking into a memory calendar, and calendar sync on the same stores.
struct World {
    tenant: Arc<Tenant>,
    store: Arc<MemoryAppointmentStore>,
    sync_store: Arc<MemoryCalendarSync>,
    dropped: Arc<DroppedSlots>,
    sync: Arc<CalcomSync>,
    engine: Arc<Engine>,
}

fn world_with(
    store: Arc<dyn AppointmentStore>,
    memory: Arc<MemoryAppointmentStore>,
    calendars: Arc<dyn CalendarBackends>,
    marks: bool,
) -> World {
    let clock = Arc::new(FixedClock::new(now()));
    let sync_store = Arc::new(MemoryCalendarSync::default());
    let dropped = Arc::new(DroppedSlots::default());
    let sync = Arc::new(CalcomSync::new(SyncPorts {
        store: store.clone(),
        receipts: sync_store.clone(),
        marks: sync_store.clone(),
        clock: clock.clone(),
        slots: dropped.clone(),
    }));
    let engine = Engine::new(
        EnginePorts {
            calendars,
            store,
            clock,
        },
        EngineSettings::default(),
    );
    let engine = if marks {
        engine.with_change_marks(sync_store.clone())
    } else {
        engine
    };
    World {
        tenant: Arc::new(tenant()),
        store: memory,
        sync_store,
        dropped,
        sync,
        engine: Arc::new(engine),
    }
}

fn world() -> World {
    let memory = Arc::new(MemoryAppointmentStore::default());
    let calendar = Arc::new(MemoryCalendar::default());
    world_with(
        memory.clone(),
        memory,
        Arc::new(gateway_testkit::appointments::OneCalendar(calendar)),
        true,
    )
}

impl World {
    fn setup(&self) -> Option<&Appointments> {
        self.tenant.appointments.as_ref()
    }

    async fn apply(&self, webhook: &CalcomWebhook) -> SyncOutcome {
        self.sync
            .apply(&praxis(), self.setup(), webhook)
            .await
            .expect("applied")
    }

    async fn book(&self, call: &str, start: DateTime<Utc>) -> Appointment {
        let call = CallId::new(call);
        let caller = Caller {
            tenant: &self.tenant,
            call_id: &call,
            phone: Some("+4951111111"),
        };
        let request = BookRequest {
            service: ServiceId::new("beratung"),
            staff: None,
            start,
            attendee: gateway_domain::appointments::backend::Attendee {
                name: "Jonas Weber".into(),
                phone: Some("+4951111111".into()),
                email: None,
                language: "de".into(),
            },
        };
        match self.engine.book(&caller, &request, Deadline::none()).await.unwrap() {
            BookOutcome::Booked { appointment, .. } => *appointment,
            other => panic!("{other:?}"),
        }
    }

    async fn stored(&self, id: &AppointmentId) -> Appointment {
        self.store.appointment(&praxis(), id).await.unwrap().expect("stored")
    }
}

fn staff_entries(a: &Appointment) -> usize {
    a.history.iter().filter(|c| c.by == ChangedBy::Staff).count()
}

#[tokio::test]
async fn a_staff_move_and_cancel_follow_in_our_record_and_replays_change_nothing() {
    let w = world();
    let booked = w.book("call_1", thursday(10)).await;
    let uid = booked.backend_uid.clone();

    let moved = hook(
        "BOOKING_RESCHEDULED",
        "cal-new",
        Some(&uid),
        thursday(14),
        "2026-12-01T09:05:00.000Z",
    );
    match w.apply(&moved).await {
        SyncOutcome::Updated { change, .. } => assert_eq!(change, StaffChange::Rescheduled),
        other => panic!("{other:?}"),
    }
    let after = w.stored(&booked.appointment_id).await;
    assert_eq!((after.backend_uid.as_str(), after.start), ("cal-new", thursday(14)));
    assert_eq!(after.end, thursday(14) + TimeDelta::minutes(30));
    assert_eq!(after.version, booked.version + 1);
    let last = after.history.last().unwrap();
    assert_eq!((last.kind, &last.by), (ChangeKind::Rescheduled, &ChangedBy::Staff));
    assert_eq!((last.from, last.to), (Some(thursday(10)), Some(thursday(14))));

    // The same delivery again: a duplicate, nothing written.
    assert_eq!(w.apply(&moved).await, SyncOutcome::Duplicate);
    // The same change in another delivery (new createdAt): already applied, nothing written.
    let resent = hook(
        "BOOKING_RESCHEDULED",
        "cal-new",
        Some(&uid),
        thursday(14),
        "2026-12-01T09:06:00.000Z",
    );
    assert!(matches!(
        w.apply(&resent).await,
        SyncOutcome::Unchanged {
            reason: Unchanged::AlreadyApplied,
            ..
        }
    ));
    assert_eq!(w.stored(&booked.appointment_id).await, after, "no second change");

    let cancelled = hook(
        "BOOKING_CANCELLED",
        "cal-new",
        None,
        thursday(14),
        "2026-12-01T09:10:00.000Z",
    );
    assert!(matches!(
        w.apply(&cancelled).await,
        SyncOutcome::Updated {
            change: StaffChange::Cancelled,
            ..
        }
    ));
    let end = w.stored(&booked.appointment_id).await;
    assert_eq!(end.status, AppointmentStatus::Cancelled);
    assert_eq!(
        end.history.last().unwrap().reason.as_deref(),
        Some("Praxis geschlossen")
    );
    assert_eq!(staff_entries(&end), 2);
    // An older delivery replayed after everything: no change.
    assert_eq!(w.apply(&moved).await, SyncOutcome::Duplicate);
    assert_eq!(w.stored(&booked.appointment_id).await, end);
}

#[tokio::test]
async fn our_own_booking_coming_back_changes_nothing() {
    let w = world();
    let booked = w.book("call_1", thursday(10)).await;
    let mut created = json!({"triggerEvent": "BOOKING_CREATED", "createdAt": "2026-12-01T09:00:01.000Z", "payload": {
        "uid": booked.backend_uid, "eventTypeId": 1001, "status": "ACCEPTED",
        "startTime": rfc(thursday(10)), "endTime": rfc(thursday(10) + TimeDelta::minutes(30)),
        "metadata": {"company_id": "praxis", "appointment_id": booked.appointment_id, "call_id": "call_1"}}});
    let outcome = w
        .apply(&CalcomWebhook::parse(created.to_string().as_bytes()).unwrap())
        .await;
    assert_eq!(
        outcome,
        SyncOutcome::Unchanged {
            reason: Unchanged::OwnBooking,
            appointment_id: Some(booked.appointment_id.clone())
        }
    );
    // Before the engine has written its record (Cal.com's webhook comes first): ours all the same.
    created["payload"]["uid"] = json!("not-yet-stored");
    created["payload"]["metadata"]["appointment_id"] = json!("01NEWAPPT");
    let outcome = w
        .apply(&CalcomWebhook::parse(created.to_string().as_bytes()).unwrap())
        .await;
    assert!(
        matches!(
            outcome,
            SyncOutcome::Unchanged {
                reason: Unchanged::OwnBooking,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(w.stored(&booked.appointment_id).await, booked);
}

#[tokio::test]
async fn slots_are_dropped_for_changes_not_for_pings_or_duplicates() {
    let w = world();
    let foreign = hook(
        "BOOKING_CREATED",
        "cal-page-1",
        None,
        thursday(11),
        "2026-12-01T09:00:00.000Z",
    );
    assert_eq!(
        w.apply(&foreign).await,
        SyncOutcome::NotOurs,
        "booked on Cal.com's own page"
    );
    assert_eq!(w.dropped.take(), [CalendarRef::CalCom { event_type_id: 1001 }]);
    assert!(w.store.all(&praxis()).is_empty(), "nothing recorded for it");
    assert_eq!(w.apply(&foreign).await, SyncOutcome::Duplicate);
    let ping = CalcomWebhook::parse(br#"{"triggerEvent":"PING","createdAt":"x","payload":{}}"#).unwrap();
    assert_eq!(w.apply(&ping).await, SyncOutcome::Ignored { trigger: "PING".into() });
    assert!(w.dropped.take().is_empty());
    assert_eq!(w.sync_store.receipts().len(), 1, "pings leave no receipt");
}

/// Cal.com delivers the webhook about a change before it answers the request that made it: a
/// calendar that calls calendar sync from inside `cancel` and `reschedule`, as Cal.com would.
struct WebhookFirst {
    inner: Arc<MemoryCalendar>,
    sync: OnceLock<(Arc<CalcomSync>, Arc<Tenant>)>,
    outcomes: Mutex<Vec<SyncOutcome>>,
}

impl WebhookFirst {
    async fn deliver(&self, webhook: CalcomWebhook) {
        if let Some((sync, tenant)) = self.sync.get() {
            let outcome = sync
                .apply(&praxis(), tenant.appointments.as_ref(), &webhook)
                .await
                .expect("applied");
            self.outcomes.lock().unwrap().push(outcome);
        }
    }
}

#[async_trait]
impl CalendarBackend for WebhookFirst {
    async fn free_slots(&self, query: &SlotQuery, deadline: Deadline) -> Result<Vec<Slot>, BackendError> {
        self.inner.free_slots(query, deadline).await
    }

    async fn reserve(
        &self,
        calendar: &CalendarRef,
        slot: &Slot,
        deadline: Deadline,
    ) -> Result<Option<Reservation>, BackendError> {
        self.inner.reserve(calendar, slot, deadline).await
    }

    async fn release(&self, reservation: &Reservation, deadline: Deadline) -> Result<(), BackendError> {
        self.inner.release(reservation, deadline).await
    }

    async fn book(&self, request: &BookingRequest, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        self.inner.book(request, deadline).await
    }

    async fn get(&self, calendar: &CalendarRef, uid: &str, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        self.inner.get(calendar, uid, deadline).await
    }

    async fn cancel(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        reason: &str,
        deadline: Deadline,
    ) -> Result<(), BackendError> {
        self.inner.cancel(calendar, uid, reason, deadline).await?;
        self.deliver(hook(
            "BOOKING_CANCELLED",
            uid,
            None,
            thursday(10),
            "2026-12-01T09:20:00.000Z",
        ))
        .await;
        Ok(())
    }

    async fn reschedule(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        to: &Slot,
        reason: &str,
        deadline: Deadline,
    ) -> Result<BackendBooking, BackendError> {
        let moved = self.inner.reschedule(calendar, uid, to, reason, deadline).await?;
        // The memory calendar keeps the uid; Cal.com's would be new (the e2e tests cover that).
        self.deliver(hook(
            "BOOKING_RESCHEDULED",
            &moved.uid,
            Some(uid),
            to.start,
            "2026-12-01T09:15:00.000Z",
        ))
        .await;
        Ok(moved)
    }
}

struct Only(Arc<WebhookFirst>);

impl CalendarBackends for Only {
    fn backend(&self, _company: &CompanyId, _setup: &Appointments) -> Result<Arc<dyn CalendarBackend>, BackendError> {
        Ok(self.0.clone())
    }
}

fn webhook_first_world(marks: bool) -> (World, Arc<WebhookFirst>) {
    let memory = Arc::new(MemoryAppointmentStore::default());
    let calendar = Arc::new(WebhookFirst {
        inner: Arc::new(MemoryCalendar::default()),
        sync: OnceLock::new(),
        outcomes: Mutex::default(),
    });
    let w = world_with(memory.clone(), memory, Arc::new(Only(calendar.clone())), marks);
    let _ = calendar.sync.set((w.sync.clone(), w.tenant.clone()));
    (w, calendar)
}

#[tokio::test]
async fn our_own_move_and_cancel_arriving_mid_call_are_recognised_by_the_engines_marks() {
    let (w, calendar) = webhook_first_world(true);
    let booked = w.book("call_1", thursday(10)).await;
    let call = CallId::new("call_2");
    let caller = Caller {
        tenant: &w.tenant,
        call_id: &call,
        phone: Some("+4951111111"),
    };
    let moved = w
        .engine
        .confirm_move(
            &caller,
            &booked.appointment_id,
            thursday(15),
            "passt besser",
            Deadline::none(),
        )
        .await
        .expect("the move is not disturbed by its own webhook");
    assert!(matches!(moved, MoveOutcome::Moved { .. }), "{moved:?}");
    let cancelled = w
        .engine
        .cancel(&caller, &booked.appointment_id, "verhindert", Deadline::none())
        .await
        .expect("the cancellation is not disturbed by its own webhook");
    assert!(matches!(cancelled, CancelOutcome::Cancelled { .. }), "{cancelled:?}");

    let outcomes = calendar.outcomes.lock().unwrap().clone();
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            SyncOutcome::Unchanged {
                reason: Unchanged::OwnChange,
                ..
            }
        )),
        "{outcomes:?}"
    );
    let end = w.stored(&booked.appointment_id).await;
    assert_eq!(end.status, AppointmentStatus::Cancelled);
    assert_eq!(staff_entries(&end), 0, "{:?}", end.history);
    assert_eq!(
        end.history.iter().map(|c| c.kind).collect::<Vec<_>>(),
        [ChangeKind::Booked, ChangeKind::Rescheduled, ChangeKind::Cancelled]
    );
    assert_eq!(w.dropped.take().len(), 2, "the slots dropped all the same");
}

/// Why the marks exist: without them our own cancellation's webhook is taken for staff's and the
/// engine's own write then loses its race.
#[tokio::test]
async fn without_the_engines_marks_our_own_cancel_would_look_like_staffs() {
    let (w, _calendar) = webhook_first_world(false);
    let booked = w.book("call_1", thursday(10)).await;
    let call = CallId::new("call_2");
    let caller = Caller {
        tenant: &w.tenant,
        call_id: &call,
        phone: Some("+4951111111"),
    };
    let result = w
        .engine
        .cancel(&caller, &booked.appointment_id, "verhindert", Deadline::none())
        .await;
    assert!(matches!(result, Err(EngineError::InProgress)), "{result:?}");
    assert_eq!(staff_entries(&w.stored(&booked.appointment_id).await), 1);
}

#[tokio::test]
async fn an_engine_whose_change_fails_takes_its_mark_back() {
    let (w, calendar) = webhook_first_world(true);
    let booked = w.book("call_1", thursday(10)).await;
    calendar.inner.fail_next(vec![BackendError::Timeout]);
    let call = CallId::new("call_2");
    let caller = Caller {
        tenant: &w.tenant,
        call_id: &call,
        phone: Some("+4951111111"),
    };
    let result = w
        .engine
        .cancel(&caller, &booked.appointment_id, "verhindert", Deadline::none())
        .await;
    assert!(result.is_err(), "{result:?}");
    assert!(
        w.sync_store.marks().is_empty(),
        "a later staff cancellation is staff's again"
    );
    let staff = hook(
        "BOOKING_CANCELLED",
        &booked.backend_uid,
        None,
        thursday(10),
        "2026-12-01T10:00:00.000Z",
    );
    assert!(matches!(
        w.apply(&staff).await,
        SyncOutcome::Updated {
            change: StaffChange::Cancelled,
            ..
        }
    ));
}

/// An appointment store that fails or races on demand, around the memory twin.
struct Flaky {
    inner: Arc<MemoryAppointmentStore>,
    fail_updates: Mutex<usize>,
    /// Before the next update, another writer changes the record first.
    race_next_update: Mutex<bool>,
}

#[async_trait]
impl AppointmentStore for Flaky {
    async fn hold_slot(&self, c: &CompanyId, hold: &SlotHold, now: DateTime<Utc>) -> Result<HoldOutcome, StoreError> {
        self.inner.hold_slot(c, hold, now).await
    }
    async fn release_slot(
        &self,
        c: &CompanyId,
        key: &str,
        start: DateTime<Utc>,
        owner: &CallId,
    ) -> Result<(), StoreError> {
        self.inner.release_slot(c, key, start, owner).await
    }
    async fn claim_operation(
        &self,
        key: &OperationKey,
        now: DateTime<Utc>,
        lease: DateTime<Utc>,
    ) -> Result<OperationClaim, StoreError> {
        self.inner.claim_operation(key, now, lease).await
    }
    async fn complete_operation(&self, key: &OperationKey, answer: &serde_json::Value) -> Result<(), StoreError> {
        self.inner.complete_operation(key, answer).await
    }
    async fn release_operation(&self, key: &OperationKey) -> Result<(), StoreError> {
        self.inner.release_operation(key).await
    }
    async fn create_appointment(&self, a: &Appointment) -> Result<(), StoreError> {
        self.inner.create_appointment(a).await
    }
    async fn update_appointment(&self, a: &Appointment, expected: u64) -> Result<bool, StoreError> {
        {
            let mut fails = self.fail_updates.lock().unwrap();
            if *fails > 0 {
                *fails -= 1;
                return Err(StoreError::unavailable("update appointment", "throttled"));
            }
        }
        let race = std::mem::take(&mut *self.race_next_update.lock().unwrap());
        if race && let Some(mut other) = self.inner.appointment(&a.company_id, &a.appointment_id).await? {
            // Another writer: the customer's e-mail corrected meanwhile.
            let version = other.version;
            other.customer.email = Some("jw@example.de".into());
            assert!(self.inner.update_appointment(&other, version).await?);
        }
        self.inner.update_appointment(a, expected).await
    }
    async fn appointment(&self, c: &CompanyId, id: &AppointmentId) -> Result<Option<Appointment>, StoreError> {
        self.inner.appointment(c, id).await
    }
    async fn appointment_by_uid(&self, c: &CompanyId, uid: &str) -> Result<Option<Appointment>, StoreError> {
        self.inner.appointment_by_uid(c, uid).await
    }
    async fn upcoming_by_phone(
        &self,
        c: &CompanyId,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        self.inner.upcoming_by_phone(c, phone, now).await
    }
    async fn appointments_between(
        &self,
        c: &CompanyId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        self.inner.appointments_between(c, from, to).await
    }
    async fn record_call_outcome(
        &self,
        c: &CompanyId,
        id: &AppointmentId,
        call: &CallId,
        outcome: &gateway_domain::appointments::record::CallOutcome,
    ) -> Result<bool, StoreError> {
        self.inner.record_call_outcome(c, id, call, outcome).await
    }
}

fn flaky_world() -> (World, Arc<Flaky>) {
    let memory = Arc::new(MemoryAppointmentStore::default());
    let flaky = Arc::new(Flaky {
        inner: memory.clone(),
        fail_updates: Mutex::new(0),
        race_next_update: Mutex::new(false),
    });
    let calendar = Arc::new(MemoryCalendar::default());
    let w = world_with(
        flaky.clone(),
        memory,
        Arc::new(gateway_testkit::appointments::OneCalendar(calendar)),
        true,
    );
    (w, flaky)
}

#[tokio::test]
async fn a_failed_write_takes_its_receipt_back_so_the_delivery_can_come_again() {
    let (w, flaky) = flaky_world();
    let booked = w.book("call_1", thursday(10)).await;
    let cancelled = hook(
        "BOOKING_CANCELLED",
        &booked.backend_uid,
        None,
        thursday(10),
        "2026-12-01T09:30:00.000Z",
    );
    *flaky.fail_updates.lock().unwrap() = 1;
    let err = w.sync.apply(&praxis(), w.setup(), &cancelled).await;
    assert!(err.as_ref().is_err_and(StoreError::is_retryable), "{err:?}");
    assert!(w.sync_store.receipts().is_empty(), "the receipt was taken back");
    assert!(matches!(w.apply(&cancelled).await, SyncOutcome::Updated { .. }));
    assert_eq!(w.sync_store.receipts().len(), 1);
}

#[tokio::test]
async fn a_race_with_another_writer_is_read_again_and_applied_on_top() {
    let (w, flaky) = flaky_world();
    let booked = w.book("call_1", thursday(10)).await;
    *flaky.race_next_update.lock().unwrap() = true;
    let moved = hook(
        "BOOKING_RESCHEDULED",
        "cal-new",
        Some(&booked.backend_uid),
        thursday(16),
        "2026-12-01T09:40:00.000Z",
    );
    assert!(matches!(w.apply(&moved).await, SyncOutcome::Updated { .. }));
    let end = w.stored(&booked.appointment_id).await;
    assert_eq!(
        end.customer.email.as_deref(),
        Some("jw@example.de"),
        "the other writer's change kept"
    );
    assert_eq!((end.backend_uid.as_str(), end.start), ("cal-new", thursday(16)));
    assert_eq!(end.version, booked.version + 2);
    assert_eq!(staff_entries(&end), 1);
}

#[tokio::test]
async fn the_memory_calendar_sync_store_keeps_its_contract() {
    let store = MemoryCalendarSync::default();
    gateway_testkit::calendar_sync_contract::run_all(&store, &store, &praxis(), "mem").await;
}
