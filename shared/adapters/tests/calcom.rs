//! The Cal.com adapter against the in-repo stand-in (`infra/calcom-standin`, always 127.0.0.1):
//! (a) the backend-agnostic contract suite, (b) the golden fixtures (our request against the
//! recorded one, the recorded answer to the right result or error), (c) every fault the stand-in
//! can inject and Cal.com's ghost booking, (d) requests on the wire. No real network call.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calcom_standin::{
    BookingStatus, Config, Endpoint, EventType, Fault, Idempotency, LoggedRequest, Origin, Running, Standin, Times,
    WEEKDAYS,
};
use chrono::{DateTime, TimeDelta, Utc};
use gateway_adapters::calcom::errors::{Op, from_response};
use gateway_adapters::calcom::versions::{BOOKINGS_VERSION, SLOTS_VERSION};
use gateway_adapters::calcom::{BOOKINGS_BUDGET, CalCom, RESERVATIONS_BUDGET, SLOTS_BUDGET};
use gateway_domain::appointments::backend::{
    Attendee, BackendError, BackendStatus, BookingMetadata, BookingRequest, CalendarBackend, CalendarRef, Reservation,
    SlotQuery,
};
use gateway_domain::appointments::calendar::local_time::Span;
use gateway_domain::appointments::calendar::slots::Slot;
use gateway_domain::appointments::setup::CalComAccount;
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};
use gateway_domain::ssrf::UrlPolicy;
use gateway_testkit::calendar_contract::{self, CalendarFixture, caller, date};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

const KEY: &str = "cal_test_contract";
/// The event type configured per the contract fixture.
const EVENT: u64 = 3001;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn calendar(id: u64) -> CalendarRef {
    CalendarRef::CalCom { event_type_id: id }
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(10))
}

/// The contract fixture's calendar as a Cal.com event type.
fn contract_event_type(f: &CalendarFixture) -> EventType {
    let minutes = |d: TimeDelta| u32::try_from(d.num_minutes()).unwrap();
    EventType::new(EVENT as i64, "beratung-30", minutes(f.rules.duration))
        .titled(&f.title)
        .in_zone("Europe/Berlin")
        .with_hours(&WEEKDAYS, (9, 0), (17, 0))
        .with_notice(minutes(f.rules.min_notice))
        .with_horizon_days(f.rules.horizon_days)
        .with_interval(minutes(f.rules.grid_step))
}

async fn contract_standin() -> (Running, CalendarFixture) {
    let f = CalendarFixture::standard();
    let cal = Standin::start(
        Config::default()
            .with_event_type(contract_event_type(&f))
            .with_now(f.now)
            .with_api_key(KEY),
    )
    .await
    .unwrap();
    (cal, f)
}

fn adapter(cal: &Running, key: &str) -> CalCom {
    let account = CalComAccount {
        api_key: key.into(),
        base_url: Some(cal.base_url()),
        webhook_secret: None,
    };
    CalCom::new(&account, UrlPolicy::local(vec![cal.addr().to_string()])).unwrap()
}

fn query(id: u64, from: &str, to: &str) -> SlotQuery {
    let f = CalendarFixture::standard();
    SlotQuery {
        calendar: calendar(id),
        range: Span::new(utc(from), utc(to)).unwrap(),
        time_zone: f.opening.tz,
        duration: TimeDelta::minutes(30),
        rules: None,
        opening: None,
        now: f.now,
    }
}

fn metadata(call: &str) -> BookingMetadata {
    BookingMetadata {
        company_id: CompanyId::new("praxis-weiss"),
        call_id: CallId::new(call),
        appointment_id: AppointmentId::new(format!("01APPT{}", call.to_uppercase())),
    }
}

fn request(id: u64, start: &str, attendee: Attendee, call: &str) -> BookingRequest {
    let start = utc(start);
    BookingRequest {
        calendar: calendar(id),
        slot: Slot::new(start, start + TimeDelta::minutes(30)),
        time_zone: CalendarFixture::standard().opening.tz,
        attendee,
        title: "Beratung".into(),
        reservation: None,
        metadata: metadata(call),
    }
}

/// Friday 2026-03-27 10:00 Berlin, free on the contract calendar.
const FRIDAY_10: &str = "2026-03-27T09:00:00Z";

// ---------------------------------------------------------------------------------------------
// (a) the contract suite
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn contract_suite_against_the_standin() {
    let (cal, f) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    calendar_contract::run_all(&backend, &calendar(EVENT), &f).await;

    // Every request of the suite carried the pinned version of its group and the key.
    let requests = cal.requests();
    assert!(requests.len() > 40, "{}", requests.len());
    for r in &requests {
        let expected = if r.path.starts_with("/v2/slots") {
            SLOTS_VERSION
        } else {
            BOOKINGS_VERSION
        };
        assert_eq!(r.version.as_deref(), Some(expected), "{} {}", r.method, r.path);
        assert_eq!(r.authorization.as_deref(), Some("Bearer cal_test_contract"));
        assert!(
            r.status.is_some_and(|s| s < 500),
            "{} {} → {:?}",
            r.method,
            r.path,
            r.status
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (b) golden fixtures
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct Golden {
    name: String,
    #[serde(default)]
    setup: Option<Value>,
    request: GoldenRequest,
    #[serde(default)]
    response: Option<GoldenResponse>,
}

#[derive(Debug, Deserialize)]
struct GoldenRequest {
    method: String,
    path: String,
    query: Option<String>,
    headers: BTreeMap<String, String>,
    body: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct GoldenResponse {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/calcom-standin/fixtures")
}

fn golden(name: &str) -> Golden {
    let path = fixtures_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let g: Golden = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(g.name, name);
    g
}

/// The fixtures' key (`fixtures/seed.json`).
const FIXTURE_KEY: &str = "cal_test_fixtures";

/// A stand-in as the fixture ran against: seeded with `fixtures/seed.json`, then the fixture's setup.
async fn golden_standin(g: &Golden) -> Running {
    let config = Config::from_file(fixtures_dir().join("seed.json")).unwrap();
    let cal = Standin::start(config).await.unwrap();
    let Some(setup) = &g.setup else { return cal };
    for armed in setup.get("faults").and_then(Value::as_array).into_iter().flatten() {
        let endpoint: Endpoint = serde_json::from_value(armed["endpoint"].clone()).unwrap();
        let fault: Fault = serde_json::from_value(armed["fault"].clone()).unwrap();
        let times: Times = serde_json::from_value(armed["times"].clone()).unwrap();
        cal.set_fault(endpoint, fault, times);
    }
    if let Some(limit) = setup.get("rateLimit") {
        cal.set_rate_limit(
            u32::try_from(limit["limit"].as_u64().unwrap()).unwrap(),
            limit["windowSeconds"].as_u64().unwrap(),
        );
    }
    let client = reqwest::Client::new();
    for before in setup.get("before").and_then(Value::as_array).into_iter().flatten() {
        let before: GoldenRequest = serde_json::from_value(before.clone()).unwrap();
        let query = before.query.map(|q| format!("?{q}")).unwrap_or_default();
        let url = format!("http://{}{}{query}", cal.addr(), before.path);
        let mut req = client.request(before.method.parse().unwrap(), url);
        for (k, v) in &before.headers {
            req = req.header(k, v);
        }
        if let Some(body) = &before.body {
            req = req.json(body);
        }
        req.send().await.unwrap();
    }
    cal
}

fn golden_adapter(cal: &Running) -> CalCom {
    adapter(cal, FIXTURE_KEY)
}

/// What our request may knowingly do differently from the recorded one (each use says why).
#[derive(Default)]
struct Differences {
    /// Query parameters we send with another value.
    query_changed: &'static [&'static str],
    /// Query parameters we send and the fixture does not.
    query_added: &'static [&'static str],
    /// Body fields of the fixture we do not send.
    body_left_out: &'static [&'static str],
    /// Body fields we send with another value.
    body_changed: &'static [&'static str],
    /// Body fields we send and the fixture does not.
    body_added: &'static [&'static str],
}

