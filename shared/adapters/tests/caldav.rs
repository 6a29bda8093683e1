//! The CalDAV adapter against a real Radicale (one server per test, started from the repository's
//! `.venv`; `infra/emulator.sh install` puts it there). Times: the fixture's "now" is Thursday
//! 2026-03-26 09:00Z (10:00 in Berlin, CET); the Monday after, 2026-03-30, is already CEST, so
//! 09:00 in Berlin is 07:00Z there.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Europe::Berlin;
use gateway_adapters::caldav::CalDav;
use gateway_domain::appointments::backend::{
    Attendee, BackendError, BackendStatus, BookingMetadata, BookingRequest, CalendarBackend, CalendarRef, SlotQuery,
};
use gateway_domain::appointments::calendar::hours::{BranchCalendar, OpenInterval, WeeklyHours};
use gateway_domain::appointments::calendar::local_time::Span;
use gateway_domain::appointments::calendar::slots::{ServiceRules, Slot};
use gateway_domain::appointments::setup::CalDavAccount;
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};
use gateway_domain::ssrf::UrlPolicy;
use gateway_testkit::radicale::Radicale;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn now() -> DateTime<Utc> {
    utc("2026-03-26T09:00:00Z")
}

fn branch() -> BranchCalendar {
    let day = vec![
        OpenInterval::new(
            NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        )
        .unwrap(),
    ];
    let mut hours = WeeklyHours::closed();
    for d in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
        hours = hours.with_day(d, day.clone()).unwrap();
    }
    BranchCalendar {
        tz: Berlin,
        hours,
        closures: vec![],
    }
}

fn rules() -> ServiceRules {
    let mut rules = ServiceRules::new(TimeDelta::minutes(30));
    rules.min_notice = TimeDelta::minutes(60);
    rules.horizon_days = 60;
    rules.grid_step = TimeDelta::minutes(15);
    rules
}

fn query(calendar: &CalendarRef, from: &str, to: &str) -> SlotQuery {
    SlotQuery {
        calendar: calendar.clone(),
        range: Span::new(utc(from), utc(to)).unwrap(),
        time_zone: Berlin,
        duration: TimeDelta::minutes(30),
        rules: Some(rules()),
        opening: Some(branch()),
        now: now(),
    }
}

/// Monday 2026-03-30, the whole UTC day.
fn monday(calendar: &CalendarRef) -> SlotQuery {
    query(calendar, "2026-03-30T00:00:00Z", "2026-03-31T00:00:00Z")
}

fn starts(slots: &[Slot]) -> Vec<String> {
    slots.iter().map(|s| s.start.format("%H:%M").to_string()).collect()
}

fn slot(start: &str) -> Slot {
    let start = utc(start);
    Slot::new(start, start + TimeDelta::minutes(30))
}

fn attendee(email: Option<&str>) -> Attendee {
    Attendee {
        name: "Erika Mustermann".into(),
        phone: Some("+4915112345678".into()),
        email: email.map(str::to_string),
        language: "de".into(),
    }
}

fn request(calendar: &CalendarRef, start: &str, email: Option<&str>) -> BookingRequest {
    BookingRequest {
        calendar: calendar.clone(),
        slot: slot(start),
        time_zone: Berlin,
        attendee: attendee(email),
        title: "Erstberatung".into(),
        reservation: None,
        metadata: BookingMetadata {
            company_id: CompanyId::new("praxis-weber"),
            call_id: CallId::new("call_caldav_1"),
            appointment_id: AppointmentId::new("01JQAPPOINTMENT0000000000"),
        },
    }
}

fn account(base_url: String, password: &str) -> CalDavAccount {
    CalDavAccount {
        base_url,
        username: "praxis".into(),
        password: password.into(),
    }
}

fn adapter(server: &Radicale) -> (CalDav, CalendarRef) {
    let dav = CalDav::new(
        &account(server.base_url(), server.password()),
        UrlPolicy::local(vec![server.host_port()]),
    )
    .unwrap();
    let calendar = CalendarRef::CalDav {
        calendar_path: server.calendar_path(),
    };
    (dav, calendar)
}

