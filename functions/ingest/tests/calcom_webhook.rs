//! `POST /webhooks/calcom/{company}` over in-memory ports, called directly and through a router:
//! every status it answers (401 for each kind of bad signature, 404 unknown company or no secret,
//! 400 naming the field, 413, 503), replays answered `duplicate` without a second change, our own
//! booking ignored, a staff move and cancellation applied, and the engine's cached slots dropped
//! (the next availability check asks the calendar again).

use std::sync::Arc;

use async_trait::async_trait;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gateway_domain::StoreError;
use gateway_domain::appointments::backend::Attendee;
use gateway_domain::appointments::calendar_sync::signature::{NO_SECRET, SIGNATURE_HEADER, sign};
use gateway_domain::appointments::engine::{BookOutcome, BookRequest, Caller, Engine, EnginePorts, EngineSettings};
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::appointments::record::{Appointment, AppointmentStatus, ChangedBy};
use gateway_domain::appointments::speech::parse::{TimeWish, Wish};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{CallId, CompanyId, ServiceId};
use gateway_domain::tenancy::{ConfigStore, RouteKey, Tenant, TenantSpec};
use gateway_testkit::appointments::{MemoryAppointmentStore, MemoryCalendar, OneCalendar};
use gateway_testkit::calendar_sync::MemoryCalendarSync;
use gateway_testkit::memory::{FixedClock, MemoryConfigStore};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use ingest::calcom_webhook;
use ingest::calcom_webhook::{CalcomHookError, CalcomHookPorts, CalcomHooks};

const SECRET: &str = "whsec_praxis_0123456789abcdef";

fn tenant_doc(company: &str, secret: Option<&str>) -> String {
    let secret = secret.map(|s| format!(", webhook_secret: {s}")).unwrap_or_default();
    format!(
        r#"
company: {{company_id: {company}, name: Praxis, mode: appointment}}
appointments:
  calcom: {{api_key: cal_test_hooks{secret}}}
  branches:
  - id: hannover
    name: Praxis Hannover
    time_zone: Europe/Berlin
    opening_hours: {{mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-15:00"]}}
  services:
  - id: beratung
    name: Beratung
    duration_minutes: 30
    min_notice_minutes: 60
    horizon_days: 60
    calendar: {{calcom: {{event_type_id: 1001}}}}
"#
    )
}

fn tenant(company: &str, secret: Option<&str>) -> Tenant {
    let spec: TenantSpec = serde_norway::from_str(&tenant_doc(company, secret)).expect("tenant document");
    spec.tenant().expect("valid tenant")
}

/// Tuesday 2026-12-01 10:00 in Hannover.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

/// Thursday 2026-12-03 at `h`:00 Berlin (UTC+1).
fn thursday(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, h - 1, 0, 0).unwrap()
}

struct World {
    hooks: Arc<CalcomHooks>,
    engine: Arc<Engine>,
    calendar: Arc<MemoryCalendar>,
    store: Arc<MemoryAppointmentStore>,
    praxis: Tenant,
}

fn world_with(config: impl FnOnce(Arc<MemoryConfigStore>) -> Arc<dyn ConfigStore>) -> World {
    let memory_config = Arc::new(MemoryConfigStore::default());
    memory_config.put_tenant(tenant("praxis", Some(SECRET)));
    memory_config.put_tenant(tenant("ohne-secret", None));
    let store = Arc::new(MemoryAppointmentStore::default());
    let calendar = Arc::new(MemoryCalendar::default());
    let clock = Arc::new(FixedClock::new(now()));
    let sync_store = Arc::new(MemoryCalendarSync::default());
    let engine = Arc::new(
        Engine::new(
            EnginePorts {
                calendars: Arc::new(OneCalendar(calendar.clone())),
                store: store.clone(),
                clock: clock.clone(),
            },
            EngineSettings::default(),
        )
        .with_change_marks(sync_store.clone()),
    );
    let hooks = Arc::new(CalcomHooks::new(CalcomHookPorts {
        config: config(memory_config),
        store: store.clone(),
        receipts: sync_store.clone(),
        marks: sync_store,
        clock,
        slots: engine.clone(),
    }));
    World {
        hooks,
        engine,
        calendar,
        store,
        praxis: tenant("praxis", Some(SECRET)),
    }
}

fn world() -> World {
    world_with(|c| c)
}

fn rfc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn body(trigger: &str, uid: &str, previous: Option<&str>, start: DateTime<Utc>, metadata: Value) -> String {
    let mut payload = json!({
        "type": "beratung", "uid": uid, "eventTypeId": 1001, "status": "ACCEPTED",
        "startTime": rfc(start), "endTime": rfc(start + TimeDelta::minutes(30)),
        "attendees": [{"name": "Jonas Weber", "email": "jw@example.de"}], "metadata": metadata,
    });
    if let Some(previous) = previous {
        payload["rescheduleUid"] = json!(previous);
    }
    if trigger == "BOOKING_CANCELLED" {
        payload["status"] = json!("CANCELLED");
        payload["cancellationReason"] = json!("Praxis geschlossen");
    }
    json!({"triggerEvent": trigger, "createdAt": "2026-12-01T09:05:00.000Z", "payload": payload}).to_string()
}

fn signed(body: &str, secret: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        SIGNATURE_HEADER,
        HeaderValue::from_str(&sign(secret, body.as_bytes())).unwrap(),
    );
    headers
}