fn params(query: Option<&str>) -> BTreeMap<String, String> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The only request the adapter made (after any setup requests), checked against the fixture's.
fn assert_request_matches(cal: &Running, g: &Golden, allowed: Differences) -> LoggedRequest {
    let setup_requests = g
        .setup
        .as_ref()
        .and_then(|s| s.get("before"))
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let requests = cal.requests();
    assert_eq!(requests.len(), setup_requests + 1, "{}: one request per call", g.name);
    let ours = requests.last().unwrap().clone();
    let theirs = &g.request;
    assert_eq!(ours.method, theirs.method, "{}: method", g.name);
    assert_eq!(ours.path, theirs.path, "{}: path", g.name);
    assert_eq!(
        ours.version.as_deref(),
        theirs.headers.get("cal-api-version").map(String::as_str),
        "{}: cal-api-version",
        g.name
    );
    // We always send the key (owner-only data depends on it), also where the fixture has none.
    let expected_auth = theirs
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_else(|| format!("Bearer {FIXTURE_KEY}"));
    assert_eq!(
        ours.authorization.as_deref(),
        Some(expected_auth.as_str()),
        "{}: key",
        g.name
    );

    let (our_query, their_query) = (params(ours.query.as_deref()), params(theirs.query.as_deref()));
    for (k, v) in &their_query {
        if !allowed.query_changed.contains(&k.as_str()) {
            assert_eq!(our_query.get(k), Some(v), "{}: query {k}", g.name);
        }
    }
    for k in our_query.keys() {
        assert!(
            their_query.contains_key(k) || allowed.query_added.contains(&k.as_str()),
            "{}: unexpected query parameter {k}",
            g.name
        );
    }

    match &theirs.body {
        None | Some(Value::Null) => assert!(ours.body.is_empty(), "{}: no body expected", g.name),
        Some(Value::Object(their_body)) => {
            let our_body = ours
                .json()
                .unwrap_or_else(|| panic!("{}: our body is not JSON", g.name));
            let our_body = our_body.as_object().unwrap();
            for (k, v) in their_body {
                if allowed.body_left_out.contains(&k.as_str()) {
                    assert!(!our_body.contains_key(k), "{}: {k} is not sent", g.name);
                } else if !allowed.body_changed.contains(&k.as_str()) {
                    assert_eq!(our_body.get(k), Some(v), "{}: body {k}", g.name);
                }
            }
            for k in our_body.keys() {
                assert!(
                    their_body.contains_key(k) || allowed.body_added.contains(&k.as_str()),
                    "{}: unexpected body field {k}",
                    g.name
                );
            }
        }
        Some(other) => panic!("{}: unexpected fixture body {other}", g.name),
    }
    ours
}

/// The fixture's recorded answer, run through the adapter's error mapping verbatim.
fn recorded_error(name: &str, op: Op) -> BackendError {
    let g = golden(name);
    let response = g.response.unwrap();
    let mut headers = HeaderMap::new();
    for (k, v) in &response.headers {
        let value = v.replace("<int>", "30");
        headers.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(&value).unwrap(),
        );
    }
    from_response(op, response.status, &headers, response.body.to_string().as_bytes())
}

/// The slots of a recorded `GET /v2/slots` answer, in UTC (ends from `format=range`, else +30).
fn recorded_slots(g: &Golden) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let data = g.response.as_ref().unwrap().body["data"].as_object().unwrap().clone();
    let mut slots: Vec<_> = data
        .values()
        .flat_map(|items| items.as_array().unwrap().clone())
        .map(|item| {
            let start = DateTime::parse_from_rfc3339(item["start"].as_str().unwrap())
                .unwrap()
                .to_utc();
            let end = item["end"].as_str().map_or(start + TimeDelta::minutes(30), |e| {
                DateTime::parse_from_rfc3339(e).unwrap().to_utc()
            });
            (start, end)
        })
        .collect();
    slots.sort();
    slots
}

fn as_pairs(slots: &[Slot]) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    slots.iter().map(|s| (s.start, s.end)).collect()
}

/// Fixtures the adapter's calls reproduce (request compared, answer mapped by the live adapter).
const DRIVEN: &[&str] = &[
    "slots_range_format",
    "slots_time_format",
    "slots_empty",
    "slots_unknown_event_type_404",
    "rate_limited_429",
    "reservation_create_201",
    "reservation_delete_200",
    "create_201_accepted",
    "create_201_existing_booking_replayed",
    "create_201_pending",
    "create_400_in_past",
    "create_400_out_of_bounds",
    "create_400_reserved_by_someone_else",
    "create_400_slot_taken",
    "create_401_invalid_api_key",
    "create_404_unknown_event_type",
    "create_409_conflict",
    "get_200",
    "get_404",
    "cancel_200",
    "cancel_400_already_cancelled",
    "cancel_400_ended",
    "cancel_404",
    "reschedule_201",
    "reschedule_404",
];