fn event(uid: &str, lines: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Other Client//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260301T000000Z\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

const BERLIN_VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
BEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\n\
BEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n";

/// Another client's event in Berlin time with its VTIMEZONE.
fn berlin_event(uid: &str, start_local: &str, end_local: &str, extra: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Thunderbird//EN\r\n{BERLIN_VTIMEZONE}BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20260301T000000Z\r\n\
DTSTART;TZID=Europe/Berlin:{start_local}\r\nDTEND;TZID=Europe/Berlin:{end_local}\r\n{extra}SUMMARY:Teambesprechung\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn put(server: &Radicale, name: &str, ics: &str) {
    let path = format!("{}{name}.ics", server.calendar_path());
    assert_eq!(server.put(&path, ics), 201, "PUT {path}\n{}", server.log());
}

/// All grid starts of a Monday 09:00–17:00 Berlin (CEST) for 30 minutes: 07:00Z … 14:30Z.
fn full_monday() -> Vec<String> {
    (0..31)
        .map(|i| {
            let t = utc("2026-03-30T07:00:00Z") + TimeDelta::minutes(15 * i);
            t.format("%H:%M").to_string()
        })
        .collect()
}

fn without(all: Vec<String>, gone: &[&str]) -> Vec<String> {
    all.into_iter().filter(|s| !gone.contains(&s.as_str())).collect()
}

#[tokio::test]
async fn free_slots_lay_the_grid_over_the_busy_time_read_in_one_report() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    let slots = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(starts(&slots), full_monday());
    assert!(slots.iter().all(|s| s.end - s.start == TimeDelta::minutes(30)));

    put(
        &server,
        "utc",
        &event(
            "utc@other",
            "DTSTART:20260330T080000Z\r\nDTEND:20260330T090000Z\r\nSUMMARY:Lieferung\r\n",
        ),
    );
    let slots = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(
        starts(&slots),
        without(full_monday(), &["07:45", "08:00", "08:15", "08:30", "08:45"]),
        "08:00–09:00Z is busy; 07:30 ends as it starts, 09:00 starts as it ends"
    );

    // Thursday the 26th: 10:00 Berlin now, one hour notice → first start 11:00 Berlin = 10:00Z.
    let today = dav
        .free_slots(
            &query(&calendar, "2026-03-26T00:00:00Z", "2026-03-27T00:00:00Z"),
            Deadline::none(),
        )
        .await
        .unwrap();
    assert_eq!(starts(&today).first().map(String::as_str), Some("10:00"));
}

#[tokio::test]
async fn tzid_all_day_recurring_cancelled_and_free_events_from_other_clients() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    // 14:00–15:00 Berlin summer time on Monday = 12:00–13:00Z.
    put(
        &server,
        "berlin",
        &berlin_event("berlin@other", "20260330T140000", "20260330T150000", ""),
    );
    // New York 06:00–06:30 EDT = 10:00–10:30Z (Radicale knows the zone from the VTIMEZONE only;
    // we read the TZID as an IANA name).
    put(
        &server,
        "newyork",
        &event(
            "ny@other",
            "DTSTART;TZID=America/New_York:20260330T060000\r\nDTEND;TZID=America/New_York:20260330T063000\r\n",
        )
        .replace(
            "BEGIN:VEVENT",
            "BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nTZNAME:EDT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT",
        ),
    );
    // A weekly series since the Monday before, 16:00–16:30 Berlin (CET then, CEST now): its
    // instance on the 30th is 14:00–14:30Z.
    put(
        &server,
        "weekly",
        &berlin_event(
            "weekly@other",
            "20260323T160000",
            "20260323T163000",
            "RRULE:FREQ=WEEKLY;COUNT=10\r\n",
        ),
    );
    // Not busy: cancelled, shown as free.
    put(
        &server,
        "cancelled",
        &event(
            "c@other",
            "STATUS:CANCELLED\r\nDTSTART:20260330T070000Z\r\nDTEND:20260330T073000Z\r\n",
        ),
    );
    put(
        &server,
        "free",
        &event(
            "f@other",
            "TRANSP:TRANSPARENT\r\nDTSTART:20260330T073000Z\r\nDTEND:20260330T080000Z\r\n",
        ),
    );
    // All day on Tuesday the 31st: the whole Berlin day.
    put(
        &server,
        "allday",
        &event(
            "allday@other",
            "DTSTART;VALUE=DATE:20260331\r\nDTEND;VALUE=DATE:20260401\r\nSUMMARY:Betriebsausflug\r\n",
        ),
    );

    let slots = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(
        starts(&slots),
        without(
            full_monday(),
            &[
                "09:45", "10:00", "10:15", // New York
                "11:45", "12:00", "12:15", "12:30", "12:45", // Berlin 14–15
                "13:45", "14:00", "14:15", // the weekly series
            ]
        )
    );
    let tuesday = dav
        .free_slots(
            &query(&calendar, "2026-03-31T00:00:00Z", "2026-04-01T00:00:00Z"),
            Deadline::none(),
        )
        .await
        .unwrap();
    assert!(tuesday.is_empty(), "{:?}", starts(&tuesday));
    let wednesday = dav
        .free_slots(
            &query(&calendar, "2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"),
            Deadline::none(),
        )
        .await
        .unwrap();
    assert_eq!(wednesday.len(), 31, "the all-day event ends at Berlin midnight");
}

