//! The booking functions end to end: Retell's signed tool calls through the HTTP edge (the
//! ingest router Lambda runs), the booking desk and engine, holds and appointments in DynamoDB
//! on the emulator, and the company's calendars behind the real adapters — the Cal.com stand-in
//! at Cal.com's paths and a real Radicale. Dates are chosen relative to today (the stand-in, the
//! signature window and the gateway all run on the real clock).

use calcom_standin::{Endpoint, EventType, Fault, Standin, Times, WEEKDAYS};
use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::call_event::CallEventReader;
use gateway_domain::case::CaseReader;
use gateway_domain::ids::AppointmentId;
use gateway_domain::tenancy::TenantSpec;
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use gateway_testkit::radicale::Radicale;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

const PRAXIS: &str = "praxis-e2e";
const AGENT: &str = "agent_praxis_e2e";
const CALLER: &str = "+4951187654321";
const OTHER: &str = "+4951187654322";

struct World {
    s: Stack,
    cal: calcom_standin::Running,
    dav: Radicale,
}

fn praxis(cal: &calcom_standin::Running, dav: &Radicale) -> TenantSpec {
    let doc = format!(
        r#"
company: {{company_id: {PRAXIS}, name: Praxis am Platz, mode: appointment, default_case_type: request}}
routes: {{agents: [{AGENT}]}}
categories:
- {{slug: rueckruf, name: Rückrufbitte, is_default: true, output: empfang}}
outputs:
- {{id: empfang, name: Empfang, type: email, email: {{recipients: [empfang@praxis.example]}}}}
appointments:
  calcom: {{api_key: cal_test_e2e, base_url: '{}'}}
  caldav: {{base_url: '{}', username: {}, password: {}}}
  branches:
  - id: mitte
    name: Praxis Mitte
    time_zone: Europe/Berlin
    opening_hours: {{mon: ["08:00-18:00"], tue: ["08:00-18:00"], wed: ["08:00-18:00"], thu: ["08:00-18:00"], fri: ["08:00-18:00"]}}
  services:
  - id: beratung
    name: Beratung
    duration_minutes: 30
    min_notice_minutes: 60
    calendar: {{calcom: {{event_type_id: 1001}}}}
  - id: hausbesuch
    name: Hausbesuch
    duration_minutes: 45
    min_notice_minutes: 60
    calendar: {{caldav: {{calendar: '{}'}}}}
  policy: {{cancel_notice_hours: 24, reschedule_notice_hours: 24, fees: [{{within_hours: 48, fee_eur: 15}}]}}
"#,
        cal.base_url(),
        dav.base_url(),
        dav.username(),
        dav.password(),
        dav.calendar_path(),
    );
    serde_norway::from_str(&doc).expect("the praxis tenant")
}

async fn world() -> World {
    let cal = Standin::start(
        calcom_standin::Config::default().with_event_type(
            EventType::new(1001, "beratung", 30)
                .in_zone("Europe/Berlin")
                .with_hours(&WEEKDAYS, (8, 0), (18, 0))
                .with_notice(60)
                .with_horizon_days(60),
        ),
    )
    .await
    .expect("the Cal.com stand-in");
    let dav = tokio::task::spawn_blocking(Radicale::start).await.unwrap();
    let allow = format!("{},{}", cal.addr(), dav.host_port());
    let s = stack_allowing(&[praxis(&cal, &dav)], Some(&allow)).await;
    World { s, cal, dav }
}

/// A weekday at least `days` ahead (in Berlin), so notice rules and weekends never interfere.
fn weekday_ahead(days: i64) -> NaiveDate {
    let mut d = Utc::now().with_timezone(&Berlin).date_naive() + chrono::TimeDelta::days(days);
    while matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        d = d.succ_opt().unwrap();
    }
    d
}

