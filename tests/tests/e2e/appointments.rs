//! The booking engine with its real parts: holds and appointments in DynamoDB on the emulator,
//! and the company's calendar behind the real adapters — the Cal.com stand-in at Cal.com's paths,
//! and a real Radicale CalDAV server (which itself lets two events share a time: the hold must).

use std::sync::Arc;

use calcom_standin::{EventType, Standin, WEEKDAYS};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use gateway_adapters::calendars::TenantCalendars;
use gateway_domain::appointments::alternatives::Outcome;
use gateway_domain::appointments::backend::Attendee;
use gateway_domain::appointments::engine::{BookOutcome, BookRequest, Caller, Engine, EnginePorts, EngineSettings};
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::appointments::speech::parse::{TimeWish, Wish};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::ServiceId;
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::{Tenant, TenantSpec};
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use gateway_testkit::memory::FixedClock;
use gateway_testkit::radicale::Radicale;

/// Tuesday 2026-12-01 10:00 in Hannover.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

/// Thursday 2026-12-03 at `h`:00 Berlin (UTC+1).
fn thursday(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, h - 1, 0, 0).unwrap()
}

fn tenant(calendar_yaml: &str, accounts_yaml: &str) -> Tenant {
    let doc = format!(
        r#"
company: {{company_id: {COMPANY}, name: Praxis, mode: appointment}}
appointments:
{accounts_yaml}
  branches:
  - id: hannover
    name: Praxis Hannover
    time_zone: Europe/Berlin
    opening_hours: {{mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"]}}
  services:
  - id: beratung
    name: Beratung
    duration_minutes: 30
    min_notice_minutes: 60
    horizon_days: 60
    calendar: {calendar_yaml}
"#
    );
    let spec: TenantSpec = serde_norway::from_str(&doc).expect("tenant document");
    spec.tenant().expect("a valid booking setup")
}

fn engine(s: &Stack, allow: &str) -> Arc<Engine> {
    Arc::new(Engine::new(
        EnginePorts {
            calendars: Arc::new(TenantCalendars::new(UrlPolicy::local(vec![allow.to_string()]))),
            store: Arc::new(s.store.clone()),
            clock: Arc::new(FixedClock::new(now())),
        },
        EngineSettings::default(),
    ))
}

fn request(start: DateTime<Utc>, phone: &str) -> BookRequest {
    BookRequest {
        service: ServiceId::new("beratung"),
        staff: None,
        start,
        attendee: Attendee {
            name: format!("Anrufer {phone}"),
            phone: Some(phone.into()),
            email: None,
            language: "de".into(),
        },
    }
}

/// Twenty callers ask for one slot at once; `bookings` counts what the calendar holds afterwards.
async fn race(engine: &Arc<Engine>, tenant: &Arc<Tenant>, start: DateTime<Utc>) -> (usize, usize) {
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let (engine, tenant) = (engine.clone(), tenant.clone());
            tokio::spawn(async move {
                let call = call_id(&format!("call_race_{i}"));
                let phone = format!("+4951100000{i:02}");
                let caller = Caller {
                    tenant: &tenant,
                    call_id: &call,
                    phone: Some(&phone),
                };
                engine.book(&caller, &request(start, &phone), Deadline::none()).await
            })
        })
        .collect();
    let (mut booked, mut alternatives) = (0, 0);
    for t in tasks {
        match t.await.unwrap().expect("no engine error under the race") {
            BookOutcome::Booked { .. } => booked += 1,
            BookOutcome::Taken(answer) => {
                assert!(!answer.offers().is_empty(), "fresh alternatives in the same answer");
                assert!(answer.offers().iter().all(|o| o.start != start));
                alternatives += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    (booked, alternatives)
}

#[tokio::test]
async fn calcom_one_booking_out_of_twenty_and_a_repeated_tool_call_books_nothing_more() {
    let s = stack_with(&[]).await;
    let cal = Standin::start(
        calcom_standin::Config::default().with_now(now()).with_event_type(
            EventType::new(1001, "beratung", 30)
                .in_zone("Europe/Berlin")
                .with_hours(&WEEKDAYS, (9, 0), (17, 0))
                .with_notice(60)
                .with_horizon_days(60),
        ),
    )
    .await
    .expect("the Cal.com stand-in");
    let tenant = Arc::new(tenant(
        "{calcom: {event_type_id: 1001}}",
        &format!("  calcom: {{api_key: cal_test_race, base_url: '{}'}}", cal.base_url()),
    ));
    let engine = engine(&s, &cal.addr().to_string());

    let call = call_id("call_check");
    let caller = Caller {
        tenant: &tenant,
        call_id: &call,
        phone: Some("+4951199999999"),
    };
    let wish = Wish {
        date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
        time: TimeWish::Exact(NaiveTime::from_hms_opt(10, 0, 0).unwrap()),
    };
    let answer = engine
        .availability(&caller, &ServiceId::new("beratung"), None, &wish, Deadline::none())
        .await
        .unwrap();
    assert!(matches!(answer.outcome, Outcome::Available { .. }), "{answer:?}");
    assert_eq!(
        cal.count_requests("GET", "/v2/slots"),
        1,
        "one calendar request per availability check"
    );

    assert_eq!(race(&engine, &tenant, thursday(10)).await, (1, 19));
    let live: Vec<_> = cal
        .bookings()
        .into_iter()
        .filter(|b| b.status == calcom_standin::BookingStatus::Accepted)
        .collect();
    assert_eq!(live.len(), 1, "exactly one booking in Cal.com");

    let first = call_id("call_repeat");
    let caller = Caller {
        tenant: &tenant,
        call_id: &first,
        phone: Some("+4951177777777"),
    };
    let posts_before = cal.count_requests("POST", "/v2/bookings");
    let a = engine
        .book(&caller, &request(thursday(14), "+4951177777777"), Deadline::none())
        .await
        .unwrap();
    let b = engine
        .book(&caller, &request(thursday(14), "+4951177777777"), Deadline::none())
        .await
        .unwrap();
    match (a, b) {
        (
            BookOutcome::Booked { appointment: x, .. },
            BookOutcome::Booked {
                appointment: y,
                repeated: true,
            },
        ) => {
            assert_eq!(x.appointment_id, y.appointment_id);
            assert_eq!(x.backend_uid, y.backend_uid);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cal.count_requests("POST", "/v2/bookings") - posts_before,
        1,
        "the retry books nothing"
    );
    let stored = s
        .store
        .upcoming_by_phone(&company_id(COMPANY), "+4951177777777", now())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let events = s.store.call_events(Some(&company_id(COMPANY)), &first).await.unwrap();
    assert!(
        events.iter().any(|e| e.event == "appointment.booked"),
        "the call's audit trail shows the booking: {events:?}"
    );
}

#[tokio::test]
async fn caldav_one_booking_out_of_twenty_although_the_server_would_take_all() {
    let s = stack_with(&[]).await;
    let radicale = tokio::task::spawn_blocking(Radicale::start).await.unwrap();
    let tenant = Arc::new(tenant(
        &format!("{{caldav: {{calendar: '{}'}}}}", radicale.calendar_path()),
        &format!(
            "  caldav: {{base_url: '{}', username: {}, password: {}}}",
            radicale.base_url(),
            radicale.username(),
            radicale.password()
        ),
    ));
    let engine = engine(&s, &radicale.host_port());
    assert_eq!(race(&engine, &tenant, thursday(11)).await, (1, 19));
    let (status, body) = radicale.request(
        "REPORT",
        &radicale.calendar_path(),
        &[("Depth", "1"), ("Content-Type", "application/xml")],
        r#"<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>"#,
    );
    assert_eq!(status, 207);
    assert_eq!(
        body.matches("BEGIN:VEVENT").count(),
        1,
        "exactly one event in the calendar: {body}"
    );
}