#[tokio::test]
async fn events_crossing_the_range_edges_count() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    // Starts before the range, ends inside it.
    put(
        &server,
        "early",
        &event("early@other", "DTSTART:20260330T060000Z\r\nDTEND:20260330T073000Z\r\n"),
    );
    // Starts at the range's end: a slot starting at 09:45Z would run into it.
    put(
        &server,
        "late",
        &event("late@other", "DTSTART:20260330T100000Z\r\nDTEND:20260330T110000Z\r\n"),
    );
    let slots = dav
        .free_slots(
            &query(&calendar, "2026-03-30T07:00:00Z", "2026-03-30T10:00:00Z"),
            Deadline::none(),
        )
        .await
        .unwrap();
    assert_eq!(
        starts(&slots),
        [
            "07:30", "07:45", "08:00", "08:15", "08:30", "08:45", "09:00", "09:15", "09:30"
        ]
    );
}

#[tokio::test]
async fn floating_times_are_read_in_the_branch_zone_even_where_the_server_reads_utc() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    // 16:00–16:30 without a zone: Berlin wall-clock time, 14:00–14:30Z. The server compares
    // floating times as UTC (16:00Z), outside the window a search up to 14:15Z needs.
    put(
        &server,
        "floating",
        &event("floating@other", "DTSTART:20260330T160000\r\nDTEND:20260330T163000\r\n"),
    );
    let slots = dav
        .free_slots(
            &query(&calendar, "2026-03-30T13:00:00Z", "2026-03-30T14:15:00Z"),
            Deadline::none(),
        )
        .await
        .unwrap();
    assert_eq!(starts(&slots), ["13:00", "13:15", "13:30"]);
    let err = dav
        .book(&request(&calendar, "2026-03-30T14:00:00Z", None), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Taken);
}

#[tokio::test]
async fn two_events_at_one_time_from_outside_are_both_busy() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    // The server stores both (no double-booking protection) …
    put(
        &server,
        "one",
        &event("one@other", "DTSTART:20260330T090000Z\r\nDTEND:20260330T093000Z\r\n"),
    );
    put(
        &server,
        "two",
        &event("two@other", "DTSTART:20260330T090000Z\r\nDTEND:20260330T100000Z\r\n"),
    );
    // … and both count.
    let slots = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(
        starts(&slots),
        without(full_monday(), &["08:45", "09:00", "09:15", "09:30", "09:45"])
    );
    let err = dav
        .book(&request(&calendar, "2026-03-30T09:30:00Z", None), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Taken);
}