/// `2026-12-08T10:00:00+01:00`: how our offers name a start, and how the agent books it.
fn local_start(date: NaiveDate, hour: u32) -> String {
    Berlin
        .from_local_datetime(&date.and_hms_opt(hour, 0, 0).unwrap())
        .single()
        .unwrap()
        .fixed_offset()
        .to_rfc3339()
}

fn tool(name: &str, args: Value, call: &str, from: Option<&str>) -> String {
    json!({
        "name": name,
        "args": args,
        "call": {"call_id": call, "agent_id": AGENT, "call_status": "ongoing", "direction": "inbound",
                 "from_number": from.unwrap_or("anonymous"), "to_number": "+4951100000000"}
    })
    .to_string()
}

impl World {
    async fn call(&self, name: &str, args: Value, call: &str, from: Option<&str>) -> Value {
        let (status, body) = self.s.post("/retell/functions", &tool(name, args, call, from)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        body
    }

    async fn caller(&self, name: &str, args: Value) -> Value {
        self.call(name, args, "call_booking_1", Some(CALLER)).await
    }

    /// Requests Radicale logged so far, by method.
    fn dav_requests(&self, method: &str) -> usize {
        self.dav
            .log()
            .lines()
            .filter(|l| l.contains(&format!("{method} request for")))
            .count()
    }
}

#[tokio::test]
async fn a_caller_books_moves_and_cancels_at_calcom_through_the_edge() {
    let w = world().await;
    let day = weekday_ahead(7);
    let iso = day.format("%Y-%m-%d").to_string();

    let r = w.caller("list_services", json!({})).await;
    assert_eq!(
        r["message"],
        "Wir bieten Beratung (30 Minuten) und Hausbesuch (45 Minuten) an."
    );

    let r = w.caller("get_opening_hours", json!({"datum": iso})).await;
    assert_eq!(r["status"], "opening_hours");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .ends_with("haben wir von 8 bis 18 Uhr geöffnet."),
        "{r}"
    );

    w.cal.clear_requests();
    let r = w
        .caller(
            "check_availability",
            json!({"dienstleistung": "Beratung", "datum": iso, "uhrzeit": "10 Uhr"}),
        )
        .await;
    assert_eq!(r["status"], "available", "{r}");
    assert_eq!(r["offers"][0]["local_start"], local_start(day, 10));
    assert_eq!(
        w.cal.requests().len(),
        1,
        "check_availability: one Cal.com request ({:?})",
        w.cal.requests()
    );

    w.cal.clear_requests();
    let book = json!({"datetime": local_start(day, 10), "service_id": "beratung", "customer_name": "Jonas Weber",
                      "customer_email": "jonas.weber@example.com"});
    let r = w.caller("book_appointment", book.clone()).await;
    assert_eq!(r["status"], "booked", "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("Ihr Termin ist gebucht: Beratung am "),
        "{r}"
    );
    let id = r["appointment"]["appointment_id"].as_str().unwrap().to_string();
    let booking_requests = w.cal.requests().len();
    assert!(
        (1..=3).contains(&booking_requests),
        "book_appointment: reserve + book at most ({:?})",
        w.cal.requests()
    );

    // Retell's retry of the same tool call (a fresh signature, the same body): the stored answer.
    let again = w.caller("book_appointment", book.clone()).await;
    assert_eq!(again["status"], "booked");
    assert_eq!(again["repeated"], true);
    assert_eq!(again["appointment"]["appointment_id"], id.as_str());
    assert_eq!(w.cal.count_requests("POST", "/v2/bookings"), 1, "no second booking");