/// Fixtures whose request the adapter never sends (a wrong version, a field we never set, a
/// phone we refuse before sending, a call the port does not have): only their recorded answer is
/// mapped.
const MAPPED_ONLY: &[&str] = &[
    "slots_wrong_version_404",
    "create_400_length_not_allowed",
    "create_400_metadata_limits",
    "create_400_validation",
    "list_401_without_key",
];

/// Not the adapter's business: the webhooks come in elsewhere, list and reservation reads are not
/// in the port, `seed.json` is the stand-in's seed.
const NOT_RELEVANT: &[&str] = &[
    "seed",
    "list_200_offset",
    "reservation_get_200",
    "webhook_booking_created",
    "webhook_booking_cancelled",
    "webhook_booking_rescheduled",
];

#[test]
fn every_fixture_is_accounted_for() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = DRIVEN
        .iter()
        .chain(MAPPED_ONLY)
        .chain(NOT_RELEVANT)
        .map(|s| (*s).to_string())
        .collect();
    assert_eq!(
        on_disk, listed,
        "a new fixture needs a golden test (or a reason to skip it)"
    );
}

#[test]
fn every_recorded_error_maps_to_its_backend_error() {
    use BackendError::*;
    let is = |name: &str, op: Op, check: &dyn Fn(&BackendError) -> bool| {
        let err = recorded_error(name, op);
        assert!(check(&err), "{name}: {err:?}");
    };
    is("slots_unknown_event_type_404", Op::Slots, &|e| {
        matches!(e, UnknownCalendar(_))
    });
    is(
        "slots_wrong_version_404",
        Op::Slots,
        &|e| matches!(e, Unavailable(t) if t.contains("cal-api-version")),
    );
    is("rate_limited_429", Op::Slots, &|e| {
        *e == RateLimited {
            retry_after: Some(Duration::from_secs(30)),
        }
    });
    is("create_400_in_past", Op::Create, &|e| *e == InPast);
    is("create_400_out_of_bounds", Op::Create, &|e| matches!(e, OutOfBounds(_)));
    is("create_400_reserved_by_someone_else", Op::Create, &|e| *e == Taken);
    is("create_400_slot_taken", Op::Create, &|e| *e == Taken);
    is("create_409_conflict", Op::Create, &|e| *e == Taken);
    is("create_404_unknown_event_type", Op::Create, &|e| {
        matches!(e, UnknownCalendar(_))
    });
    is("create_401_invalid_api_key", Op::Create, &|e| matches!(e, Rejected(_)));
    is(
        "create_400_length_not_allowed",
        Op::Create,
        &|e| matches!(e, Rejected(t) if t.contains("lengthInMinutes")),
    );
    is(
        "create_400_metadata_limits",
        Op::Create,
        &|e| matches!(e, Rejected(t) if t.contains("metadata")),
    );
    is(
        "create_400_validation",
        Op::Create,
        &|e| matches!(e, Rejected(t) if t.contains("attendee.timeZone") && t.contains("attendee.phoneNumber")),
    );
    is("list_401_without_key", Op::Get, &|e| matches!(e, Rejected(_)));
    is("get_404", Op::Get, &|e| *e == NotFound);
    is("cancel_404", Op::Cancel, &|e| *e == NotFound);
    is("cancel_400_already_cancelled", Op::Cancel, &|e| *e == AlreadyCancelled);
    is(
        "cancel_400_ended",
        Op::Cancel,
        &|e| matches!(e, Rejected(t) if t.contains("already ended")),
    );
    is("reschedule_404", Op::Reschedule, &|e| *e == NotFound);
    // Only answers about Cal.com's health count towards the circuit breaker.
    assert!(recorded_error("rate_limited_429", Op::Slots).counts_against_backend());
    assert!(!recorded_error("create_400_slot_taken", Op::Create).counts_against_backend());
    assert!(!recorded_error("create_401_invalid_api_key", Op::Create).counts_against_backend());
}

#[tokio::test]
async fn golden_slots_range_format() {
    let g = golden("slots_range_format");
    let cal = golden_standin(&g).await;
    let slots = golden_adapter(&cal)
        .free_slots(&query(1001, "2026-03-02T08:00:00Z", "2026-03-02T11:00:00Z"), deadline())
        .await
        .unwrap();
    let ours = assert_request_matches(&cal, &g, Differences::default());
    assert_eq!(ours.query, g.request.query, "byte for byte");
    assert_eq!(as_pairs(&slots), recorded_slots(&g));
    assert_eq!(slots[0].start, utc("2026-03-02T08:00:00Z"));
    assert_eq!(slots.len(), 5);
}

#[tokio::test]
async fn golden_slots_time_format() {
    let g = golden("slots_time_format");
    let cal = golden_standin(&g).await;
    // The Berlin day 2026-03-02: local midnight to local midnight.
    let slots = golden_adapter(&cal)
        .free_slots(&query(1001, "2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z"), deadline())
        .await
        .unwrap();
    // We always ask for ends (`format=range`); the bounds are the same explicit instants.
    assert_request_matches(
        &cal,
        &g,
        Differences {
            query_added: &["format"],
            ..Differences::default()
        },
    );
    assert_eq!(as_pairs(&slots), recorded_slots(&g));
}

#[tokio::test]
async fn golden_slots_empty() {
    let g = golden("slots_empty");
    let cal = golden_standin(&g).await;
    // Saturday 2026-03-07 in Berlin, as explicit instants (never date-only: a date is a UTC day).
    let slots = golden_adapter(&cal)
        .free_slots(&query(1001, "2026-03-06T23:00:00Z", "2026-03-07T23:00:00Z"), deadline())
        .await
        .unwrap();
    let ours = assert_request_matches(
        &cal,
        &g,
        Differences {
            query_changed: &["start", "end"],
            query_added: &["format"],
            ..Differences::default()
        },
    );
    let q = params(ours.query.as_deref());
    assert_eq!(q["start"], "2026-03-06T23:00:00Z");
    assert_eq!(q["end"], "2026-03-07T22:59:59Z");
    assert!(slots.is_empty());
}