#[tokio::test]
async fn book_writes_a_utc_event_with_our_ids_and_get_reads_it_back() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    let req = request(&calendar, "2026-03-30T08:00:00Z", Some("erika@example.org"));
    let booked = dav.book(&req, Deadline::none()).await.unwrap();
    assert!(booked.uid.starts_with("sg-"), "{}", booked.uid);
    assert_eq!((booked.start, booked.end), (req.slot.start, req.slot.end));
    assert_eq!(booked.status, BackendStatus::Accepted);
    assert_eq!(booked.attendee, Some(req.attendee.clone()));
    assert_eq!(booked.metadata, req.metadata.to_map());

    let (status, stored) = server.request("GET", &format!("{}{}.ics", server.calendar_path(), booked.uid), &[], "");
    assert_eq!(status, 200);
    let unfolded = stored.replace("\r\n ", "");
    for line in [
        format!("UID:{}", booked.uid),
        "DTSTART:20260330T080000Z".into(),
        "DTEND:20260330T083000Z".into(),
        "SUMMARY:Erstberatung".into(),
        "X-SERVICE-GATEWAY-COMPANY:praxis-weber".into(),
        "X-SERVICE-GATEWAY-CALL:call_caldav_1".into(),
        "X-SERVICE-GATEWAY-APPOINTMENT:01JQAPPOINTMENT0000000000".into(),
        "STATUS:CONFIRMED".into(),
    ] {
        assert!(unfolded.contains(&line), "{line} missing in\n{stored}");
    }
    assert!(
        unfolded.contains(r"Name: Erika Mustermann\nTelefon: +4915112345678\nE-Mail: erika@example.org"),
        "{stored}"
    );
    assert!(unfolded.contains("mailto:erika@example.org"), "{stored}");

    let got = dav.get(&calendar, &booked.uid, Deadline::none()).await.unwrap();
    assert_eq!(got, booked);

    // Busy now for us and for a second booker.
    let slots = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(starts(&slots), without(full_monday(), &["07:45", "08:00", "08:15"]));
    let err = dav
        .book(&request(&calendar, "2026-03-30T08:15:00Z", None), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Taken);

    // Without an e-mail: no ATTENDEE property, the caller is in the X- properties and the text.
    let other = dav
        .book(&request(&calendar, "2026-03-30T10:00:00Z", None), Deadline::none())
        .await
        .unwrap();
    let (_, stored) = server.request("GET", &format!("{}{}.ics", server.calendar_path(), other.uid), &[], "");
    assert!(!stored.lines().any(|l| l.starts_with("ATTENDEE")), "{stored}");
    assert_eq!(
        dav.get(&calendar, &other.uid, Deadline::none()).await.unwrap().attendee,
        Some(attendee(None))
    );
    assert_eq!(
        dav.get(&calendar, "sg-unknown", Deadline::none()).await.unwrap_err(),
        BackendError::NotFound
    );
    assert_eq!(
        dav.get(&calendar, "../../etc/passwd", Deadline::none())
            .await
            .unwrap_err(),
        BackendError::NotFound
    );
}

#[tokio::test]
async fn cancel_marks_the_event_cancelled_and_frees_the_time() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    let booked = dav
        .book(&request(&calendar, "2026-03-30T08:00:00Z", None), Deadline::none())
        .await
        .unwrap();
    dav.cancel(&calendar, &booked.uid, "Anrufer hat abgesagt", Deadline::none())
        .await
        .unwrap();
    let got = dav.get(&calendar, &booked.uid, Deadline::none()).await.unwrap();
    assert_eq!(got.status, BackendStatus::Cancelled);
    assert_eq!((got.start, got.end), (booked.start, booked.end));
    let (_, stored) = server.request("GET", &format!("{}{}.ics", server.calendar_path(), booked.uid), &[], "");
    let unfolded = stored.replace("\r\n ", "");
    assert!(unfolded.contains("SUMMARY:Abgesagt: Erstberatung"), "{stored}");
    assert!(unfolded.contains("TRANSP:TRANSPARENT"), "{stored}");
    assert!(
        unfolded.contains("X-SERVICE-GATEWAY-CANCEL-REASON:Anrufer hat abgesagt"),
        "{stored}"
    );

    assert_eq!(
        dav.cancel(&calendar, &booked.uid, "again", Deadline::none())
            .await
            .unwrap_err(),
        BackendError::AlreadyCancelled
    );
    assert_eq!(
        dav.cancel(&calendar, "sg-unknown", "", Deadline::none())
            .await
            .unwrap_err(),
        BackendError::NotFound
    );
    let slots = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(starts(&slots), full_monday(), "the cancelled event is free time");
    dav.book(&request(&calendar, "2026-03-30T08:00:00Z", None), Deadline::none())
        .await
        .expect("the slot can be booked again");
    assert_eq!(
        dav.reschedule(
            &calendar,
            &booked.uid,
            &slot("2026-03-30T12:00:00Z"),
            "",
            Deadline::none()
        )
        .await
        .unwrap_err(),
        BackendError::AlreadyCancelled
    );
}

