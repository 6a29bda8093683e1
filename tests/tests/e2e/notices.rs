//! Appointment notices end to end: the booking engine writes changes (and their notices) to
//! DynamoDB on the emulator, the hand-off and the real sweep put them on the delivery queue, the
//! real deliver handler sends the caller's confirmation through the emulator's SES as raw MIME
//! (read back and parsed with Python's `email` and `icalendar`, not our code) and signs the
//! company's webhook; a webhook that keeps failing is dead-lettered and the real alert handler
//! tells the admins once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use gateway_domain::appointments::backend::Attendee;
use gateway_domain::appointments::engine::{
    BookOutcome, BookRequest, Caller, CancelOutcome, Engine, EnginePorts, EngineSettings, MoveOutcome,
};
use gateway_domain::appointments::record::Appointment;
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::ServiceId;
use gateway_domain::notices::{HandoffOutcome, NoticeRef, NoticeStatus, NoticeStore};
use gateway_domain::tenancy::{Tenant, TenantSpec};
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use gateway_testkit::appointments::{MemoryCalendar, OneCalendar};
use gateway_testkit::memory::FixedClock;
use serde_json::{Value, json};

const SECRET: &str = "whsec_cHJheGlzLWUyZS13ZWJob29rLXNlY3JldC0zMmJ5dGVz";
const PRAXIS: &str = "praxis-lister-platz";
const CALLER: &str = "+4951112345678";

/// The practice, its e-mail output and a CRM webhook at this stack's sink told of every change,
/// mail addresses unique to this test (the emulator's SES is shared).
fn praxis(s: &Stack) -> TenantSpec {
    let doc = format!(
        r#"
company:
  company_id: {PRAXIS}
  name: Physiotherapie am Lister Platz
  mode: appointment
  admin_emails: [leitung+{p}@physio-lister-platz.example]
categories:
- {{slug: rueckruf, name: Rückrufbitte, is_default: true, output: empfang}}
outputs:
- id: empfang
  type: email
  email: {{recipients: [empfang+{p}@physio-lister-platz.example]}}
- id: crm
  type: webhook
  webhook: {{url: '{url}', secret: {SECRET}}}
appointments:
  calcom: {{api_key: cal_test_e2e}}
  branches:
  - id: lister-platz
    name: Physiotherapie am Lister Platz
    address: Lister Platz 3, 30163 Hannover
    time_zone: Europe/Berlin
    opening_hours: {{mon: ["00:00-23:30"], tue: ["00:00-23:30"], wed: ["00:00-23:30"], thu: ["00:00-23:30"], fri: ["00:00-23:30"], sat: ["00:00-23:30"], sun: ["00:00-23:30"]}}
  services:
  - {{id: erstbefund, name: Erstbefund und Beratung, duration_minutes: 30, min_notice_minutes: 60, horizon_days: 366, calendar: {{calcom: {{event_type_id: 1480231}}}}}}
  policy: {{cancel_notice_hours: 12, reschedule_notice_hours: 24}}
  notifications: {{outputs: [empfang, crm], organizer_email: termine@physio-lister-platz.example}}
"#,
        p = s.prefix,
        url = s.sink.url("/termine"),
    );
    serde_norway::from_str(&doc).expect("the practice's document")
}

fn caller_email(s: &Stack) -> String {
    format!("jonas+{}@example.org", s.prefix)
}

struct Booking {
    engine: Engine,
    tenant: Tenant,
}

/// The engine on this stack's DynamoDB with an in-memory calendar, its clock at `now`.
async fn booking(s: &Stack, now: DateTime<Utc>) -> Booking {
    let spec = praxis(s);
    s.store.apply_spec(&spec).await.expect("apply the practice");
    Booking {
        engine: Engine::new(
            EnginePorts {
                calendars: Arc::new(OneCalendar(Arc::new(MemoryCalendar::default()))),
                store: Arc::new(s.store.clone()),
                clock: Arc::new(FixedClock::new(now)),
            },
            EngineSettings::default(),
        ),
        tenant: spec.tenant().expect("a valid tenant"),
    }
}

impl Booking {
    fn caller<'a>(&'a self, call: &'a CallId) -> Caller<'a> {
        Caller {
            tenant: &self.tenant,
            call_id: call,
            phone: Some(CALLER),
        }
    }

