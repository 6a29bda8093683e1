//! Cal.com webhooks end to end: the Cal.com stand-in sends real signed webhooks (awaited before
//! it answers, as Cal.com does) to `POST /webhooks/calcom/{company}` served over HTTP; the
//! tenant (with its webhook secret), the appointments, receipts and change marks live in DynamoDB
//! on the emulator. A staff move and cancellation made in "Cal.com's web app" follow in our
//! record and drop the cached slots (the next availability check asks Cal.com again); a replayed
//! delivery changes nothing; a tampered one is a 401; our own booking, move and cancellation
//! coming back mid-call are not taken for staff changes.

use std::sync::Arc;

use calcom_standin::{Delivery, EventType, Running, Standin, WEEKDAYS};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use gateway_adapters::calendars::TenantCalendars;
use gateway_domain::appointments::backend::Attendee;
use gateway_domain::appointments::engine::{
    BookOutcome, BookRequest, Caller, CancelOutcome, Engine, EnginePorts, EngineSettings, MoveOutcome,
};
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::appointments::record::{Appointment, AppointmentStatus, ChangeKind, ChangedBy};
use gateway_domain::appointments::speech::parse::{TimeWish, Wish};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{CallId, ServiceId};
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::{ConfigStore, Tenant, TenantSpec};
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use gateway_testkit::memory::FixedClock;
use serde_json::{Value, json};

use ingest::calcom_webhook;

const PRAXIS: &str = "praxis-sync";
const SECRET: &str = "whsec_e2e_praxis_sync_0123456789";

/// Tuesday 2026-12-01 10:00 in Hannover.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

/// Thursday 2026-12-03 at `h`:00 Berlin (UTC+1).
fn thursday(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, h - 1, 0, 0).unwrap()
}

fn spec(base_url: &str, secret: Option<&str>, company: &str) -> TenantSpec {
    let secret = secret.map(|s| format!(", webhook_secret: {s}")).unwrap_or_default();
    let doc = format!(
        r#"
company: {{company_id: {company}, name: Praxis, mode: appointment}}
appointments:
  calcom: {{api_key: cal_test_sync, base_url: '{base_url}'{secret}}}
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
    calendar: {{calcom: {{event_type_id: 1001}}}}
"#
    );
    serde_norway::from_str(&doc).expect("tenant document")
}

/// Everything of one test: the stack, the stand-in, the engine and the webhook route on HTTP.
struct Sync {
    s: Stack,
    cal: Running,
    engine: Arc<Engine>,
    tenant: Tenant,
    /// `http://127.0.0.1:port` of the webhook route's server.
    base: String,
    http: reqwest::Client,
}