#[tokio::test]
async fn golden_slots_unknown_event_type_404() {
    let g = golden("slots_unknown_event_type_404");
    let cal = golden_standin(&g).await;
    let err = golden_adapter(&cal)
        .free_slots(&query(4242, "2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z"), deadline())
        .await
        .unwrap_err();
    assert_request_matches(
        &cal,
        &g,
        Differences {
            query_changed: &["start", "end"],
            query_added: &["timeZone", "format"],
            ..Differences::default()
        },
    );
    assert!(matches!(err, BackendError::UnknownCalendar(_)), "{err:?}");
}

#[tokio::test]
async fn golden_rate_limited_429() {
    let g = golden("rate_limited_429");
    let cal = golden_standin(&g).await;
    let err = golden_adapter(&cal)
        .free_slots(&query(1001, "2026-03-01T23:00:00Z", "2026-03-02T23:00:00Z"), deadline())
        .await
        .unwrap_err();
    assert_request_matches(
        &cal,
        &g,
        Differences {
            query_changed: &["start", "end"],
            query_added: &["timeZone", "format"],
            ..Differences::default()
        },
    );
    match err {
        BackendError::RateLimited {
            retry_after: Some(after),
        } => assert!(after > Duration::ZERO && after <= Duration::from_secs(60), "{after:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn golden_reservation_create_201() {
    let g = golden("reservation_create_201");
    let cal = golden_standin(&g).await;
    let slot = Slot::new(utc("2026-03-02T14:00:00Z"), utc("2026-03-02T14:30:00Z"));
    let reservation = golden_adapter(&cal)
        .reserve(&calendar(1001), &slot, deadline())
        .await
        .unwrap()
        .expect("Cal.com reserves");
    assert_request_matches(&cal, &g, Differences::default());
    assert_eq!(reservation.uid.len(), 36, "a UUID: {}", reservation.uid);
    assert_eq!(
        reservation.until,
        utc("2026-03-01T12:05:00Z"),
        "5 minutes after the frozen now"
    );
    assert_eq!(
        cal.reservations().iter().filter(|r| r.uid == reservation.uid).count(),
        1
    );
}

#[tokio::test]
async fn golden_reservation_delete_200() {
    let g = golden("reservation_delete_200");
    let cal = golden_standin(&g).await;
    let reservation = Reservation {
        uid: "6f1c1f4e-2c41-4a8e-9d1b-0c5a1f2e3d4c".into(),
        until: utc("2026-03-01T12:05:00Z"),
    };
    golden_adapter(&cal).release(&reservation, deadline()).await.unwrap();
    assert_request_matches(&cal, &g, Differences::default());
    assert!(cal.reservations().is_empty());
}

fn max() -> Attendee {
    Attendee {
        name: "Max Mustermann".into(),
        phone: Some("+4915187654321".into()),
        email: Some("max@example.de".into()),
        language: "de".into(),
    }
}

/// The fixture's create bodies carry a `location` (the port has none: the event type's own
/// location applies, the fixture's answer shows the same text) and their own metadata keys
/// (`tenant`); ours are our ids from `BookingMetadata::to_map`.
const CREATE_WITH_LOCATION: Differences = Differences {
    query_changed: &[],
    query_added: &[],
    body_left_out: &["location"],
    body_changed: &["metadata"],
    body_added: &[],
};
/// Fixtures without metadata: we always send our ids.
const CREATE_PLUS_METADATA: Differences = Differences {
    query_changed: &[],
    query_added: &[],
    body_left_out: &[],
    body_changed: &[],
    body_added: &["metadata"],
};

async fn golden_create(name: &str, request: &BookingRequest, allowed: Differences) -> Result<(), BackendError> {
    let g = golden(name);
    let cal = golden_standin(&g).await;
    let result = golden_adapter(&cal).book(request, deadline()).await;
    let ours = assert_request_matches(&cal, &g, allowed);
    let body = ours.json().unwrap();
    let sent: BTreeMap<String, String> = serde_json::from_value(body["metadata"].clone()).unwrap();
    assert_eq!(sent, request.metadata.to_map(), "{name}: our ids go along");
    result.map(|_| ())
}

#[tokio::test]
async fn golden_create_201_accepted() {
    let g = golden("create_201_accepted");
    let cal = golden_standin(&g).await;
    let request = request(1001, "2026-03-02T09:00:00Z", max(), "call_abc123");
    let booking = golden_adapter(&cal).book(&request, deadline()).await.unwrap();
    let ours = assert_request_matches(&cal, &g, CREATE_WITH_LOCATION);
    assert_eq!(
        ours.json().unwrap()["metadata"]["call_id"],
        g.request.body.as_ref().unwrap()["metadata"]["call_id"]
    );
    assert_eq!(booking.uid.len(), 22);
    assert_eq!(
        (booking.start, booking.end),
        (utc("2026-03-02T09:00:00Z"), utc("2026-03-02T09:30:00Z"))
    );
    assert_eq!(booking.status, BackendStatus::Accepted);
    assert_eq!(booking.attendee.as_ref().unwrap().name, "Max Mustermann");
    assert_eq!(
        booking.attendee.as_ref().unwrap().phone.as_deref(),
        Some("+4915187654321")
    );
    assert_eq!(booking.metadata, request.metadata.to_map());
    assert_eq!(booking.rescheduled_from, None);
}

#[tokio::test]
async fn golden_create_201_existing_booking_replayed() {
    // Cal.com's idempotency: same start and e-mail as Anna's booking → Anna's booking, 201.
    let attendee = Attendee {
        name: "Someone Different".into(),
        phone: None,
        email: Some("anna@example.de".into()),
        language: "de".into(),
    };
    let request = request(1001, "2026-03-02T10:00:00Z", attendee, "call_ghost");
    let err = golden_create("create_201_existing_booking_replayed", &request, CREATE_PLUS_METADATA)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Untrusted(t) if t.contains("FxBookedMon10h0000001a")),
        "{err:?}"
    );
}

#[tokio::test]
async fn golden_create_201_pending() {
    let g = golden("create_201_pending");
    let cal = golden_standin(&g).await;
    let mut attendee = max();
    attendee.email = None;
    let request = request(1002, "2026-03-02T09:00:00Z", attendee, "call_pending");
    let booking = golden_adapter(&cal).book(&request, deadline()).await.unwrap();
    assert_request_matches(&cal, &g, CREATE_PLUS_METADATA);
    assert_eq!(booking.status, BackendStatus::Pending);
}

#[tokio::test]
async fn golden_create_400_in_past() {
    let request = request(1001, "2026-02-26T09:00:00Z", max(), "call_past");
    let err = golden_create("create_400_in_past", &request, CREATE_PLUS_METADATA).await;
    assert_eq!(err, Err(BackendError::InPast));
}