    // Another caller wants the same time: taken, with fresh alternatives in the same answer.
    let r = w
        .call("book_appointment", book.clone(), "call_booking_2", Some(OTHER))
        .await;
    assert_eq!(r["status"], "taken", "{r}");
    assert!(!r["offers"].as_array().unwrap().is_empty());
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("ist leider gerade vergeben worden. Ich kann Ihnen"),
        "{r}"
    );

    let r = w.caller("query_appointments", json!({})).await;
    assert_eq!(r["status"], "appointments");
    assert_eq!(r["appointments"][0]["appointment_id"], id.as_str());

    // Someone else's number: refused with a callback offer, nothing changes.
    let r = w
        .call(
            "cancel_appointment",
            json!({"appointment_id": id}),
            "call_booking_3",
            Some(OTHER),
        )
        .await;
    assert_eq!(r["status"], "refused");
    assert_eq!(r["reason"], "number_mismatch");
    assert_eq!(r["callback_offered"], true);
    // A withheld number cannot look anything up.
    let r = w.call("query_appointments", json!({}), "call_booking_4", None).await;
    assert_eq!(r["reason"], "number_withheld");

    // Moving: proposal, then confirmation.
    w.cal.clear_requests();
    let r = w
        .caller(
            "reschedule_appointment",
            json!({"appointment_id": id, "new_date": iso, "new_time": "11:00"}),
        )
        .await;
    assert_eq!(r["status"], "move_possible", "{r}");
    assert_eq!(r["new_start"], local_start(day, 11));
    assert_eq!(
        w.cal.count_requests(
            "POST",
            &format!(
                "/v2/bookings/{}/reschedule",
                r["appointment"]["booking_id"].as_str().unwrap()
            )
        ),
        0
    );
    let r = w
        .caller(
            "reschedule_appointment",
            json!({"appointment_id": id, "new_date": iso, "new_time": "11:00", "bestaetigung": true}),
        )
        .await;
    assert_eq!(r["status"], "moved", "{r}");
    assert_eq!(r["appointment"]["local_start"], local_start(day, 11));

    let r = w
        .caller("cancel_appointment", json!({"appointment_id": id, "reason": "krank"}))
        .await;
    assert_eq!(r["status"], "cancelled", "{r}");
    let stored =
        w.s.store
            .appointment(&company_id(PRAXIS), &AppointmentId::new(&id))
            .await
            .unwrap()
            .expect("the appointment");
    assert_eq!(
        stored
            .history
            .iter()
            .map(|c| format!("{:?}", c.kind))
            .collect::<Vec<_>>(),
        ["Booked", "Rescheduled", "Cancelled"]
    );
    assert!(
        w.cal
            .booking(&stored.backend_uid)
            .is_some_and(|b| b.status == calcom_standin::BookingStatus::Cancelled),
        "cancelled in Cal.com too"
    );

    // Every tool call is in the call's audit trail with what it answered.
    let events =
        w.s.store
            .call_events(Some(&company_id(PRAXIS)), &call_id("call_booking_1"))
            .await
            .unwrap();
    let outcomes: Vec<_> = events
        .iter()
        .filter(|e| e.event.starts_with("function:"))
        .map(|e| (e.event.as_str(), e.outcome.as_deref().unwrap_or_default()))
        .collect();
    assert!(
        outcomes.contains(&("function:check_availability", "available")),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|(e, o)| *e == "function:book_appointment" && o.starts_with("booked ("))
    );
    assert!(events.iter().any(|e| e.event == "appointment.cancelled"));

    // After the call, Retell's analysis lands on the appointment.
    let analyzed = edited(ANALYZED, |v| {
        v["call"]["call_id"] = json!("call_booking_1");
        v["call"]["agent_id"] = json!(AGENT);
        v["call"]["call_analysis"]["call_summary"] = json!("Termin gebucht, verschoben und abgesagt.");
    });
    let (status, ack) = w.s.post("/webhooks/retell", &analyzed).await;
    assert_eq!(
        (status, ack["status"].as_str()),
        (StatusCode::OK, Some("acknowledged")),
        "{ack}"
    );
    let stored =
        w.s.store
            .appointment(&company_id(PRAXIS), &AppointmentId::new(&id))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        stored.calls["call_booking_1"].summary.as_deref(),
        Some("Termin gebucht, verschoben und abgesagt.")
    );
}

