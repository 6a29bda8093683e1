//! The booking engine against in-memory twins: availability from one fetch, idempotent bookings,
//! one booking out of twenty racing callers, "taken" answers with fresh alternatives, a breaker
//! that only backend failures open, identity and notice rules for cancelling and moving.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use gateway_domain::appointments::alternatives::Outcome;
use gateway_domain::appointments::backend::{Attendee, BackendError};
use gateway_domain::appointments::engine::{
    BookOutcome, BookRequest, Caller, CancelOutcome, Engine, EngineError, EnginePorts, EngineSettings, MoveOutcome,
    MoveProposal, Refusal,
};
use gateway_domain::appointments::record::AppointmentStatus;
use gateway_domain::appointments::speech::parse::{TimeWish, Wish};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{CallId, ServiceId};
use gateway_domain::tenancy::{Tenant, TenantSpec};
use gateway_testkit::appointments::{MemoryAppointmentStore, MemoryCalendar, OneCalendar};
use gateway_testkit::memory::FixedClock;

const SETUP: &str = r#"
company: {company_id: praxis, name: Praxis am Platz, mode: appointment}
appointments:
  calcom: {api_key: cal_test_engine}
  branches:
  - id: hannover
    name: Praxis Hannover
    time_zone: Europe/Berlin
    opening_hours: {mon: ["09:00-12:00", "13:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-15:00"]}
  services:
  - id: beratung
    name: Beratung
    duration_minutes: 30
    min_notice_minutes: 60
    horizon_days: 60
    calendar: {calcom: {event_type_id: 1}}
  policy:
    cancel_notice_hours: 24
    reschedule_notice_hours: 12
    fees: [{within_hours: 48, fee_eur: 10}, {within_hours: 36, fee_eur: 15}]
"#;

struct World {
    engine: Arc<Engine>,
    tenant: Tenant,
    calendar: Arc<MemoryCalendar>,
    store: Arc<MemoryAppointmentStore>,
    clock: Arc<FixedClock>,
}

/// Tuesday 2026-12-01 10:00 in Hannover.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

fn world() -> World {
    let spec: TenantSpec = serde_norway::from_str(SETUP).unwrap();
    let tenant = spec.tenant().unwrap();
    let calendar = Arc::new(MemoryCalendar::default());
    let store = Arc::new(MemoryAppointmentStore::default());
    let clock = Arc::new(FixedClock::new(now()));
    let engine = Arc::new(Engine::new(
        EnginePorts {
            calendars: Arc::new(OneCalendar(calendar.clone())),
            store: store.clone(),
            clock: clock.clone(),
        },
        EngineSettings::default(),
    ));
    World {
        engine,
        tenant,
        calendar,
        store,
        clock,
    }
}

fn beratung() -> ServiceId {
    ServiceId::new("beratung")
}

fn caller<'a>(w: &'a World, call: &'a CallId, phone: &'a str) -> Caller<'a> {
    Caller {
        tenant: &w.tenant,
        call_id: call,
        phone: Some(phone),
    }
}

fn attendee(phone: &str) -> Attendee {
    Attendee {
        name: "Jonas Weber".into(),
        phone: Some(phone.into()),
        email: None,
        language: "de".into(),
    }
}

/// Thursday 2026-12-03 at `h:m` Berlin (UTC+1).
fn thursday(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, h - 1, m, 0).unwrap()
}

fn wish(date: NaiveDate, h: u32, m: u32) -> Wish {
    Wish {
        date,
        time: TimeWish::Exact(NaiveTime::from_hms_opt(h, m, 0).unwrap()),
    }
}

fn thu() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
}