#[tokio::test]
async fn golden_create_400_out_of_bounds() {
    let request = request(1001, "2026-05-04T08:00:00Z", max(), "call_far");
    let err = golden_create("create_400_out_of_bounds", &request, CREATE_PLUS_METADATA).await;
    assert!(matches!(err, Err(BackendError::OutOfBounds(_))), "{err:?}");
}

#[tokio::test]
async fn golden_create_400_reserved_by_someone_else() {
    let request = request(1001, "2026-03-02T12:00:00Z", max(), "call_reserved");
    let err = golden_create("create_400_reserved_by_someone_else", &request, CREATE_PLUS_METADATA).await;
    assert_eq!(err, Err(BackendError::Taken));
}

#[tokio::test]
async fn golden_create_400_slot_taken() {
    let request = request(1001, "2026-03-02T10:00:00Z", max(), "call_taken");
    let err = golden_create("create_400_slot_taken", &request, CREATE_PLUS_METADATA).await;
    assert_eq!(err, Err(BackendError::Taken));
}

#[tokio::test]
async fn golden_create_401_invalid_api_key() {
    let g = golden("create_401_invalid_api_key");
    let cal = golden_standin(&g).await;
    let backend = adapter(&cal, "cal_test_wrong");
    let request = request(1001, "2026-03-02T09:00:00Z", max(), "call_abc123");
    let err = backend.book(&request, deadline()).await.unwrap_err();
    assert_request_matches(&cal, &g, CREATE_WITH_LOCATION);
    assert!(matches!(err, BackendError::Rejected(_)), "{err:?}");
    for text in [err.to_string(), format!("{err:?}"), format!("{backend:?}")] {
        assert!(!text.contains("cal_test_wrong"), "the key leaked: {text}");
    }
}

#[tokio::test]
async fn golden_create_404_unknown_event_type() {
    let request = request(4242, "2026-03-02T09:00:00Z", max(), "call_unknown");
    let err = golden_create("create_404_unknown_event_type", &request, CREATE_PLUS_METADATA).await;
    assert!(matches!(err, Err(BackendError::UnknownCalendar(_))), "{err:?}");
}

#[tokio::test]
async fn golden_create_409_conflict() {
    let request = request(1001, "2026-03-02T09:00:00Z", max(), "call_abc123");
    let err = golden_create("create_409_conflict", &request, CREATE_WITH_LOCATION).await;
    assert_eq!(err, Err(BackendError::Taken));
}

#[tokio::test]
async fn golden_get_200() {
    let g = golden("get_200");
    let cal = golden_standin(&g).await;
    let booking = golden_adapter(&cal)
        .get(&calendar(1001), "FxBookedMon10h0000001a", deadline())
        .await
        .unwrap();
    assert_request_matches(&cal, &g, Differences::default());
    assert_eq!(booking.uid, "FxBookedMon10h0000001a");
    assert_eq!(
        (booking.start, booking.end),
        (utc("2026-03-02T10:00:00Z"), utc("2026-03-02T10:30:00Z"))
    );
    assert_eq!(booking.status, BackendStatus::Accepted);
    let attendee = booking.attendee.unwrap();
    assert_eq!(
        (attendee.name.as_str(), attendee.email.as_deref()),
        ("Anna Alt", Some("anna@example.de"))
    );
    assert_eq!(attendee.language, "de");
    assert_eq!(
        booking.metadata,
        BTreeMap::from([("call_id".to_string(), "call_seed_1".to_string())])
    );
}

#[tokio::test]
async fn golden_get_404() {
    let g = golden("get_404");
    let cal = golden_standin(&g).await;
    let err = golden_adapter(&cal)
        .get(&calendar(1001), "UnknownUid000000000000", deadline())
        .await
        .unwrap_err();
    assert_request_matches(&cal, &g, Differences::default());
    assert_eq!(err, BackendError::NotFound);
}

async fn golden_cancel(name: &str, uid: &str, reason: &str, allowed: Differences) -> Result<(), BackendError> {
    let g = golden(name);
    let cal = golden_standin(&g).await;
    let result = golden_adapter(&cal)
        .cancel(&calendar(1001), uid, reason, deadline())
        .await;
    assert_request_matches(&cal, &g, allowed);
    result
}

/// We always give a reason (the fixture sometimes sends `{}`).
const CANCEL_WITH_REASON: Differences = Differences {
    query_changed: &[],
    query_added: &[],
    body_left_out: &[],
    body_changed: &[],
    body_added: &["cancellationReason"],
};