#[tokio::test]
async fn a_caller_who_got_no_appointment_becomes_a_callback_case() {
    let w = world().await;
    let day = weekday_ahead(7);
    // Cal.com is down for this caller's check: a speakable answer, not a 5xx.
    w.cal
        .set_fault(Endpoint::Slots, Fault::Status(500), Times::UntilCleared);
    let r = w
        .call(
            "check_availability",
            json!({"service": "beratung", "date": day.format("%Y-%m-%d").to_string(), "time": "10:00"}),
            "call_no_luck",
            Some(CALLER),
        )
        .await;
    assert_eq!(r["status"], "unavailable", "{r}");
    assert_eq!(r["success"], false);
    assert_eq!(r["callback_offered"], true);
    w.cal.clear_faults();

    let analyzed = edited(ANALYZED, |v| {
        v["call"]["call_id"] = json!("call_no_luck");
        v["call"]["agent_id"] = json!(AGENT);
        v["call"]["from_number"] = json!(CALLER);
    });
    let (status, ack) = w.s.post("/webhooks/retell", &analyzed).await;
    assert_eq!(
        (status, ack["status"].as_str()),
        (StatusCode::OK, Some("captured")),
        "{ack}"
    );
    let case =
        w.s.store
            .get_case(&company_id(PRAXIS), &call_id("call_no_luck"))
            .await
            .unwrap()
            .expect("a callback case");
    assert_eq!(case.case_type.as_str(), "callback");
    assert_eq!(case.subject, "Rückrufbitte: Terminwunsch ohne Termin");
    assert_eq!(case.caller.phone.as_deref(), Some(CALLER));

    // request_callback during a call is a case of its own, through capture like any other.
    let r = w
        .call(
            "request_callback",
            json!({"customer_name": "Eva Kühn", "reason": "Frage zur Rechnung", "preferred_time_window": "morgen vormittag"}),
            "call_callback",
            Some(OTHER),
        )
        .await;
    assert_eq!(r["status"], "callback_requested", "{r}");
    let ticket = r["ticket_id"].as_str().unwrap().to_string();
    assert_eq!(
        r["message"],
        format!(
            "Ich habe Ihren Rückrufwunsch unter der Nummer {ticket} aufgenommen. Wir versuchen, Sie im gewünschten Zeitraum zu erreichen: morgen vormittag."
        )
    );
    let case =
        w.s.store
            .get_case(&company_id(PRAXIS), &call_id("call_callback"))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(case.case_type.as_str(), "callback");
    assert_eq!(case.subject, "Rückrufbitte: Frage zur Rechnung");
    assert!(
        case.description
            .contains("Gewünschtes Zeitfenster für den Rückruf: morgen vormittag")
    );
    let (visible, delayed, in_flight) = w.s.queue_counts().await;
    assert_eq!(visible + delayed + in_flight, 2, "both cases handed to enrichment");
    assert!(case.is_handed_off());
}

#[tokio::test]
async fn radicale_check_book_move_cancel_and_its_requests_on_the_wire() {
    let w = world().await;
    let day = weekday_ahead(8);
    let iso = day.format("%Y-%m-%d").to_string();
    let before = (w.dav_requests("REPORT"), w.dav_requests("PUT"), w.dav_requests("GET"));
    let r = w
        .caller(
            "check_availability",
            json!({"service": "Hausbesuch", "date": iso, "time": "9 Uhr"}),
        )
        .await;
    assert_eq!(r["status"], "available", "{r}");
    assert_eq!(w.dav_requests("REPORT") - before.0, 1, "one REPORT per check");

    let r = w
        .caller(
            "book_appointment",
            json!({"datetime": local_start(day, 9), "service": "hausbesuch", "name": "Jonas Weber"}),
        )
        .await;
    assert_eq!(r["status"], "booked", "{r}");
    let id = r["appointment"]["appointment_id"].as_str().unwrap().to_string();
    assert_eq!(w.dav_requests("PUT") - before.1, 1, "one PUT per booking");

    let r = w
        .caller(
            "reschedule_appointment",
            json!({"appointment_id": id, "new_datum": iso, "new_uhrzeit": "14 Uhr", "confirm": "ja"}),
        )
        .await;
    assert_eq!(r["status"], "moved", "{r}");
    let r = w.caller("cancel_appointment", json!({"datum": iso})).await;
    assert_eq!(r["status"], "cancelled", "{r}");
    let (status, body) = w.dav.request(
        "REPORT",
        &w.dav.calendar_path(),
        &[("Depth", "1"), ("Content-Type", "application/xml")],
        r#"<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><C:calendar-data/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>"#,
    );
    assert_eq!(status, 207);
    assert_eq!(body.matches("BEGIN:VEVENT").count(), 1, "{body}");
    assert!(body.contains("STATUS:CANCELLED"), "{body}");
}