async fn sync() -> Sync {
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
    let s = stack_with(&[
        spec(&cal.base_url(), Some(SECRET), PRAXIS),
        spec(&cal.base_url(), None, "praxis-ohne-secret"),
    ])
    .await;
    let store = Arc::new(s.store.clone());
    let clock = Arc::new(FixedClock::new(now()));
    let engine = Arc::new(
        Engine::new(
            EnginePorts {
                calendars: Arc::new(TenantCalendars::new(UrlPolicy::local(vec![cal.addr().to_string()]))),
                store: store.clone(),
                clock: clock.clone(),
            },
            EngineSettings::default(),
        )
        .with_change_marks(store.clone()),
    );
    let hooks = Arc::new(calcom_webhook::CalcomHooks::new(calcom_webhook::CalcomHookPorts {
        config: store.clone(),
        store: store.clone(),
        receipts: store.clone(),
        marks: store,
        clock,
        slots: engine.clone(),
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router: axum::Router = calcom_webhook::router(hooks);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    cal.set_webhook(&format!("{base}/webhooks/calcom/{PRAXIS}"), Some(SECRET));
    let tenant = s
        .store
        .tenant(&company_id(PRAXIS))
        .await
        .expect("tenant read")
        .expect("tenant stored");
    assert!(
        tenant
            .appointments
            .as_ref()
            .and_then(|a| a.calcom.as_ref())
            .and_then(|c| c.webhook_secret.as_deref())
            == Some(SECRET),
        "the webhook secret round-trips through DynamoDB"
    );
    Sync {
        s,
        cal,
        engine,
        tenant,
        base,
        http: reqwest::Client::new(),
    }
}

impl Sync {
    fn caller<'a>(&'a self, call: &'a CallId) -> Caller<'a> {
        Caller {
            tenant: &self.tenant,
            call_id: call,
            phone: Some("+4951177777777"),
        }
    }

    async fn book(&self, start: DateTime<Utc>) -> Appointment {
        let call = call_id("call_sync_book");
        let request = BookRequest {
            service: ServiceId::new("beratung"),
            staff: None,
            start,
            attendee: Attendee {
                name: "Jonas Weber".into(),
                phone: Some("+4951177777777".into()),
                email: None,
                language: "de".into(),
            },
        };
        match self
            .engine
            .book(&self.caller(&call), &request, Deadline::none())
            .await
            .expect("booked")
        {
            BookOutcome::Booked { appointment, .. } => *appointment,
            other => panic!("{other:?}"),
        }
    }

    async fn check_availability(&self) {
        let call = call_id("call_sync_check");
        let wish = Wish {
            date: NaiveDate::from_ymd_opt(2026, 12, 3).unwrap(),
            time: TimeWish::Exact(NaiveTime::from_hms_opt(11, 0, 0).unwrap()),
        };
        self.engine
            .availability(
                &self.caller(&call),
                &ServiceId::new("beratung"),
                None,
                &wish,
                Deadline::none(),
            )
            .await
            .expect("availability");
    }

    fn slot_requests(&self) -> usize {
        self.cal.count_requests("GET", "/v2/slots")
    }

    /// Our appointment as DynamoDB has it now.
    async fn stored(&self, appointment: &Appointment) -> Appointment {
        self.s
            .store
            .appointment(&company_id(PRAXIS), &appointment.appointment_id)
            .await
            .expect("read")
            .expect("stored")
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.cal.webhook_deliveries()
    }

    async fn post(&self, company: &str, body: &str, signature: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}/webhooks/calcom/{company}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(signature) = signature {
            request = request.header("x-cal-signature-256", signature);
        }
        let response = request.send().await.expect("webhook route reachable");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn staff_entries(a: &Appointment) -> Vec<ChangeKind> {
    a.history
        .iter()
        .filter(|c| c.by == ChangedBy::Staff)
        .map(|c| c.kind)
        .collect()
}

#[tokio::test]
async fn staff_changes_in_calcom_follow_in_dynamodb_replays_change_nothing_and_tampering_is_401() {
    let t = sync().await;
    let booked = t.book(thursday(10)).await;
    let created = t.deliveries();
    assert_eq!(created.len(), 1, "Cal.com told us of our booking before it answered");
    assert_eq!(
        (created[0].trigger.as_str(), created[0].status),
        ("BOOKING_CREATED", Some(200))
    );
    assert_eq!(
        t.stored(&booked).await,
        booked,
        "our own booking coming back changed nothing"
    );

    t.check_availability().await;
    t.check_availability().await;
    assert_eq!(t.slot_requests(), 1, "the second check was cached");

    // Staff move it in Cal.com's web app.
    let moved = t
        .cal
        .staff_reschedule(&booked.backend_uid, thursday(14))
        .await
        .expect("staff move");
    let after = t.stored(&booked).await;
    assert_eq!(after.backend_uid, moved.uid, "the new booking's uid");
    assert_eq!(
        (after.start, after.end),
        (thursday(14), thursday(14) + chrono::TimeDelta::minutes(30))
    );
    assert_eq!(after.status, AppointmentStatus::Booked);
    assert_eq!(after.version, booked.version + 1);
    assert_eq!(staff_entries(&after), [ChangeKind::Rescheduled]);
    assert_eq!(t.deliveries().last().and_then(|d| d.status), Some(200));
    t.check_availability().await;
    assert_eq!(t.slot_requests(), 2, "the webhook dropped the cached slots");

    // The same delivery again (Cal.com signs no timestamp: it verifies) changes nothing.
    let delivery = t.deliveries().last().cloned().expect("the move's delivery");
    let (status, answer) = t.post(PRAXIS, &delivery.body, Some(&delivery.signature)).await;
    assert_eq!((status, answer), (200, json!({"status": "duplicate"})));
    assert_eq!(t.stored(&booked).await, after, "no second change");

    // Tampered, or unsigned as Cal.com sends it without a secret: refused, nothing changed.
    let tampered = delivery.body.replace("\"ACCEPTED\"", "\"CANCELLED\"");
    assert_ne!(tampered, delivery.body);
    let (status, answer) = t.post(PRAXIS, &tampered, Some(&delivery.signature)).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("unauthorized")));
    let (status, _) = t.post(PRAXIS, &delivery.body, Some("no-secret-provided")).await;
    assert_eq!(status, 401);
    let (status, _) = t.post(PRAXIS, &delivery.body, None).await;
    assert_eq!(status, 401);
    assert_eq!(t.stored(&booked).await, after);

    // Staff cancel it.
    t.cal
        .staff_cancel(&moved.uid, "Praxis geschlossen")
        .await
        .expect("staff cancel");
    let end = t.stored(&booked).await;
    assert_eq!(end.status, AppointmentStatus::Cancelled);
    assert_eq!(staff_entries(&end), [ChangeKind::Rescheduled, ChangeKind::Cancelled]);
    assert_eq!(
        end.history.last().and_then(|c| c.reason.as_deref()),
        Some("Praxis geschlossen")
    );
    t.check_availability().await;
    assert_eq!(t.slot_requests(), 3, "dropped again");
    assert!(
        t.deliveries().iter().all(|d| d.status == Some(200)),
        "{:?}",
        t.deliveries()
    );
}

#[tokio::test]
async fn our_own_move_and_cancel_coming_back_before_calcom_answers_are_not_staff_changes() {
    let t = sync().await;
    let booked = t.book(thursday(10)).await;
    let call = call_id("call_sync_change");
    let moved = t
        .engine
        .confirm_move(
            &t.caller(&call),
            &booked.appointment_id,
            thursday(15),
            "passt besser",
            Deadline::none(),
        )
        .await
        .expect("our move is not disturbed by its own webhook");
    let MoveOutcome::Moved { appointment: moved, .. } = moved else {
        panic!("{moved:?}");
    };
    let cancelled = t
        .engine
        .cancel(&t.caller(&call), &booked.appointment_id, "verhindert", Deadline::none())
        .await
        .expect("our cancellation is not disturbed by its own webhook");
    assert!(matches!(cancelled, CancelOutcome::Cancelled { .. }), "{cancelled:?}");

    let triggers: Vec<(String, Option<u16>)> = t.deliveries().into_iter().map(|d| (d.trigger, d.status)).collect();
    assert_eq!(
        triggers,
        [
            ("BOOKING_CREATED".to_string(), Some(200)),
            ("BOOKING_RESCHEDULED".to_string(), Some(200)),
            ("BOOKING_CANCELLED".to_string(), Some(200)),
        ]
    );
    let end = t.stored(&booked).await;
    assert_eq!(
        end.backend_uid, moved.backend_uid,
        "Cal.com's new uid, written by the engine"
    );
    assert_eq!(end.status, AppointmentStatus::Cancelled);
    assert!(staff_entries(&end).is_empty(), "{:?}", end.history);
    assert_eq!(end.version, booked.version + 2, "the engine's two writes, nothing else");
}

#[tokio::test]
async fn unknown_companies_and_companies_without_a_secret_are_404() {
    let t = sync().await;
    let body = r#"{"triggerEvent":"PING","createdAt":"2026-12-01T09:00:00.000Z","payload":{}}"#;
    let signature = gateway_domain::appointments::calendar_sync::signature::sign(SECRET, body.as_bytes());
    let (status, answer) = t.post("niemand", body, Some(&signature)).await;
    assert_eq!((status, answer["error"].as_str()), (404, Some("unknown_company")));
    let (status, answer) = t.post("praxis-ohne-secret", body, Some(&signature)).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (404, Some("webhook_not_configured"))
    );
    let (status, answer) = t.post(PRAXIS, body, Some(&signature)).await;
    assert_eq!((status, answer), (200, json!({"status": "ignored", "trigger": "PING"})));
}

#[tokio::test]
async fn dynamodb_keeps_the_calendar_sync_store_contract() {
    let s = stack_with(&[]).await;
    gateway_testkit::calendar_sync_contract::run_all(&s.store, &s.store, &company_id(COMPANY), &s.prefix).await;
}
