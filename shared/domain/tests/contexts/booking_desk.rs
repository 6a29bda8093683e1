//! The booking desk as the agent meets it: arguments as the LLM writes them (German aliases
//! included) and the sentences the caller hears, against the engine with in-memory twins.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use gateway_domain::appointments::desk::{Args, BookingDesk, BookingFunction, DeskCall, Reply, Status};
use gateway_domain::appointments::engine::{Engine, EnginePorts, EngineSettings};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::CallId;
use gateway_domain::tenancy::{Tenant, TenantSpec};
use gateway_testkit::appointments::{MemoryAppointmentStore, MemoryCalendar, OneCalendar};
use gateway_testkit::memory::FixedClock;
use serde_json::{Value, json};

const PRAXIS: &str = r#"
company: {company_id: praxis, name: Praxis am Platz, mode: appointment}
appointments:
  calcom: {api_key: cal_test_desk}
  branches:
  - id: hannover
    name: Praxis Hannover
    time_zone: Europe/Berlin
    opening_hours: {mon: ["08:00-12:00", "13:00-18:00"], tue: ["08:00-12:00", "13:00-18:00"], wed: ["08:00-12:00", "13:00-18:00"], thu: ["08:00-12:00", "13:00-18:00"], fri: ["08:00-14:00"]}
    closures: [{date: 2026-12-24, reason: Heiligabend}]
  staff:
  - {id: weber, name: Frau Weber}
  services:
  - id: beratung
    name: Beratung
    synonyms: [Erstgespräch]
    duration_minutes: 30
    min_notice_minutes: 60
    staff: [weber]
    calendar: {calcom: {event_type_id: 1}}
  - id: massage
    name: Massage
    duration_minutes: 60
    calendar: {calcom: {event_type_id: 2}}
  policy:
    cancel_notice_hours: 24
    reschedule_notice_hours: 24
    fees: [{within_hours: 48, fee_eur: 15}]
"#;

const CALLER: &str = "+4951112345678";

struct Desk {
    desk: BookingDesk,
    tenant: Tenant,
    calendar: Arc<MemoryCalendar>,
    clock: Arc<FixedClock>,
}

/// Tuesday 2026-12-01 10:00 in Hannover.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

fn desk_with(yaml: &str) -> Desk {
    let spec: TenantSpec = serde_norway::from_str(yaml).unwrap();
    let tenant = spec.tenant().unwrap();
    let calendar = Arc::new(MemoryCalendar::default());
    let clock = Arc::new(FixedClock::new(now()));
    let engine = Arc::new(Engine::new(
        EnginePorts {
            calendars: Arc::new(OneCalendar(calendar.clone())),
            store: Arc::new(MemoryAppointmentStore::default()),
            clock: clock.clone(),
        },
        EngineSettings::default(),
    ));
    Desk {
        desk: BookingDesk::new(engine, clock.clone()),
        tenant,
        calendar,
        clock,
    }
}

fn desk() -> Desk {
    desk_with(PRAXIS)
}

impl Desk {
    async fn call_from(&self, number: Option<&str>, call: &str, name: &str, args: Value) -> Reply {
        let function = BookingFunction::from_name(name).expect("a booking function");
        let args = args.as_object().cloned().unwrap_or_default();
        let call_id = CallId::new(call);
        let call = DeskCall {
            tenant: &self.tenant,
            call_id: &call_id,
            caller_number: number,
            deadline: Deadline::after(std::time::Duration::from_secs(5)),
        };
        self.desk.call(function, Args(&args), &call).await
    }

    async fn call(&self, name: &str, args: Value) -> Reply {
        self.call_from(Some(CALLER), "call_1", name, args).await
    }
}