impl World {
    async fn book(&self, start: DateTime<Utc>) -> Appointment {
        let call = CallId::new("call_1");
        let caller = Caller {
            tenant: &self.praxis,
            call_id: &call,
            phone: Some("+4951111111"),
        };
        let request = BookRequest {
            service: ServiceId::new("beratung"),
            staff: None,
            start,
            attendee: Attendee {
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

    async fn check_availability(&self) {
        let call = CallId::new("call_check");
        let caller = Caller {
            tenant: &self.praxis,
            call_id: &call,
            phone: None,
        };
        let wish = Wish {
            date: thursday(10).date_naive(),
            time: TimeWish::Exact(chrono::NaiveTime::from_hms_opt(11, 0, 0).unwrap()),
        };
        self.engine
            .availability(&caller, &ServiceId::new("beratung"), None, &wish, Deadline::none())
            .await
            .unwrap();
    }

    async fn stored(&self, appointment: &Appointment) -> Appointment {
        self.store
            .appointment(&CompanyId::new("praxis"), &appointment.appointment_id)
            .await
            .unwrap()
            .unwrap()
    }

    fn router(&self) -> Router {
        calcom_webhook::router(self.hooks.clone())
    }
}

async fn post(router: &Router, path: &str, body: String, headers: HeaderMap) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = router
        .clone()
        .oneshot(request.body(axum::body::Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_staff_move_updates_our_record_drops_the_cached_slots_and_a_replay_changes_nothing() {
    let w = world();
    let booked = w.book(thursday(10)).await;
    w.check_availability().await;
    w.check_availability().await;
    assert_eq!(w.calendar.count("free_slots"), 1, "the second check was cached");

    let moved = body(
        "BOOKING_RESCHEDULED",
        "cal-new",
        Some(&booked.backend_uid),
        thursday(14),
        json!({"company_id": "praxis", "appointment_id": booked.appointment_id, "call_id": "call_1"}),
    );
    let answer = w
        .hooks
        .handle("praxis", &signed(&moved, SECRET), moved.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"status": "updated", "change": "rescheduled", "appointment_id": booked.appointment_id})
    );
    let after = w.stored(&booked).await;
    assert_eq!((after.backend_uid.as_str(), after.start), ("cal-new", thursday(14)));
    assert_eq!(after.history.last().unwrap().by, ChangedBy::Staff);
    w.check_availability().await;
    assert_eq!(
        w.calendar.count("free_slots"),
        2,
        "the webhook dropped the cached slots"
    );

    let again = w
        .hooks
        .handle("praxis", &signed(&moved, SECRET), moved.as_bytes())
        .await
        .unwrap();
    assert_eq!(again, json!({"status": "duplicate"}));
    assert_eq!(w.stored(&booked).await, after, "no second change");
    w.check_availability().await;
    assert_eq!(w.calendar.count("free_slots"), 2, "a duplicate drops nothing");

    let cancelled = body("BOOKING_CANCELLED", "cal-new", None, thursday(14), json!({}));
    let answer = w
        .hooks
        .handle("praxis", &signed(&cancelled, SECRET), cancelled.as_bytes())
        .await
        .unwrap();
    assert_eq!(answer["change"], "cancelled");
    let end = w.stored(&booked).await;
    assert_eq!(end.status, AppointmentStatus::Cancelled);
    assert_eq!(
        end.history.last().unwrap().reason.as_deref(),
        Some("Praxis geschlossen")
    );
}

#[tokio::test]
async fn our_own_booking_and_other_triggers_are_acknowledged_unchanged() {
    let w = world();
    let booked = w.book(thursday(10)).await;
    let created = body(
        "BOOKING_CREATED",
        &booked.backend_uid,
        None,
        thursday(10),
        json!({"company_id": "praxis", "appointment_id": booked.appointment_id, "call_id": "call_1"}),
    );
    let answer = w
        .hooks
        .handle("praxis", &signed(&created, SECRET), created.as_bytes())
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({"status": "unchanged", "reason": "own_booking", "appointment_id": booked.appointment_id})
    );
    assert_eq!(w.stored(&booked).await, booked);
    let foreign = body("BOOKING_CREATED", "cal-page-1", None, thursday(12), json!({}));
    let answer = w
        .hooks
        .handle("praxis", &signed(&foreign, SECRET), foreign.as_bytes())
        .await
        .unwrap();
    assert_eq!(answer, json!({"status": "unchanged", "reason": "not_ours"}));
    let ping = r#"{"triggerEvent":"PING","createdAt":"2026-12-01T09:00:00.000Z","payload":{"type":"Test"}}"#;
    let answer = w
        .hooks
        .handle("praxis", &signed(ping, SECRET), ping.as_bytes())
        .await
        .unwrap();
    assert_eq!(answer, json!({"status": "ignored", "trigger": "PING"}));
    assert_eq!(w.store.all(&CompanyId::new("praxis")), [booked]);
}

#[tokio::test]
async fn bad_signatures_are_401_and_change_nothing() {
    let w = world();
    let booked = w.book(thursday(10)).await;
    let cancelled = body("BOOKING_CANCELLED", &booked.backend_uid, None, thursday(10), json!({}));
    let tampered = cancelled.replace("Praxis geschlossen", "Praxis geschlosse!");
    let mut no_secret = HeaderMap::new();
    no_secret.insert(SIGNATURE_HEADER, HeaderValue::from_static(NO_SECRET));
    let cases = [
        ("tampered body", tampered.clone(), signed(&cancelled, SECRET)),
        (
            "wrong secret",
            cancelled.clone(),
            signed(&cancelled, "whsec_someone_else_entirely_x"),
        ),
        ("no-secret-provided", cancelled.clone(), no_secret),
        ("missing header", cancelled.clone(), HeaderMap::new()),
    ];
    let router = w.router();
    for (what, body, headers) in cases {
        let direct = w.hooks.handle("praxis", &headers, body.as_bytes()).await;
        assert!(
            matches!(direct, Err(CalcomHookError::Unauthorized(_))),
            "{what}: {direct:?}"
        );
        let (status, json) = post(&router, "/webhooks/calcom/praxis", body, headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(json["error"], "unauthorized", "{what}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()), "{what}");
    }
    assert_eq!(w.stored(&booked).await, booked, "nothing changed");
    let (status, json) = post(
        &router,
        "/webhooks/calcom/praxis",
        cancelled.clone(),
        signed(&cancelled, SECRET),
    )
    .await;
    assert_eq!((status, json["status"].as_str()), (StatusCode::OK, Some("updated")));
}

#[tokio::test]
async fn unknown_companies_missing_secrets_bad_bodies_and_oversize_bodies_say_what_is_wrong() {
    let w = world();
    let router = w.router();
    let ping = r#"{"triggerEvent":"PING","createdAt":"x","payload":{}}"#.to_string();
    let (status, json) = post(&router, "/webhooks/calcom/niemand", ping.clone(), signed(&ping, SECRET)).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_company"))
    );
    let (status, json) = post(
        &router,
        "/webhooks/calcom/ohne-secret",
        ping.clone(),
        signed(&ping, SECRET),
    )
    .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("webhook_not_configured"))
    );
    assert!(json["message"].as_str().unwrap().contains("webhook_secret"), "{json}");

    let bad = r#"{"triggerEvent":"BOOKING_CANCELLED","payload":{"status":"CANCELLED"}}"#.to_string();
    let (status, json) = post(&router, "/webhooks/calcom/praxis", bad.clone(), signed(&bad, SECRET)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (json["error"].as_str(), json["field"].as_str()),
        (Some("bad_request"), Some("payload.uid"))
    );
    // A bad body with a bad signature is a 401: nothing is read before the signature holds.
    let (status, _) = post(&router, "/webhooks/calcom/praxis", bad, HeaderMap::new()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let huge = format!(
        r#"{{"triggerEvent":"PING","pad":"{}"}}"#,
        "x".repeat(calcom_webhook::MAX_BODY_BYTES)
    );
    let (status, json) = post(&router, "/webhooks/calcom/praxis", huge.clone(), signed(&huge, SECRET)).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let (status, _) = post(&router, "/webhooks/calcom/praxis", ping.clone(), signed(&ping, SECRET)).await;
    assert_eq!(status, StatusCode::OK);
}

/// A config store that is down.
struct Down;

#[async_trait]
impl ConfigStore for Down {
    async fn company_for(&self, _route: &RouteKey) -> Result<Option<CompanyId>, StoreError> {
        Err(StoreError::unavailable("get route", "connection reset"))
    }
    async fn tenant(&self, _company_id: &CompanyId) -> Result<Option<Tenant>, StoreError> {
        Err(StoreError::unavailable("get tenant", "connection reset"))
    }
}

#[tokio::test]
async fn an_unavailable_store_is_a_503_with_an_opaque_body() {
    let w = world_with(|_| Arc::new(Down));
    let ping = r#"{"triggerEvent":"PING","createdAt":"x","payload":{}}"#.to_string();
    let (status, json) = post(
        &w.router(),
        "/webhooks/calcom/praxis",
        ping.clone(),
        signed(&ping, SECRET),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        json,
        json!({"error": "retry", "message": "temporarily unavailable; please retry"})
    );
}