#[tokio::test]
async fn reschedule_moves_the_same_event_when_the_new_time_is_free() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    let req = request(&calendar, "2026-03-30T08:00:00Z", Some("erika@example.org"));
    let booked = dav.book(&req, Deadline::none()).await.unwrap();
    put(
        &server,
        "busy",
        &event("busy@other", "DTSTART:20260330T100000Z\r\nDTEND:20260330T110000Z\r\n"),
    );

    assert_eq!(
        dav.reschedule(
            &calendar,
            &booked.uid,
            &slot("2026-03-30T10:30:00Z"),
            "",
            Deadline::none()
        )
        .await
        .unwrap_err(),
        BackendError::Taken
    );
    // Overlapping only itself is fine.
    let moved = dav
        .reschedule(
            &calendar,
            &booked.uid,
            &slot("2026-03-30T08:15:00Z"),
            "Kunde später",
            Deadline::none(),
        )
        .await
        .unwrap();
    assert_eq!(moved.uid, booked.uid, "same UID: calendar apps update the entry");
    assert_eq!(
        (moved.start, moved.end),
        (utc("2026-03-30T08:15:00Z"), utc("2026-03-30T08:45:00Z"))
    );
    let moved = dav
        .reschedule(
            &calendar,
            &booked.uid,
            &slot("2026-03-30T12:00:00Z"),
            "",
            Deadline::none(),
        )
        .await
        .unwrap();
    let got = dav.get(&calendar, &booked.uid, Deadline::none()).await.unwrap();
    assert_eq!(got, moved);
    assert_eq!(got.status, BackendStatus::Accepted);
    assert_eq!(got.attendee, Some(req.attendee.clone()));
    assert_eq!(got.metadata, req.metadata.to_map());
    let (_, stored) = server.request("GET", &format!("{}{}.ics", server.calendar_path(), booked.uid), &[], "");
    assert!(stored.contains("SEQUENCE:2"), "{stored}");

    let slots = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(
        starts(&slots),
        without(
            full_monday(),
            &["09:45", "10:00", "10:15", "10:30", "10:45", "11:45", "12:00", "12:15"]
        ),
        "the old time is free, the new one busy"
    );
    assert_eq!(
        dav.reschedule(
            &calendar,
            "sg-unknown",
            &slot("2026-03-30T13:00:00Z"),
            "",
            Deadline::none()
        )
        .await
        .unwrap_err(),
        BackendError::NotFound
    );
}

#[tokio::test]
async fn reserve_and_release_do_nothing() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    let reserved = dav
        .reserve(&calendar, &slot("2026-03-30T08:00:00Z"), Deadline::none())
        .await
        .unwrap();
    assert_eq!(reserved, None);
    let reservation = gateway_domain::appointments::backend::Reservation {
        uid: "x".into(),
        until: now(),
    };
    dav.release(&reservation, Deadline::none()).await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_rejected_and_never_shown() {
    let server = Radicale::start();
    let dav = CalDav::new(
        &account(server.base_url(), "wrong-password-123"),
        UrlPolicy::local(vec![server.host_port()]),
    )
    .unwrap();
    let calendar = CalendarRef::CalDav {
        calendar_path: server.calendar_path(),
    };
    let err = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap_err();
    assert!(matches!(err, BackendError::Rejected(_)), "{err:?}");
    assert!(!err.to_string().contains("wrong-password-123"));
    assert!(!err.counts_against_backend());
    let err = dav
        .book(&request(&calendar, "2026-03-30T08:00:00Z", None), Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::Rejected(_)), "{err:?}");
    let err = dav.get(&calendar, "sg-1", Deadline::none()).await.unwrap_err();
    assert!(matches!(err, BackendError::Rejected(_)), "{err:?}");
}

#[tokio::test]
async fn an_unknown_calendar_is_named() {
    let server = Radicale::start();
    let (dav, _) = adapter(&server);
    let calendar = CalendarRef::CalDav {
        calendar_path: "/praxis/gibt-es-nicht/".into(),
    };
    let err = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap_err();
    assert!(
        matches!(err, BackendError::UnknownCalendar(ref c) if c.contains("/praxis/gibt-es-nicht/")),
        "{err:?}"
    );
    let err = dav
        .book(&request(&calendar, "2026-03-30T08:00:00Z", None), Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::UnknownCalendar(_)), "{err:?}");
    let err = dav
        .free_slots(&monday(&CalendarRef::CalCom { event_type_id: 1 }), Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, BackendError::UnknownCalendar(_)), "{err:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_within_the_budget() {
    let target = gateway_testkit::http_target::never_answering().await;
    let dav = CalDav::new(
        &account(target.url(""), "pw"),
        UrlPolicy::local(vec![target.host_port()]),
    )
    .unwrap();
    let calendar = CalendarRef::CalDav {
        calendar_path: "/praxis/termine/".into(),
    };
    // The slot search's own budget: 2 s.
    let started = Instant::now();
    let err = dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, BackendError::Timeout);
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_millis(2800),
        "{took:?}"
    );
    assert!(err.counts_against_backend());
    // A booking is capped by the invocation's deadline when that comes first.
    let started = Instant::now();
    let err = dav
        .book(
            &request(&calendar, "2026-03-30T08:00:00Z", None),
            Deadline::after(Duration::from_millis(700)),
        )
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, BackendError::Timeout);
    assert!(took < Duration::from_millis(1300), "{took:?}");
    // No time left: no request at all.
    let err = dav
        .get(&calendar, "sg-1", Deadline::after(Duration::from_millis(20)))
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Timeout);
}