#[tokio::test]
async fn a_whole_conversation_in_german() {
    let d = desk();
    // The caller names no service: with two on offer, the agent has to ask.
    let r = d
        .call(
            "check_availability",
            json!({"datum": "Donnerstag", "uhrzeit": "halb drei"}),
        )
        .await;
    assert_eq!(r.status, Status::Question);
    assert_eq!(
        r.message,
        "Für welche Leistung möchten Sie einen Termin? Wir bieten Beratung oder Massage an."
    );

    let r = d
        .call(
            "check_availability",
            json!({"datum": "Donnerstag", "uhrzeit": "halb drei", "dienstleistung": "Erstgespräch"}),
        )
        .await;
    assert_eq!(r.status, Status::Available, "{}", r.message);
    assert_eq!(
        r.message,
        "Übermorgen, am Donnerstag, dem 3. Dezember, um halb drei (14:30 Uhr) ist noch frei."
    );
    assert_eq!(r.data["offers"][0]["local_start"], "2026-12-03T14:30:00+01:00");
    assert_eq!(d.calendar.count("free_slots"), 1, "one calendar fetch per check");

    // The agent books with the offer's local_start, as the function definition tells it to.
    let r = d
        .call(
            "book_appointment",
            json!({"datetime": "2026-12-03T14:30:00+01:00", "service_name": "beratung", "customer_name": "Jonas Weber",
                   "customer_email": "jonas@example.com"}),
        )
        .await;
    assert_eq!(r.status, Status::Booked, "{}", r.message);
    assert_eq!(
        r.message,
        "Ihr Termin ist gebucht: Beratung übermorgen, am Donnerstag, dem 3. Dezember, um halb drei (14:30 Uhr). \
         Eine Bestätigung schicken wir Ihnen per E-Mail."
    );
    let id = r.data["appointment"]["appointment_id"].as_str().unwrap().to_string();

    let r = d.call("query_appointments", json!({})).await;
    assert_eq!(r.status, Status::Appointments);
    assert_eq!(
        r.message,
        "Sie haben einen Termin: Beratung übermorgen, am Donnerstag, dem 3. Dezember, um halb drei (14:30 Uhr)."
    );

    // A day later the caller wants to move it: first the proposal (with the fee, it is now
    // less than 48 hours away), nothing changes yet.
    d.clock.set(Utc.with_ymd_and_hms(2026, 12, 2, 9, 0, 0).unwrap());
    let r = d
        .call(
            "reschedule_appointment",
            json!({"datum": "Donnerstag", "new_datum": "Freitag", "new_uhrzeit": "10 Uhr"}),
        )
        .await;
    assert_eq!(r.status, Status::MovePossible, "{}", r.message);
    assert_eq!(
        r.message,
        "Ich kann Ihren Termin, Beratung morgen, am Donnerstag, dem 3. Dezember, um halb drei (14:30 Uhr), \
         auf übermorgen, Freitag, den 4. Dezember, um 10 Uhr verschieben. Für die kurzfristige Verschiebung fällt eine Gebühr \
         von 15 Euro an. Soll ich ihn so verschieben?"
    );
    assert_eq!(d.calendar.count("reschedule"), 0);
    let r = d
        .call(
            "reschedule_appointment",
            json!({"appointment_id": id, "new_datum": "Freitag", "new_uhrzeit": "10 Uhr", "bestaetigung": "ja"}),
        )
        .await;
    assert_eq!(r.status, Status::Moved, "{}", r.message);
    assert_eq!(r.data["fee_eur"], 15.0);
    assert_eq!(d.calendar.count("reschedule"), 1);

    // The next morning the caller cancels, 25 hours ahead: allowed, with a fee that needs a yes first.
    d.clock.set(Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap());
    let r = d.call("cancel_appointment", json!({})).await;
    assert_eq!(r.status, Status::ConfirmFee, "{}", r.message);
    assert!(
        r.message.ends_with("Möchten Sie ihn trotzdem absagen?"),
        "{}",
        r.message
    );
    assert_eq!(d.calendar.count("cancel"), 0);
    let r = d
        .call("cancel_appointment", json!({"bestaetigung": true, "grund": "krank"}))
        .await;
    assert_eq!(r.status, Status::Cancelled, "{}", r.message);
    assert_eq!(
        r.message,
        "Ihr Termin, Beratung morgen, am Freitag, dem 4. Dezember, um 10 Uhr, ist abgesagt. \
         Für die kurzfristige Absage fällt eine Gebühr von 15 Euro an."
    );
    let r = d.call("query_appointments", json!({})).await;
    assert_eq!(r.status, Status::NoAppointments);
}

fn thursday_1430() -> Value {
    json!({"datetime": "2026-12-03T14:30:00+01:00", "service_id": "beratung", "name": "Jonas Weber"})
}

#[tokio::test]
async fn another_number_may_not_cancel_and_a_withheld_one_cannot_look() {
    let d = desk();
    let r = d.call("book_appointment", thursday_1430()).await;
    let id = r.data["appointment"]["appointment_id"].clone();
    let r = d
        .call_from(
            Some("+4951199999999"),
            "call_2",
            "cancel_appointment",
            json!({"appointment_id": id}),
        )
        .await;
    assert_eq!(r.status, Status::Refused);
    assert!(r.callback_offered);
    assert_eq!(r.data["reason"], "number_mismatch");
    assert_eq!(
        r.message,
        "Diesen Termin kann ich am Telefon nur für die Rufnummer ändern, mit der er gebucht wurde. \
         Soll ich veranlassen, dass wir Sie zurückrufen?"
    );
    assert_eq!(d.calendar.count("cancel"), 0);
    let r = d.call_from(None, "call_3", "query_appointments", json!({})).await;
    assert_eq!(r.status, Status::Refused);
    assert_eq!(r.data["reason"], "number_withheld");
    assert!(r.callback_offered);
}