#[tokio::test]
async fn golden_cancel_200() {
    let result = golden_cancel(
        "cancel_200",
        "FxBookedMon10h0000001a",
        "Kunde verhindert",
        Differences::default(),
    )
    .await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn golden_cancel_400_already_cancelled() {
    let result = golden_cancel(
        "cancel_400_already_cancelled",
        "FxCancelledTue0000001b",
        "nochmal",
        Differences::default(),
    )
    .await;
    assert_eq!(result, Err(BackendError::AlreadyCancelled));
}

#[tokio::test]
async fn golden_cancel_400_ended() {
    let result = golden_cancel(
        "cancel_400_ended",
        "FxEndedFri0000000001cZ",
        "zu spaet",
        CANCEL_WITH_REASON,
    )
    .await;
    assert!(
        matches!(&result, Err(BackendError::Rejected(t)) if t.contains("already ended")),
        "{result:?}"
    );
}

#[tokio::test]
async fn golden_cancel_404() {
    let result = golden_cancel("cancel_404", "UnknownUid000000000000", "egal", CANCEL_WITH_REASON).await;
    assert_eq!(result, Err(BackendError::NotFound));
}

#[tokio::test]
async fn golden_reschedule_201() {
    let g = golden("reschedule_201");
    let cal = golden_standin(&g).await;
    let to = Slot::new(utc("2026-03-03T13:00:00Z"), utc("2026-03-03T13:30:00Z"));
    let moved = golden_adapter(&cal)
        .reschedule(
            &calendar(1001),
            "FxBookedMon10h0000001a",
            &to,
            "Terminwunsch geaendert",
            deadline(),
        )
        .await
        .unwrap();
    // `rescheduledBy` is for the owner's e-mail (auto-confirm); the port has no such person.
    assert_request_matches(
        &cal,
        &g,
        Differences {
            body_left_out: &["rescheduledBy"],
            ..Differences::default()
        },
    );
    assert_ne!(moved.uid, "FxBookedMon10h0000001a", "a new uid");
    assert_eq!(moved.rescheduled_from.as_deref(), Some("FxBookedMon10h0000001a"));
    assert_eq!((moved.start, moved.end), (to.start, to.end));
    assert_eq!(moved.status, BackendStatus::Accepted);
    assert_eq!(moved.metadata.get("call_id").map(String::as_str), Some("call_seed_1"));
}

#[tokio::test]
async fn golden_reschedule_404() {
    let g = golden("reschedule_404");
    let cal = golden_standin(&g).await;
    let to = Slot::new(utc("2026-03-03T13:00:00Z"), utc("2026-03-03T13:30:00Z"));
    let err = golden_adapter(&cal)
        .reschedule(&calendar(1001), "UnknownUid000000000000", &to, "egal", deadline())
        .await
        .unwrap_err();
    assert_request_matches(
        &cal,
        &g,
        Differences {
            body_added: &["reschedulingReason"],
            ..Differences::default()
        },
    );
    assert_eq!(err, BackendError::NotFound);
}

#[tokio::test]
async fn a_phone_cal_com_would_refuse_is_refused_before_sending() {
    // create_400_validation's phone ("0151 8765", not E.164) never leaves the adapter.
    let g = golden("create_400_validation");
    let cal = golden_standin(&g).await;
    let mut attendee = max();
    attendee.phone = Some("0151 8765".into());
    let err = golden_adapter(&cal)
        .book(
            &request(1001, "2026-03-02T09:00:00Z", attendee, "call_bad_phone"),
            deadline(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Rejected(t) if t.contains("E.164")),
        "{err:?}"
    );
    let mut nobody = max();
    nobody.phone = None;
    nobody.email = None;
    let err = golden_adapter(&cal)
        .book(
            &request(1001, "2026-03-02T09:00:00Z", nobody, "call_no_contact"),
            deadline(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Rejected(_)), "{err:?}");
    assert!(cal.requests().is_empty());
}

// ---------------------------------------------------------------------------------------------
// (c) faults and the ghost booking
// ---------------------------------------------------------------------------------------------

fn friday_query() -> SlotQuery {
    let f = CalendarFixture::standard();
    f.day_query(&calendar(EVENT), date(2026, 3, 27))
}

fn friday_booking(name: &str, number: u32, call: &str) -> BookingRequest {
    request(EVENT, FRIDAY_10, caller(name, number), call)
}

fn active_at(cal: &Running, start: &str) -> Vec<calcom_standin::Booking> {
    cal.bookings()
        .into_iter()
        .filter(|b| b.start == utc(start) && b.status.is_active())
        .collect()
}

#[tokio::test]
async fn a_500_is_unavailable_and_not_retried() {
    let (cal, _) = contract_standin().await;
    cal.set_fault(Endpoint::Slots, Fault::Status(500), Times::UntilCleared);
    let err = adapter(&cal, KEY)
        .free_slots(&friday_query(), deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Unavailable(t) if t.contains("500")),
        "{err:?}"
    );
    assert!(err.counts_against_backend());
    assert_eq!(cal.requests().len(), 1, "no retry inside the adapter");

    cal.set_fault(Endpoint::Create, Fault::Status(500), Times::Next(1));
    let err = adapter(&cal, KEY)
        .book(&friday_booking("Karl Fehler", 10, "call_500"), deadline())
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Unavailable(_)), "{err:?}");
}

#[tokio::test]
async fn a_cloudflare_plain_text_answer_is_unavailable() {
    let (cal, _) = contract_standin().await;
    cal.set_fault(Endpoint::Slots, Fault::Status(502), Times::Next(1));
    let err = adapter(&cal, KEY)
        .free_slots(&friday_query(), deadline())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Unavailable("HTTP 502: error code: 502".into()));
}

#[tokio::test]
async fn a_hang_on_slots_times_out_within_the_slots_budget() {
    let (cal, _) = contract_standin().await;
    cal.set_fault(Endpoint::Slots, Fault::Hang, Times::Next(1));
    let started = Instant::now();
    let err = adapter(&cal, KEY)
        .free_slots(&friday_query(), Deadline::none())
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, BackendError::Timeout);
    assert!(err.counts_against_backend());
    assert!(
        took >= SLOTS_BUDGET - Duration::from_millis(50) && took < SLOTS_BUDGET + Duration::from_millis(700),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_hang_on_create_is_cut_by_the_deadline() {
    let (cal, _) = contract_standin().await;
    cal.set_fault(Endpoint::Create, Fault::Hang, Times::Next(1));
    let started = Instant::now();
    let err = adapter(&cal, KEY)
        .book(
            &friday_booking("Lena Warten", 11, "call_hang"),
            Deadline::after(Duration::from_millis(400)),
        )
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Timeout);
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    assert!(active_at(&cal, FRIDAY_10).is_empty(), "a hang writes nothing");
}

#[tokio::test]
async fn budgets_are_the_voice_budgets() {
    assert!(SLOTS_BUDGET <= Duration::from_secs(2));
    assert!(RESERVATIONS_BUDGET <= Duration::from_secs(2));
    assert!(BOOKINGS_BUDGET <= Duration::from_secs(6));
}

#[tokio::test]
async fn commit_then_hang_is_a_timeout_and_a_retry_gets_our_own_booking() {
    let (cal, _) = contract_standin().await;
    cal.set_fault(Endpoint::Create, Fault::CommitThenHang, Times::Next(1));
    let backend = adapter(&cal, KEY);
    let request = friday_booking("Mia Verloren", 12, "call_commit");
    let err = backend
        .book(&request, Deadline::after(Duration::from_millis(500)))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        BackendError::Timeout,
        "the outcome is unknown: never success, never taken"
    );
    let written = active_at(&cal, FRIDAY_10);
    assert_eq!(written.len(), 1, "Cal.com did write it");
    // The engine may retry the same booking (same call, same attendee): Cal.com's idempotency
    // answers with the booking it wrote, and it is ours, so the adapter accepts it.
    let again = backend.book(&request, deadline()).await.unwrap();
    assert_eq!(again.uid, written[0].uid);
    assert_eq!(active_at(&cal, FRIDAY_10).len(), 1, "still one booking");
}