#[tokio::test]
async fn ten_callers_racing_for_one_slot_and_a_retry_racing_its_original() {
    let w = world().await;
    let day = weekday_ahead(9);
    let start = local_start(day, 15);
    let posts: Vec<_> = (0..10)
        .map(|i| {
            let body = tool(
                "book_appointment",
                json!({"datetime": start, "service": "beratung", "name": format!("Anrufer {i}")}),
                &format!("call_race_{i}"),
                Some(&format!("+49511876543{i:02}")),
            );
            let router = w.s.router.clone();
            tokio::spawn(async move {
                let resp = tower::ServiceExt::oneshot(router, request("/retell/functions", &body, Some(sign(&body))))
                    .await
                    .unwrap();
                let bytes = http_body_util::BodyExt::collect(resp.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                serde_json::from_slice::<Value>(&bytes).unwrap()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for p in posts {
        let r = p.await.unwrap();
        if r["status"] == "taken" {
            assert!(!r["offers"].as_array().unwrap().is_empty(), "{r}");
        }
        statuses.push(r["status"].as_str().unwrap().to_string());
    }
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| *s == "booked").count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| *s == "taken").count(), 9, "{statuses:?}");

    // Cal.com answers slowly; Retell gives up and sends the same call again while we wait.
    w.cal
        .set_fault(Endpoint::Create, Fault::Delay { ms: 1500 }, Times::Next(1));
    let body = tool(
        "book_appointment",
        json!({"datetime": local_start(day, 16), "service": "beratung", "name": "Jonas Weber"}),
        "call_retry",
        Some(CALLER),
    );
    let posts_before = w.cal.count_requests("POST", "/v2/bookings");
    let (a, b) = tokio::join!(w.s.post("/retell/functions", &body), async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        w.s.post("/retell/functions", &body).await
    });
    assert_eq!(
        (a.1["status"].as_str(), b.1["status"].as_str()),
        (Some("booked"), Some("booked")),
        "{} / {}",
        a.1,
        b.1
    );
    assert_eq!(
        a.1["appointment"]["appointment_id"],
        b.1["appointment"]["appointment_id"]
    );
    assert_eq!(
        w.cal.count_requests("POST", "/v2/bookings") - posts_before,
        1,
        "booked once"
    );
}

#[tokio::test]
async fn call_inbound_gives_the_agent_every_date_it_needs() {
    let w = world().await;
    let body = json!({"event": "call_inbound", "call_inbound": {"agent_id": AGENT, "from_number": CALLER,
        "to_number": "+4951100000000", "call_id": "call_inbound_booking"}})
    .to_string();
    let (status, r) = w.s.post("/webhooks/retell/inbound", &body).await;
    assert_eq!(status, StatusCode::OK);
    let vars = &r["call_inbound"]["dynamic_variables"];
    let today = Utc::now().with_timezone(&Berlin).date_naive();
    assert!(
        vars["today_in_words"].as_str().unwrap().starts_with("Heute ist "),
        "{vars}"
    );
    let days = vars["next_14_days"].as_str().unwrap();
    assert!(
        days.contains(&format!("({}, heute", today.format("%Y-%m-%d"))),
        "{days}"
    );
    assert_eq!(days.split("; ").count(), 14);
    assert!(
        vars["opening_hours_today"]
            .as_str()
            .unwrap()
            .starts_with("Heute haben wir"),
        "{vars}"
    );
}

/// A sample from `events/retell/functions/` with this test's call id (and extra arguments).
fn sample(name: &str, call: &str, extra: Value) -> String {
    let path = format!("{}/../events/retell/functions/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("the sample")).expect("JSON");
    v["call"]["call_id"] = json!(call);
    for (k, value) in extra.as_object().into_iter().flatten() {
        v["args"][k] = value.clone();
    }
    v.to_string()
}

#[tokio::test]
async fn the_sample_function_calls_play_a_whole_conversation_at_the_example_practice() {
    let calendars = gateway_local::calendars::LocalCalendars::start()
        .await
        .expect("local calendars");
    let spec: TenantSpec = serde_norway::from_str(include_str!("../../../infra/tenants/praxis.yaml")).unwrap();
    let s = stack_allowing(
        &[calendars.praxis_tenant(spec, false)],
        Some(&calendars.allow_list().join(",")),
    )
    .await;
    let call = "call_sample_conversation";
    let email = format!("jonas+{}@example.com", s.prefix);
    let play = |name: &'static str, mut extra: Value| {
        if name == "book_appointment" {
            extra["customer_email"] = json!(email);
        }
        let body = sample(name, call, extra);
        let s = &s;
        async move {
            let (status, r) = s.post("/retell/functions", &body).await;
            assert_eq!(status, StatusCode::OK, "{name}: {r}");
            assert!(
                !r["message"].as_str().unwrap_or_default().is_empty(),
                "{name}: a sentence to read out: {r}"
            );
            r
        }
    };
    let status = |r: &Value| r["status"].as_str().unwrap_or_default().to_string();
    assert_eq!(status(&play("list_services", json!({})).await), "services");
    assert_eq!(status(&play("get_opening_hours", json!({})).await), "opening_hours");
    let r = play("check_availability", json!({})).await;
    assert_eq!(status(&r), "available", "{r}");
    assert_eq!(status(&play("get_alternatives", json!({})).await), "alternatives");
    assert_eq!(status(&play("find_next_available", json!({})).await), "next_available");
    let r = play("book_appointment", json!({})).await;
    assert_eq!(status(&r), "booked", "{r}");
    assert_eq!(status(&play("query_appointments", json!({})).await), "appointments");
    let r = play("reschedule_appointment", json!({})).await;
    assert_eq!(status(&r), "move_possible", "{r}");
    let r = play("reschedule_appointment", json!({"bestaetigung": true})).await;
    assert_eq!(status(&r), "moved", "{r}");
    let mut r = play("cancel_appointment", json!({})).await;
    if status(&r) == "confirm_fee" {
        r = play("cancel_appointment", json!({"bestaetigung": true})).await;
    }
    assert_eq!(status(&r), "cancelled", "{r}");
    assert_eq!(status(&play("request_callback", json!({})).await), "callback_requested");

    // Booked, moved, cancelled: three notices handed to delivery during the call, and the caller
    // gets exactly one e-mail for each (the emulator's SES is shared: the address is this test's).
    let (queued, _, _) = s.counts(&s.resources.delivery_queue_url).await;
    assert_eq!(queued, 3, "one notice per change on the delivery queue");
    s.deliver_all().await;
    let mails = s.raw_emails_to(&email).await;
    assert_eq!(mails.len(), 3, "one confirmation per change");
    // Delivered concurrently, so in any order: the booking and the move update the entry, the
    // cancellation removes it.
    let count = |what: &str| mails.iter().filter(|m| m.contains(what)).count();
    assert_eq!((count("METHOD:REQUEST"), count("METHOD:CANCEL")), (2, 1));
}