#[tokio::test]
async fn a_cancelled_or_moved_away_slot_is_free_for_the_next_caller_at_once() {
    let d = desk();
    let other = Some("+4951199999999");
    let r = d.call("book_appointment", thursday_1430()).await;
    assert_eq!(r.status, Status::Booked, "{}", r.message);
    let id = r.data["appointment"]["appointment_id"].clone();
    let r = d
        .call(
            "cancel_appointment",
            json!({"appointment_id": id, "bestaetigung": true}),
        )
        .await;
    assert_eq!(r.status, Status::Cancelled, "{}", r.message);
    // Within the five minutes the booking's hold would have lasted.
    let r = d.call_from(other, "call_2", "book_appointment", thursday_1430()).await;
    assert_eq!(r.status, Status::Booked, "{}", r.message);

    // Moved away by the caller who booked it: the old time is free for the next one.
    let id = r.data["appointment"]["appointment_id"].clone();
    let r = d
        .call_from(
            other,
            "call_2",
            "reschedule_appointment",
            json!({"appointment_id": id, "new_datetime": "2026-12-03T16:00:00+01:00", "bestaetigung": true}),
        )
        .await;
    assert_eq!(r.status, Status::Moved, "{}", r.message);
    let r = d
        .call_from(Some("+4951177777777"), "call_3", "book_appointment", thursday_1430())
        .await;
    assert_eq!(r.status, Status::Booked, "{}", r.message);
}

#[tokio::test]
async fn too_close_to_the_appointment_the_notice_rule_is_read_out() {
    let d = desk();
    d.call("book_appointment", thursday_1430()).await;
    d.clock.set(Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap());
    let r = d.call("cancel_appointment", json!({"datum": "heute"})).await;
    assert_eq!(r.status, Status::Refused, "{}", r.message);
    assert_eq!(
        r.message,
        "Absagen sind am Telefon bis 24 Stunden vor dem Termin möglich. Ihr Termin, Beratung heute, am Donnerstag, \
         dem 3. Dezember, um halb drei (14:30 Uhr), beginnt schon in 5 Stunden, deshalb kann ich ihn nicht mehr \
         absagen. Soll ich veranlassen, dass wir Sie zurückrufen?"
    );
}

#[tokio::test]
async fn a_slot_taken_by_another_caller_comes_back_with_alternatives_in_the_same_answer() {
    let d = desk();
    let first = d
        .call_from(Some("+4951100000001"), "call_a", "book_appointment", thursday_1430())
        .await;
    assert_eq!(first.status, Status::Booked);
    let second = d
        .call_from(Some("+4951100000002"), "call_b", "book_appointment", thursday_1430())
        .await;
    assert_eq!(second.status, Status::Taken, "{}", second.message);
    let offers = second.data["offers"].as_array().unwrap();
    assert!(!offers.is_empty());
    assert!(offers.iter().all(|o| o["local_start"] != "2026-12-03T14:30:00+01:00"));
    assert!(
        second
            .message
            .starts_with("Der Termin übermorgen, am Donnerstag, dem 3. Dezember, um halb drei (14:30 Uhr) ist leider gerade vergeben worden. Ich kann Ihnen "),
        "{}",
        second.message
    );
    assert_eq!(d.calendar.bookings().len(), 1);
}

#[tokio::test]
async fn a_repeated_tool_call_and_a_racing_retry_book_once() {
    let d = desk();
    let once = d.call("book_appointment", thursday_1430()).await;
    let again = d.call("book_appointment", thursday_1430()).await;
    assert_eq!(again.status, Status::Booked);
    assert_eq!(again.data["repeated"], true);
    assert_eq!(once.data["appointment"], again.data["appointment"]);
    assert_eq!(d.calendar.count("book"), 1);

    // A retry arriving while the original is still at the calendar waits for its answer.
    let d = Arc::new(desk());
    *d.calendar.delay.lock().unwrap() = std::time::Duration::from_millis(400);
    let (a, b) = tokio::join!(
        d.call("book_appointment", thursday_1430()),
        d.call("book_appointment", thursday_1430())
    );
    assert_eq!(
        (a.status, b.status),
        (Status::Booked, Status::Booked),
        "{} / {}",
        a.message,
        b.message
    );
    assert_eq!(a.data["appointment"], b.data["appointment"]);
    assert_eq!(d.calendar.count("book"), 1);
}

#[tokio::test]
async fn an_unreachable_calendar_is_a_callback_offer_not_silence() {
    let d = desk();
    d.calendar
        .fail_next(vec![gateway_domain::appointments::backend::BackendError::Timeout; 3]);
    let r = d
        .call(
            "check_availability",
            json!({"datum": "morgen", "uhrzeit": "10 Uhr", "service": "Massage"}),
        )
        .await;
    assert_eq!(r.status, Status::Unavailable);
    assert!(!r.success && r.callback_offered);
    assert_eq!(
        r.message,
        "Ich komme gerade leider nicht an unseren Terminkalender. Soll ich veranlassen, dass wir Sie zurückrufen?"
    );
}