#[tokio::test]
async fn a_malformed_200_is_untrusted() {
    let (cal, _) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    cal.set_fault(Endpoint::Create, Fault::Malformed, Times::Next(1));
    let err = backend
        .book(&friday_booking("Nora Kaputt", 13, "call_malformed"), deadline())
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Untrusted(_)), "{err:?}");
    assert!(!err.counts_against_backend());
    cal.set_fault(Endpoint::Slots, Fault::Malformed, Times::Next(1));
    let err = backend.free_slots(&friday_query(), deadline()).await.unwrap_err();
    assert!(matches!(err, BackendError::Untrusted(_)), "{err:?}");
    cal.set_fault(Endpoint::Get, Fault::Malformed, Times::Next(1));
    let err = backend.get(&calendar(EVENT), "AnyUid", deadline()).await.unwrap_err();
    assert!(matches!(err, BackendError::Untrusted(_)), "{err:?}");
}

#[tokio::test]
async fn a_slot_taken_between_offer_and_booking_is_taken() {
    let (cal, _) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    let offered = backend.free_slots(&friday_query(), deadline()).await.unwrap();
    assert!(offered.iter().any(|s| s.start == utc(FRIDAY_10)));
    cal.set_fault(Endpoint::Create, Fault::SlotTaken, Times::Next(1));
    let err = backend
        .book(&friday_booking("Otto Spaet", 14, "call_race"), deadline())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Taken);
    let active = active_at(&cal, FRIDAY_10);
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].origin, Origin::Foreign, "only someone else's booking");
}

#[tokio::test]
async fn a_409_conflict_is_taken() {
    let (cal, _) = contract_standin().await;
    cal.set_fault(Endpoint::Create, Fault::Conflict, Times::Next(1));
    let err = adapter(&cal, KEY)
        .book(&friday_booking("Paula Gleichzeitig", 15, "call_409"), deadline())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Taken);
    assert!(!err.counts_against_backend());
}

#[tokio::test]
async fn a_429_carries_retry_after() {
    let (cal, _) = contract_standin().await;
    cal.set_rate_limit(1, 60);
    let backend = adapter(&cal, KEY);
    backend.free_slots(&friday_query(), deadline()).await.unwrap();
    let err = backend.free_slots(&friday_query(), deadline()).await.unwrap_err();
    match &err {
        BackendError::RateLimited {
            retry_after: Some(after),
        } => assert!(
            *after > Duration::ZERO && *after <= Duration::from_secs(60),
            "{after:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(err.counts_against_backend());
    assert_eq!(cal.requests().len(), 2, "no retry, no sleep");
}

#[tokio::test]
async fn a_slow_answer_inside_the_budget_is_fine() {
    let (cal, _) = contract_standin().await;
    cal.set_fault(Endpoint::Slots, Fault::Delay { ms: 300 }, Times::Next(1));
    let slots = adapter(&cal, KEY)
        .free_slots(&friday_query(), deadline())
        .await
        .unwrap();
    assert_eq!(slots.len(), 31);
}

#[tokio::test]
async fn the_ghost_booking_of_another_attendee_is_untrusted() {
    // Cal.com's key start.end.hostUserId read literally: any create for the host and time
    // answers 201 with the existing booking.
    let (cal, _) = contract_standin().await;
    cal.set_idempotency(Idempotency::SameSlot);
    let backend = adapter(&cal, KEY);
    let first = backend
        .book(&friday_booking("Quirin Erster", 16, "call_first"), deadline())
        .await
        .unwrap();
    let err = backend
        .book(&friday_booking("Rosa Zweite", 17, "call_second"), deadline())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackendError::Untrusted(t) if t.contains(&first.uid)),
        "{err:?}"
    );
    assert!(!err.counts_against_backend());
    assert_eq!(active_at(&cal, FRIDAY_10).len(), 1, "never a second booking");
}

#[tokio::test]
async fn the_ghost_booking_behind_a_shared_email_is_untrusted() {
    // The seed system's incident: two callers with the same placeholder e-mail.
    let (cal, _) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    let mut first = friday_booking("Sven Alt", 18, "call_a");
    first.attendee.email = Some("termin@example.de".into());
    backend.book(&first, deadline()).await.unwrap();
    let mut second = friday_booking("Tina Neu", 19, "call_b");
    second.attendee.email = Some("termin@example.de".into());
    let err = backend.book(&second, deadline()).await.unwrap_err();
    assert!(matches!(err, BackendError::Untrusted(_)), "{err:?}");
    // Same person, same e-mail, but another call's booking: not ours either.
    let mut third = first.clone();
    third.metadata = metadata("call_c");
    let err = backend.book(&third, deadline()).await.unwrap_err();
    assert!(
        matches!(&err, BackendError::Untrusted(t) if t.contains("call_id")),
        "{err:?}"
    );
    assert_eq!(active_at(&cal, FRIDAY_10).len(), 1);
}

#[tokio::test]
async fn no_time_left_sends_nothing() {
    let (cal, _) = contract_standin().await;
    let past = Deadline::after(Duration::ZERO);
    let err = adapter(&cal, KEY).free_slots(&friday_query(), past).await.unwrap_err();
    assert_eq!(err, BackendError::Timeout);
    assert!(cal.requests().is_empty());
}

#[tokio::test]
async fn the_ssrf_policy_applies_to_the_base_url() {
    let (cal, _) = contract_standin().await;
    let account = CalComAccount {
        api_key: KEY.into(),
        base_url: Some(cal.base_url()),
        webhook_secret: None,
    };
    let strict = CalCom::new(&account, UrlPolicy::strict()).unwrap();
    let err = strict.free_slots(&friday_query(), deadline()).await.unwrap_err();
    assert!(
        matches!(&err, BackendError::Rejected(t) if t.contains("base URL")),
        "{err:?}"
    );
    assert!(cal.requests().is_empty());
    assert!(!format!("{strict:?}").contains(KEY), "the key stays out of Debug");
}

#[tokio::test]
async fn a_caldav_calendar_is_not_a_cal_com_event_type() {
    let (cal, _) = contract_standin().await;
    let caldav = CalendarRef::CalDav {
        calendar_path: "/praxis/termine/".into(),
    };
    let err = adapter(&cal, KEY).get(&caldav, "x", deadline()).await.unwrap_err();
    assert!(matches!(err, BackendError::UnknownCalendar(_)), "{err:?}");
    assert!(cal.requests().is_empty());
}