async fn book(w: &World, call: &str, phone: &str, start: DateTime<Utc>) -> BookOutcome {
    let call = CallId::new(call);
    w.engine
        .book(
            &caller(w, &call, phone),
            &BookRequest {
                service: beratung(),
                staff: None,
                start,
                attendee: attendee(phone),
            },
            Deadline::none(),
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn availability_costs_one_fetch_and_a_taken_wish_gets_alternatives() {
    let w = world();
    let call = CallId::new("call_a");
    let c = caller(&w, &call, "+4951111111");
    let answer = w
        .engine
        .availability(&c, &beratung(), None, &wish(thu(), 14, 0), Deadline::none())
        .await
        .unwrap();
    assert!(matches!(answer.outcome, Outcome::Available { .. }), "{answer:?}");
    assert_eq!(
        w.calendar.count("free_slots"),
        1,
        "one calendar request per availability check"
    );
    assert!(matches!(
        book(&w, "call_b", "+4952222222", thursday(14, 0)).await,
        BookOutcome::Booked { .. }
    ));
    let answer = w
        .engine
        .availability(&c, &beratung(), None, &wish(thu(), 14, 0), Deadline::none())
        .await
        .unwrap();
    match &answer.outcome {
        Outcome::Alternatives { offers, .. } => {
            assert!((2..=3).contains(&offers.len()), "{offers:?}");
            assert!(offers.iter().all(|o| o.start != thursday(14, 0)));
            assert!(
                answer.message.contains("Uhr") || answer.message.contains("halb"),
                "{}",
                answer.message
            );
        }
        other => panic!("expected alternatives, got {other:?}"),
    }
    assert_eq!(
        w.calendar.count("free_slots"),
        2,
        "our own booking dropped the cached slots"
    );
}

#[tokio::test]
async fn the_same_tool_call_again_gets_the_same_booking_and_another_appointment_is_allowed() {
    let w = world();
    let first = book(&w, "call_1", "+4951111111", thursday(10, 0)).await;
    let again = book(&w, "call_1", "+4951111111", thursday(10, 0)).await;
    match (&first, &again) {
        (
            BookOutcome::Booked {
                appointment: a,
                repeated: false,
            },
            BookOutcome::Booked {
                appointment: b,
                repeated: true,
            },
        ) => assert_eq!(a, b),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.calendar.count("book"), 1, "a retried tool call never books twice");
    let second = book(&w, "call_1", "+4951111111", thursday(15, 0)).await;
    assert!(
        matches!(second, BookOutcome::Booked { repeated: false, .. }),
        "{second:?}"
    );
    assert_eq!(w.store.all(&w.tenant.config.company_id).len(), 2);
}

#[tokio::test]
async fn twenty_callers_racing_for_one_slot_make_one_booking_and_nineteen_sets_of_alternatives() {
    let w = Arc::new(world());
    *w.calendar.delay.lock().unwrap() = Duration::from_millis(20);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let w = w.clone();
            tokio::spawn(
                async move { book(&w, &format!("call_race_{i}"), &format!("+49511{i:07}"), thursday(11, 0)).await },
            )
        })
        .collect();
    let mut booked = 0;
    let mut alternatives = 0;
    for t in tasks {
        match t.await.unwrap() {
            BookOutcome::Booked { .. } => booked += 1,
            BookOutcome::Taken(answer) => {
                assert!(!answer.offers().is_empty(), "the answer carries fresh alternatives");
                assert!(answer.offers().iter().all(|o| o.start != thursday(11, 0)));
                alternatives += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((booked, alternatives), (1, 19));
    assert_eq!(w.calendar.bookings().len(), 1);
}

#[tokio::test]
async fn taken_answers_never_open_the_breaker_but_backend_failures_do() {
    let w = world();
    book(&w, "call_x", "+4951111111", thursday(9, 0)).await;
    for i in 0..8 {
        let outcome = book(&w, &format!("call_t{i}"), "+4952222222", thursday(9, 0)).await;
        assert!(matches!(outcome, BookOutcome::Taken(_)), "{outcome:?}");
    }
    let call = CallId::new("call_check");
    let c = caller(&w, &call, "+4953333333");
    assert!(
        w.engine
            .availability(&c, &beratung(), None, &wish(thu(), 16, 0), Deadline::none())
            .await
            .is_ok()
    );
    w.calendar
        .fail_next((0..5).map(|_| BackendError::Unavailable("HTTP 503".into())).collect());
    for day in 7..12 {
        let date = NaiveDate::from_ymd_opt(2026, 12, day).unwrap();
        let err = w
            .engine
            .availability(&c, &beratung(), None, &wish(date, 10, 0), Deadline::none())
            .await;
        assert!(matches!(err, Err(EngineError::Backend(_))), "{err:?}");
    }
    let date = NaiveDate::from_ymd_opt(2026, 12, 14).unwrap();
    let err = w
        .engine
        .availability(&c, &beratung(), None, &wish(date, 10, 0), Deadline::none())
        .await;
    assert!(matches!(err, Err(EngineError::BreakerOpen)), "{err:?}");
    w.clock.advance(chrono::Duration::seconds(31));
    assert!(
        w.engine
            .availability(&c, &beratung(), None, &wish(date, 10, 0), Deadline::none())
            .await
            .is_ok(),
        "after 30 s one trial call goes through and closes it"
    );
}

#[tokio::test]
async fn cancelling_needs_the_callers_own_number_and_enough_notice() {
    let w = world();
    let BookOutcome::Booked { appointment, .. } = book(&w, "call_b", "+4951111111", thursday(9, 30)).await else {
        panic!("not booked")
    };
    let id = appointment.appointment_id.clone();
    let call = CallId::new("call_c");
    let stranger = caller(&w, &call, "+4959999999");
    assert_eq!(
        w.engine.cancel(&stranger, &id, "", Deadline::none()).await.unwrap(),
        CancelOutcome::Refused(Refusal::NotTheirs)
    );
    let owner = caller(&w, &call, "+4951111111");
    // Thursday 9:30 is 47.5 h away: allowed, 10 € (within the 48 h tier, not the 36 h one).
    match w.engine.cancel(&owner, &id, "krank", Deadline::none()).await.unwrap() {
        CancelOutcome::Cancelled {
            appointment, fee_eur, ..
        } => {
            assert_eq!(appointment.status, AppointmentStatus::Cancelled);
            assert_eq!(fee_eur, Some(10.0));
        }
        other => panic!("{other:?}"),
    }
    assert!(w.calendar.bookings().is_empty());
    assert!(matches!(
        w.engine.cancel(&owner, &id, "", Deadline::none()).await.unwrap(),
        CancelOutcome::Cancelled { repeated: true, .. }
    ));
    // One booked for Wednesday 12:00 is 26 h away, past the 24 h notice… and tomorrow 9:00 is not.
    let BookOutcome::Booked { appointment, .. } = book(
        &w,
        "call_d",
        "+4951111111",
        Utc.with_ymd_and_hms(2026, 12, 2, 8, 0, 0).unwrap(),
    )
    .await
    else {
        panic!("not booked")
    };
    let call = CallId::new("call_e");
    let owner = caller(&w, &call, "+4951111111");
    assert!(matches!(
        w.engine
            .cancel(&owner, &appointment.appointment_id, "", Deadline::none())
            .await
            .unwrap(),
        CancelOutcome::Refused(Refusal::TooLate { notice_hours: 24, .. })
    ));
}

#[tokio::test]
async fn moving_is_proposed_then_confirmed_and_repeats_safely() {
    let w = world();
    let BookOutcome::Booked { appointment, .. } = book(&w, "call_b", "+4951111111", thursday(10, 0)).await else {
        panic!("not booked")
    };
    let id = appointment.appointment_id.clone();
    let call = CallId::new("call_m");
    let owner = caller(&w, &call, "+4951111111");
    let proposal = w
        .engine
        .propose_move(&owner, &id, &wish(thu(), 15, 30), Deadline::none())
        .await
        .unwrap();
    let MoveProposal::Possible { offer, .. } = proposal else {
        panic!("{proposal:?}")
    };
    assert_eq!(offer.start, thursday(15, 30));
    assert_eq!(w.calendar.count("reschedule"), 0, "proposing changes nothing");
    let moved = w
        .engine
        .confirm_move(&owner, &id, offer.start, "passt besser", Deadline::none())
        .await
        .unwrap();
    let MoveOutcome::Moved { appointment, .. } = moved else {
        panic!("{moved:?}")
    };
    assert_eq!(appointment.start, thursday(15, 30));
    assert_eq!(appointment.history.len(), 2);
    let again = w
        .engine
        .confirm_move(&owner, &id, offer.start, "", Deadline::none())
        .await
        .unwrap();
    assert!(matches!(again, MoveOutcome::Moved { repeated: true, .. }));
    assert_eq!(w.calendar.count("reschedule"), 1);
    let upcoming = w.engine.upcoming(&w.tenant, "+4951111111").await.unwrap();
    assert_eq!(upcoming.len(), 1);
    assert_eq!(upcoming[0].start, thursday(15, 30));
}

#[tokio::test]
async fn a_booking_across_the_dst_change_keeps_its_local_time() {
    let w = world();
    w.clock.set(Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).unwrap());
    let call = CallId::new("call_dst");
    let c = caller(&w, &call, "+4951111111");
    let monday = NaiveDate::from_ymd_opt(2026, 3, 30).unwrap();
    let answer = w
        .engine
        .availability(&c, &beratung(), None, &wish(monday, 9, 0), Deadline::none())
        .await
        .unwrap();
    let Outcome::Available { offer } = answer.outcome else {
        panic!("{answer:?}")
    };
    assert_eq!(
        offer.start,
        Utc.with_ymd_and_hms(2026, 3, 30, 7, 0, 0).unwrap(),
        "09:00 CEST is 07:00Z"
    );
    let BookOutcome::Booked { appointment, .. } = book(&w, "call_dst", "+4951111111", offer.start).await else {
        panic!("not booked")
    };
    assert_eq!(
        appointment.start.with_timezone(&chrono_tz::Europe::Berlin).time(),
        NaiveTime::from_hms_opt(9, 0, 0).unwrap()
    );
}