#[tokio::test]
async fn questions_instead_of_guesses() {
    let d = desk();
    let ask = |r: Reply| {
        assert_eq!(r.status, Status::Question, "{}", r.message);
        r.message
    };
    // 06:30 and 18:30 are both outside 08:00–18:00, so "halb sieben" cannot be placed.
    assert_eq!(
        ask(d
            .call(
                "check_availability",
                json!({"service": "massage", "datum": "morgen", "uhrzeit": "halb sieben"})
            )
            .await),
        "Meinen Sie 6:30 Uhr morgens oder 18:30 Uhr abends?"
    );
    assert_eq!(
        ask(d
            .call(
                "book_appointment",
                json!({"service": "massage", "datum": "morgen", "uhrzeit": "nachmittags", "name": "A"})
            )
            .await),
        "Zu welcher Uhrzeit genau soll ich den Termin eintragen?"
    );
    assert_eq!(
        ask(d
            .call(
                "book_appointment",
                json!({"service": "massage", "datetime": "2026-12-03T15:00:00+01:00"})
            )
            .await),
        "Auf welchen Namen darf ich den Termin eintragen?"
    );
    assert_eq!(
        ask(d
            .call_from(
                None,
                "call_w",
                "book_appointment",
                json!({"service": "massage", "datetime": "2026-12-03T15:00:00+01:00", "name": "A"})
            )
            .await),
        "Unter welcher Telefonnummer können wir Sie erreichen?"
    );
    assert!(
        ask(d
            .call("book_appointment", json!({"service": "massage", "datetime": "2026-12-03T15:00:00+01:00", "name": "A", "email": "jonas at example"}))
            .await)
        .starts_with("Die E-Mail-Adresse habe ich nicht richtig verstanden.")
    );
    assert_eq!(d.calendar.count("book"), 0, "nothing booked on a question");
}

#[tokio::test]
async fn alternatives_next_free_time_opening_hours_and_services() {
    let d = desk();
    let r = d
        .call(
            "get_alternatives",
            json!({"service": "massage", "datum": "Donnerstag", "uhrzeit": "14 Uhr"}),
        )
        .await;
    assert_eq!(r.status, Status::Alternatives, "{}", r.message);
    let offers = r.data["offers"].as_array().unwrap();
    assert!(!offers.is_empty() && offers.len() <= 3);
    assert!(
        offers.iter().all(|o| o["local_start"] != "2026-12-03T14:00:00+01:00"),
        "not the wish itself"
    );
    assert!(r.message.starts_with("Ich kann Ihnen "), "{}", r.message);

    let r = d
        .call(
            "find_next_available",
            json!({"service": "massage", "zeitraum": "nachmittags"}),
        )
        .await;
    assert_eq!(r.status, Status::NextAvailable, "{}", r.message);
    assert_eq!(
        r.message,
        "Der nächste freie Termin ist heute, am Dienstag, dem 1. Dezember, um 13 Uhr. Soll ich ihn für Sie eintragen?"
    );
    assert_eq!(r.data["formatted_time"], "13:00");

    // In the evening "nachmittags" means tomorrow afternoon, not a question about today.
    d.clock.set(Utc.with_ymd_and_hms(2026, 12, 1, 18, 30, 0).unwrap());
    let r = d
        .call(
            "find_next_available",
            json!({"service": "massage", "zeitraum": "nachmittags"}),
        )
        .await;
    assert_eq!(r.status, Status::NextAvailable, "{}", r.message);
    assert_eq!(r.data["next_available"], "2026-12-02T13:00:00+01:00", "{}", r.message);
    d.clock.set(now());

    let r = d.call("get_opening_hours", json!({"datum": "24.12."})).await;
    assert_eq!(
        r.message,
        "Am Donnerstag, dem 24. Dezember, haben wir geschlossen (Heiligabend)."
    );
    assert_eq!(r.data["open"], false);

    let r = d.call("list_services", json!({})).await;
    assert_eq!(
        r.message,
        "Wir bieten Beratung (30 Minuten) und Massage (60 Minuten) an."
    );
}

#[tokio::test]
async fn a_service_desk_company_does_not_book() {
    let d = desk_with(&PRAXIS.replace("mode: appointment", "mode: service_desk"));
    let r = d.call("check_availability", json!({"datum": "morgen"})).await;
    assert_eq!(r.status, Status::NotOffered);
    assert!(r.callback_offered && !r.success);
    assert_eq!(d.calendar.calls().len(), 0);
}