#[tokio::test]
async fn releasing_twice_is_harmless_and_a_booked_slot_cannot_be_reserved() {
    let (cal, _) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    let slot = Slot::new(utc(FRIDAY_10), utc(FRIDAY_10) + TimeDelta::minutes(30));
    let reservation = backend
        .reserve(&calendar(EVENT), &slot, deadline())
        .await
        .unwrap()
        .unwrap();
    backend.release(&reservation, deadline()).await.unwrap();
    backend.release(&reservation, deadline()).await.unwrap();
    backend
        .book(&friday_booking("Uwe Fest", 20, "call_fixed"), deadline())
        .await
        .unwrap();
    let err = backend.reserve(&calendar(EVENT), &slot, deadline()).await.unwrap_err();
    assert_eq!(err, BackendError::Taken);
}

#[tokio::test]
async fn a_reschedule_onto_a_taken_slot_is_taken() {
    let (cal, _) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    let mine = backend
        .book(&friday_booking("Vera Verschieben", 21, "call_move"), deadline())
        .await
        .unwrap();
    let other = request(EVENT, "2026-03-27T10:00:00Z", caller("Willi Da", 22), "call_there");
    backend.book(&other, deadline()).await.unwrap();
    let err = backend
        .reschedule(&calendar(EVENT), &mine.uid, &other.slot, "passt nicht", deadline())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Taken);
    let read = backend.get(&calendar(EVENT), &mine.uid, deadline()).await.unwrap();
    assert_eq!(read.status, BackendStatus::Accepted, "the original stays");
}

// ---------------------------------------------------------------------------------------------
// (d) requests on the wire
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn one_request_per_slot_search_even_for_two_weeks() {
    let (cal, f) = contract_standin().await;
    let q = f.query(&calendar(EVENT), date(2026, 3, 27), date(2026, 4, 9));
    let slots = adapter(&cal, KEY).free_slots(&q, deadline()).await.unwrap();
    assert_eq!(slots.len(), 10 * 31, "ten working days");
    let requests = cal.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v2/slots"));
    assert_eq!(r.version.as_deref(), Some("2024-09-04"));
    assert_eq!(r.authorization.as_deref(), Some("Bearer cal_test_contract"));
    assert_eq!(
        r.query.as_deref(),
        Some(
            "eventTypeId=3001&start=2026-03-26T23:00:00Z&end=2026-04-09T21:59:59Z\
             &timeZone=Europe/Berlin&format=range"
        ),
        "explicit instants: local midnight in winter time, the second before local midnight in summer time"
    );
}

#[tokio::test]
async fn one_request_per_booking_and_two_with_a_reservation() {
    let (cal, _) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    let plain = friday_booking("Xaver Direkt", 23, "call_plain");
    backend.book(&plain, deadline()).await.unwrap();
    let requests = cal.requests();
    assert_eq!(requests.len(), 1);
    let body = requests[0].json().unwrap();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("POST", "/v2/bookings")
    );
    assert_eq!(requests[0].version.as_deref(), Some("2024-08-13"));
    assert_eq!(
        body,
        json!({
            "start": "2026-03-27T09:00:00Z",
            "eventTypeId": 3001,
            "attendee": {"name": "Xaver Direkt", "timeZone": "Europe/Berlin", "phoneNumber": "+4915100000023", "language": "de"},
            "metadata": {"appointment_id": "01APPTCALL_PLAIN", "booked_via": "service-gateway", "call_id": "call_plain", "company_id": "praxis-weiss"}
        })
    );

    cal.clear_requests();
    let start = "2026-03-27T11:00:00Z";
    let mut held = request(EVENT, start, caller("Yvonne Gehalten", 24), "call_held");
    held.reservation = backend.reserve(&calendar(EVENT), &held.slot, deadline()).await.unwrap();
    let uid = held.reservation.as_ref().unwrap().uid.clone();
    let booking = backend.book(&held, deadline()).await.unwrap();
    assert_eq!(booking.start, utc(start));
    let requests = cal.requests();
    let lines: Vec<(&str, &str, Option<&str>)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.version.as_deref()))
        .collect();
    assert_eq!(
        lines,
        [
            ("POST", "/v2/slots/reservations", Some("2024-09-04")),
            ("POST", "/v2/bookings", Some("2024-08-13"))
        ]
    );
    assert_eq!(
        requests[0].json().unwrap(),
        json!({"eventTypeId": 3001, "slotStart": "2026-03-27T11:00:00Z"})
    );
    assert_eq!(requests[1].json().unwrap()["reservedSlotUid"], json!(uid));
    assert!(cal.reservations().is_empty(), "the booking consumed the reservation");
}

#[tokio::test]
async fn one_request_each_for_get_cancel_and_reschedule() {
    let (cal, _) = contract_standin().await;
    let backend = adapter(&cal, KEY);
    let booking = backend
        .book(&friday_booking("Zoe Einmal", 25, "call_once"), deadline())
        .await
        .unwrap();
    cal.clear_requests();
    backend.get(&calendar(EVENT), &booking.uid, deadline()).await.unwrap();
    let to = Slot::new(utc("2026-03-27T12:00:00Z"), utc("2026-03-27T12:30:00Z"));
    let moved = backend
        .reschedule(&calendar(EVENT), &booking.uid, &to, "Kundenwunsch", deadline())
        .await
        .unwrap();
    backend
        .cancel(&calendar(EVENT), &moved.uid, "Kunde verhindert", deadline())
        .await
        .unwrap();
    let requests = cal.requests();
    let lines: Vec<(String, String, Option<String>)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.version.clone()))
        .collect();
    let v = Some("2024-08-13".to_string());
    assert_eq!(
        lines,
        [
            ("GET".into(), format!("/v2/bookings/{}", booking.uid), v.clone()),
            (
                "POST".into(),
                format!("/v2/bookings/{}/reschedule", booking.uid),
                v.clone()
            ),
            ("POST".into(), format!("/v2/bookings/{}/cancel", moved.uid), v),
        ]
    );
    assert_eq!(
        requests[1].json().unwrap(),
        json!({"start": "2026-03-27T12:00:00Z", "reschedulingReason": "Kundenwunsch"})
    );
    assert_eq!(
        requests[2].json().unwrap(),
        json!({"cancellationReason": "Kunde verhindert"})
    );
    assert!(
        cal.bookings().iter().all(|b| b.status == BookingStatus::Cancelled),
        "the original (rescheduled) and the new one (cancelled)"
    );
}