    async fn book(&self, s: &Stack, start: DateTime<Utc>) -> Appointment {
        let call = call_id("call_notice_book");
        let request = BookRequest {
            service: ServiceId::new("erstbefund"),
            staff: None,
            start,
            attendee: Attendee {
                name: "Jonas Weber".into(),
                phone: Some(CALLER.into()),
                email: Some(caller_email(s)),
                language: "de".into(),
            },
        };
        match self.engine.book(&self.caller(&call), &request, Deadline::none()).await {
            Ok(BookOutcome::Booked { appointment, .. }) => *appointment,
            other => panic!("not booked: {other:?}"),
        }
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn notice(a: &Appointment, change: u32) -> NoticeRef {
    NoticeRef {
        company_id: a.company_id.clone(),
        appointment_id: a.appointment_id.clone(),
        change,
    }
}

/// The caller's confirmations, parsed by the independent reader.
async fn confirmations(s: &Stack) -> Vec<Value> {
    s.raw_emails_to(&caller_email(s))
        .await
        .iter()
        .map(|raw| read_invitation(raw))
        .collect()
}

/// What the reader says a date-time is in UTC, checked both ways it can tell.
fn instant(calendar: &Value, name: &str) -> String {
    let prop = &calendar[name];
    if prop["tzid"].is_string() {
        assert_eq!(
            prop["utc_by_vtimezone"], prop["utc"],
            "{name}: the message's own VTIMEZONE gives another instant than the zone database"
        );
    }
    prop["utc"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_callers_calendar_entry_is_right_on_both_sides_of_dst_and_sent_once_per_change() {
    let s = stack_with(&[]).await;
    // 2026-10-20: five days before Berlin goes back from CEST to CET.
    let b = booking(&s, utc(2026, 10, 20, 9, 0)).await;
    // 01:30 UTC on 2026-10-25 is the *second* 02:30 of that night (CET).
    let booked = b.book(&s, utc(2026, 10, 25, 1, 30)).await;

    // A request that put the notice on the queue and died before marking it; the real sweep
    // then finds it and puts it on the queue again: two messages for one change.
    let handoff = s.notice_handoff();
    handoff.queue.enqueue_notice(&notice(&booked, 0)).await.unwrap();
    let swept = s.sweep.sweep().await.expect("the sweep runs");
    assert_eq!((swept.notices.pending, swept.notices.handed_off), (1, 1), "{swept:?}");
    assert_eq!(s.counts(&s.resources.delivery_queue_url).await.0, 2);
    s.deliver_all().await;
    // And the same message received once more, later.
    handoff.queue.enqueue_notice(&notice(&booked, 0)).await.unwrap();
    s.deliver_all().await;
    let mails = confirmations(&s).await;
    assert_eq!(mails.len(), 1, "one e-mail for the booking: {mails:#?}");

    let first = &mails[0];
    assert_eq!(
        first["subject"],
        "Ihr Termin ist bestätigt: Erstbefund und Beratung am Sonntag, 25. Oktober 2026, 2:30 Uhr"
    );
    assert_eq!(first["content_type"], "multipart/mixed");
    let kinds: Vec<&str> = first["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["content_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["text/plain", "text/html", "text/calendar"]);
    let ics_part = &first["parts"][2];
    assert_eq!(
        (&ics_part["method"], &ics_part["filename"], &ics_part["disposition"]),
        (&json!("REQUEST"), &json!("termin.ics"), &json!("attachment"))
    );
    assert!(first["text"].as_str().unwrap().contains("Ihr Termin ist bestätigt."));
    assert!(first["html"].as_str().unwrap().contains("Ihr Termin ist bestätigt."));
    let cal = &first["calendar"];
    assert_eq!(cal["method"], "REQUEST");
    assert_eq!(cal["sequence"], 0);
    assert_eq!(cal["status"], "CONFIRMED");
    assert_eq!(
        instant(cal, "dtstart"),
        "2026-10-25T01:30:00+00:00",
        "the second 02:30, not the first"
    );
    assert_eq!(instant(cal, "dtend"), "2026-10-25T02:00:00+00:00");
    assert_eq!(cal["vtimezones"], json!(["Europe/Berlin"]));
    assert_eq!(cal["organizer"], "mailto:termine@physio-lister-platz.example");
    assert_eq!(cal["attendee"], format!("mailto:{}", caller_email(&s)));
    let uid = cal["uid"].as_str().unwrap().to_string();
    assert_eq!(uid, format!("{}@service-gateway", booked.appointment_id));

    // Moved across the spring change: 01:30 UTC on 2027-03-28 is 03:30 CEST.
    let call = call_id("call_notice_move");
    let moved = match b
        .engine
        .confirm_move(
            &b.caller(&call),
            &booked.appointment_id,
            utc(2027, 3, 28, 1, 30),
            "",
            Deadline::none(),
        )
        .await
        .unwrap()
    {
        MoveOutcome::Moved { appointment, .. } => *appointment,
        other => panic!("not moved: {other:?}"),
    };
    assert!(matches!(
        s.notice_handoff().after_change(&moved).await,
        HandoffOutcome::HandedOff(_)
    ));
    s.deliver_all().await;
    let call = call_id("call_notice_cancel");
    let cancelled = match b
        .engine
        .cancel(&b.caller(&call), &booked.appointment_id, "krank", Deadline::none())
        .await
        .unwrap()
    {
        CancelOutcome::Cancelled { appointment, .. } => *appointment,
        other => panic!("not cancelled: {other:?}"),
    };
    assert!(matches!(
        s.notice_handoff().after_change(&cancelled).await,
        HandoffOutcome::HandedOff(_)
    ));
    // The hand-off again (a retried tool call): still one e-mail per change.
    s.notice_handoff().after_change(&cancelled).await;
    s.deliver_all().await;

    let mails = confirmations(&s).await;
    assert_eq!(mails.len(), 3, "booked, moved, cancelled: one each");
    let (move_cal, cancel_cal) = (&mails[1]["calendar"], &mails[2]["calendar"]);
    assert_eq!(
        mails[1]["subject"],
        "Ihr Termin wurde verschoben: Erstbefund und Beratung jetzt am Sonntag, 28. März 2027, 3:30 Uhr"
    );
    assert_eq!(
        (&move_cal["method"], &move_cal["sequence"]),
        (&json!("REQUEST"), &json!(1))
    );
    assert_eq!(move_cal["dtstart"]["tzid"], "Europe/Berlin");
    assert_eq!(instant(move_cal, "dtstart"), "2027-03-28T01:30:00+00:00");
    assert_eq!(instant(move_cal, "dtend"), "2027-03-28T02:00:00+00:00");
    assert_eq!(
        mails[2]["subject"],
        "Ihr Termin wurde abgesagt: Erstbefund und Beratung am Sonntag, 28. März 2027, 3:30 Uhr"
    );
    assert_eq!(mails[2]["parts"][2]["method"], "CANCEL");
    assert_eq!(
        (&cancel_cal["method"], &cancel_cal["status"], &cancel_cal["sequence"]),
        (&json!("CANCEL"), &json!("CANCELLED"), &json!(2))
    );
    assert_eq!(instant(cancel_cal, "dtstart"), "2027-03-28T01:30:00+00:00");
    for cal in [move_cal, cancel_cal] {
        assert_eq!(
            cal["uid"],
            uid.as_str(),
            "the same calendar entry is updated, then removed"
        );
    }
    for change in 0..3 {
        let stored = s.store.notice(&notice(&booked, change)).await.unwrap().unwrap();
        assert_eq!(stored.state.status, NoticeStatus::Sent, "change {change}");
    }
    // The company was told of each change once, by e-mail and webhook.
    let desk = s.sent_emails().await;
    let desk: Vec<&Value> = desk
        .iter()
        .filter(|m| {
            m["destinations"]
                .to_string()
                .contains(&format!("empfang+{}@", s.prefix))
        })
        .collect();
    assert_eq!(desk.len(), 3);
    let events: Vec<String> = s
        .sink
        .received()
        .iter()
        .map(|r| r.headers["x-event"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"]
    );
}

#[tokio::test]
async fn the_company_webhook_receives_a_signed_appointment_booked() {
    let s = stack_with(&[]).await;
    s.sink.script(&[(200, r#"{"ok": true}"#)]);
    let b = booking(&s, utc(2026, 12, 1, 9, 0)).await;
    let booked = b.book(&s, utc(2026, 12, 8, 13, 30)).await;
    assert_eq!(
        s.notice_handoff().after_change(&booked).await,
        HandoffOutcome::HandedOff(notice(&booked, 0))
    );
    assert_eq!(s.run_deliver_once(5).await, (1, 0));

    let received = s.sink.received();
    assert_eq!(received.len(), 1);
    let hook = &received[0];
    standardwebhooks::Webhook::new(SECRET)
        .unwrap()
        .verify(&hook.body, &hook.headers)
        .expect("an independent implementation accepts the signature");
    assert_eq!(
        hook.headers["x-signature"],
        gateway_domain::delivery::webhook::legacy_signature(SECRET, &hook.body).as_str()
    );
    assert_eq!(hook.headers["x-event"], "appointment.booked");
    assert_eq!(
        hook.headers["webhook-id"],
        format!("msg_appt_{}_0", booked.appointment_id).as_str()
    );
    let payload: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(payload["event"], "appointment.booked");
    assert_eq!(
        payload["company"],
        json!({"id": PRAXIS, "name": "Physiotherapie am Lister Platz"})
    );
    let a = &payload["appointment"];
    assert_eq!(a["id"], booked.appointment_id.as_str());
    assert_eq!(a["service"]["name"], "Erstbefund und Beratung");
    assert_eq!(a["branch"]["address"], "Lister Platz 3, 30163 Hannover");
    assert_eq!(
        a["customer"],
        json!({"name": "Jonas Weber", "phone": CALLER, "email": caller_email(&s)})
    );
    assert_eq!(
        a["start"],
        json!({"utc": "2026-12-08T13:30:00Z", "local": "2026-12-08T14:30:00+01:00", "time_zone": "Europe/Berlin"})
    );
    assert_eq!(a["status"], "booked");
    assert_eq!(a["call_id"], "call_notice_book");
    assert!(a["previous_start"].is_null());

    // Every attempt is in the appointment's own exchange log, none in a case's.
    let log = s
        .store
        .appointment_log(&company_id(PRAXIS), &booked.appointment_id)
        .await
        .unwrap();
    let operations: Vec<&str> = log.iter().map(|e| e["operation"].as_str().unwrap()).collect();
    assert_eq!(
        operations.iter().filter(|o| **o == "notice-webhook").count(),
        1,
        "{operations:?}"
    );
    assert!(operations.contains(&"notice-confirmation") && operations.contains(&"notice-email"));
    assert!(
        !serde_json::to_string(&log).unwrap().contains(&SECRET[6..20]),
        "no secret in the log"
    );
}

#[tokio::test]
async fn a_failing_webhook_is_retried_then_dead_lettered_and_the_admins_are_alerted_once() {
    let s = stack_with(&[]).await;
    s.sink.script(&[(500, r#"{"error": "crm down"}"#)]);
    let b = booking(&s, utc(2026, 12, 1, 9, 0)).await;
    let booked = b.book(&s, utc(2026, 12, 8, 13, 30)).await;
    s.notice_handoff().after_change(&booked).await;

    let mut attempts = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.counts(&s.resources.delivery_dlq_url).await.0 == 0 {
        assert!(Instant::now() < deadline, "never dead-lettered");
        let (received, failed) = s.run_deliver_once(2).await;
        if received > 0 {
            assert_eq!(failed, 1);
            attempts += 1;
        }
    }
    assert_eq!(attempts, 3, "the backoff's three attempts");
    assert_eq!(s.sink.received().len(), 3);
    assert_eq!(
        confirmations(&s).await.len(),
        1,
        "the caller's e-mail went out on the first attempt only"
    );
    let stored = s.store.notice(&notice(&booked, 0)).await.unwrap().unwrap();
    assert_eq!(stored.state.status, NoticeStatus::Pending);
    assert!(stored.state.last_error.as_deref().unwrap().contains("HTTP 500"));

    assert_eq!(s.run_alert_once(2).await, (1, 0));
    let stored = s.store.notice(&notice(&booked, 0)).await.unwrap().unwrap();
    assert_eq!(stored.state.status, NoticeStatus::Failed);
    let admin = format!("leitung+{}@", s.prefix);
    let alerts = |mails: Vec<Value>| {
        mails
            .into_iter()
            .filter(|m| m["destinations"].to_string().contains(&admin))
            .collect::<Vec<_>>()
    };
    let sent = alerts(s.sent_emails().await);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["subject"],
        "[ALERT] Terminbenachrichtigung nicht zugestellt: Termin gebucht, Erstbefund und Beratung"
    );
    // The dead letter once more: no second alert.
    let body = serde_json::to_string(&gateway_domain::notices::NoticeMessage::from(&notice(&booked, 0))).unwrap();
    s.sqs
        .send_message()
        .queue_url(&s.resources.delivery_dlq_url)
        .message_body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(s.run_alert_once(2).await, (1, 0));
    assert_eq!(alerts(s.sent_emails().await).len(), 1);
    let log = s
        .store
        .appointment_log(&company_id(PRAXIS), &booked.appointment_id)
        .await
        .unwrap();
    assert!(log.iter().any(|e| e["operation"] == "notice-final-failure"));
}