/// A TCP proxy in front of Radicale that notes the method of every request passing through
/// (Radicale closes the connection after each answer, so every request is a new connection).
struct CountingProxy {
    addr: SocketAddr,
    methods: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingProxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let methods = Arc::new(Mutex::new(Vec::new()));
        let seen = methods.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut first = vec![0u8; 64 * 1024];
                    let Ok(n) = client.read(&mut first).await else { return };
                    if n == 0 {
                        return;
                    }
                    let head = String::from_utf8_lossy(&first[..n]);
                    let method = head.split_whitespace().next().unwrap_or_default().to_string();
                    seen.lock().unwrap().push(method);
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    if server.write_all(&first[..n]).await.is_err() {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        Self { addr, methods, task }
    }

    /// The methods seen since the last call, sorted (concurrent requests arrive in any order).
    fn take(&self) -> Vec<String> {
        let mut seen = std::mem::take(&mut *self.methods.lock().unwrap());
        seen.sort();
        seen
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn requests_on_the_wire_per_operation() {
    let server = Radicale::start();
    let proxy = CountingProxy::start(server.addr()).await;
    let dav = CalDav::new(
        &account(format!("http://{}", proxy.addr), server.password()),
        UrlPolicy::local(vec![proxy.addr.to_string()]),
    )
    .unwrap();
    let calendar = CalendarRef::CalDav {
        calendar_path: server.calendar_path(),
    };
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    dav.free_slots(&monday(&calendar), Deadline::none()).await.unwrap();
    assert_eq!(proxy.take(), strings(&["REPORT"]));
    // Nothing of the range is bookable (past the horizon): no request at all.
    let far = query(&calendar, "2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z");
    assert!(dav.free_slots(&far, Deadline::none()).await.unwrap().is_empty());
    assert_eq!(proxy.take(), Vec::<String>::new());

    let booked = dav
        .book(&request(&calendar, "2026-03-30T08:00:00Z", None), Deadline::none())
        .await
        .unwrap();
    assert_eq!(proxy.take(), strings(&["PUT", "REPORT"]));
    let err = dav
        .book(&request(&calendar, "2026-03-30T08:00:00Z", None), Deadline::none())
        .await
        .unwrap_err();
    assert_eq!(err, BackendError::Taken);
    assert_eq!(
        proxy.take(),
        strings(&["REPORT"]),
        "a taken slot costs the re-check only"
    );

    dav.get(&calendar, &booked.uid, Deadline::none()).await.unwrap();
    assert_eq!(proxy.take(), strings(&["GET"]));
    dav.reschedule(
        &calendar,
        &booked.uid,
        &slot("2026-03-30T09:00:00Z"),
        "",
        Deadline::none(),
    )
    .await
    .unwrap();
    assert_eq!(proxy.take(), strings(&["GET", "PUT", "REPORT"]));
    dav.cancel(&calendar, &booked.uid, "", Deadline::none()).await.unwrap();
    assert_eq!(proxy.take(), strings(&["GET", "PUT"]));
    dav.reserve(&calendar, &slot("2026-03-30T10:00:00Z"), Deadline::none())
        .await
        .unwrap();
    assert_eq!(proxy.take(), Vec::<String>::new());
}

/// The backend-agnostic contract (`gateway_testkit::calendar_contract`), on a fresh calendar.
#[tokio::test]
async fn keeps_the_calendar_backend_contract() {
    let server = Radicale::start();
    let (dav, calendar) = adapter(&server);
    let fixture = gateway_testkit::calendar_contract::CalendarFixture::standard();
    gateway_testkit::calendar_contract::run_all(&dav, &calendar, &fixture).await;
}
