//! What a caller and a company read, and the calendar entry, for a booking, a move and a
//! cancellation of one appointment, on both sides of Berlin's DST changes.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use crate::appointments::backend::CalendarRef;
use crate::appointments::record::{Appointment, AppointmentCustomer, AppointmentStatus, Change, ChangeKind, ChangedBy};
use crate::delivery::webhook::{legacy_signature, standard_signature};
use crate::ids::{AppointmentId, BranchId, CallId, CompanyId, ServiceId};
use crate::notices::facts::NoticeFacts;
use crate::notices::ics::content_line::MAX_OCTETS;
use crate::notices::ics::{Organizer, invitation};
use crate::notices::notice::AppointmentNotice;
use crate::notices::{caller_mail, company_mail, payload};
use crate::tenancy::output::WebhookOutput;
use crate::tenancy::{Tenant, TenantSpec};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn tenant() -> Tenant {
    let doc = r#"
company: {company_id: praxis-lister-platz, name: Physiotherapie am Lister Platz, mode: appointment}
appointments:
  calcom: {api_key: cal_test_x}
  branches:
  - id: lister-platz
    name: Physiotherapie am Lister Platz
    address: Lister Platz 3, 30163 Hannover
    time_zone: Europe/Berlin
    opening_hours: {mon: ["07:30-19:00"], tue: ["07:30-19:00"]}
  staff: [{id: weber, name: Frau Weber}]
  services:
  - {id: erstbefund, name: Erstbefund und Beratung, duration_minutes: 30, staff: [weber], calendar: {calcom: {event_type_id: 1}}}
  policy:
    cancel_notice_hours: 12
    reschedule_notice_hours: 24
    fees: [{within_hours: 48, fee_eur: 10}, {within_hours: 24, fee_eur: 15}]
"#;
    let spec: TenantSpec = serde_norway::from_str(doc).expect("tenant document");
    spec.tenant().expect("valid tenant")
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn caller() -> ChangedBy {
    ChangedBy::Caller {
        call_id: CallId::new("call_7"),
    }
}

/// Booked on 2026-12-01 for Tuesday 2026-12-08 14:30 Berlin (13:30 UTC), 30 minutes.
fn booked_at(start: DateTime<Utc>) -> Appointment {
    let now = utc(2026, 12, 1, 9, 0);
    Appointment {
        company_id: CompanyId::new("praxis-lister-platz"),
        appointment_id: AppointmentId::new("01KAPPT0000000000000000000"),
        branch_id: BranchId::new("lister-platz"),
        service_id: ServiceId::new("erstbefund"),
        staff_id: Some("weber".into()),
        customer: AppointmentCustomer {
            name: "Jonas Weber".into(),
            phone: Some("+4951112345678".into()),
            email: Some("jonas.weber@example.org".into()),
        },
        call_id: CallId::new("call_7"),
        calendar: CalendarRef::CalCom { event_type_id: 1 },
        backend_uid: "uid-1".into(),
        start,
        end: start + TimeDelta::minutes(30),
        time_zone: Default::default(),
        status: AppointmentStatus::Booked,
        history: vec![Change {
            at: now,
            kind: ChangeKind::Booked,
            by: caller(),
            from: None,
            to: Some(start),
            reason: None,
        }],
        calls: Default::default(),
        created_at: now,
        updated_at: now,
        version: 0,
    }
}

fn moved(mut a: Appointment, to: DateTime<Utc>, at: DateTime<Utc>) -> Appointment {
    a.history.push(Change {
        at,
        kind: ChangeKind::Rescheduled,
        by: caller(),
        from: Some(a.start),
        to: Some(to),
        reason: Some("Arbeit".into()),
    });
    a.end = to + (a.end - a.start);
    a.start = to;
    a.version += 1;
    a
}

fn cancelled(mut a: Appointment, at: DateTime<Utc>) -> Appointment {
    a.history.push(Change {
        at,
        kind: ChangeKind::Cancelled,
        by: caller(),
        from: Some(a.start),
        to: None,
        reason: Some("krank".into()),
    });
    a.status = AppointmentStatus::Cancelled;
    a.version += 1;
    a
}

fn notice(a: &Appointment) -> AppointmentNotice {
    AppointmentNotice::for_change(a).expect("a caller's change is announced")
}

fn organizer() -> Organizer {
    Organizer {
        name: "Physiotherapie am Lister Platz".into(),
        email: "termine@physio-lister-platz.example".into(),
    }
}

fn ics(a: &Appointment) -> String {
    let n = notice(a);
    let t = tenant();
    let facts = NoticeFacts::resolve(&n, &t);
    invitation(&facts, &organizer(), "jonas.weber@example.org").text
}

/// The value of the first (unfolded) line starting with `name` (`DTSTART;TZID=…:v` → `TZID=…:v`).
fn prop(ics: &str, name: &str) -> String {
    let unfolded = ics.replace("\r\n ", "");
    unfolded
        .split("\r\n")
        .skip_while(|l| !l.starts_with("BEGIN:VEVENT"))
        .find(|l| l.starts_with(&format!("{name}:")) || l.starts_with(&format!("{name};")))
        .map(|l| l[name.len() + 1..].to_string())
        .unwrap_or_else(|| panic!("no {name} in {ics}"))
}

#[test]
fn the_caller_reads_a_confirmation_with_what_when_where_and_how_to_change_it() {
    let t = tenant();
    let n = notice(&booked_at(utc(2026, 12, 8, 13, 30)));
    let facts = NoticeFacts::resolve(&n, &t);
    let inv = invitation(&facts, &organizer(), "jonas.weber@example.org");
    let mail = caller_mail::compose(&facts, "jonas.weber@example.org", &inv);
    assert_eq!(
        mail.subject,
        "Ihr Termin ist bestätigt: Erstbefund und Beratung am Dienstag, 8. Dezember 2026, 14:30 Uhr"
    );
    let expected = "Guten Tag Jonas Weber,

Ihr Termin ist bestätigt.

Vielen Dank für Ihren Anruf. Wir haben diesen Termin für Sie eingetragen:

Leistung: Erstbefund und Beratung
Termin:   Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr
Ort:      Physiotherapie am Lister Platz, Lister Platz 3, 30163 Hannover
Bei:      Frau Weber

Im Anhang finden Sie den Termin für Ihren Kalender.

Möchten Sie den Termin verschieben oder absagen? Rufen Sie uns bitte an. Telefonisch verschieben können Sie bis 24 Stunden, absagen bis 12 Stunden vor dem Termin. Für eine Absage oder Verschiebung weniger als 48 Stunden vor dem Termin berechnen wir 10 €, weniger als 24 Stunden vorher 15 €.

Mit freundlichen Grüßen
Physiotherapie am Lister Platz
";
    assert_eq!(mail.text, expected);
    assert!(mail.html.contains("Ihr Termin ist bestätigt.") && mail.html.contains("Frau Weber"));
    let attachment = mail.attachment.expect("the calendar entry");
    assert_eq!(attachment.filename, "termin.ics");
    assert_eq!(attachment.content_type, "text/calendar; charset=UTF-8; method=REQUEST");
    assert_eq!(String::from_utf8(attachment.bytes).unwrap(), inv.text);
}

#[test]
fn a_pending_booking_is_requested_never_confirmed() {
    let t = tenant();
    let mut a = booked_at(utc(2026, 12, 8, 13, 30));
    a.status = AppointmentStatus::Pending;
    let n = notice(&a);
    let facts = NoticeFacts::resolve(&n, &t);
    let inv = invitation(&facts, &organizer(), "jonas.weber@example.org");
    let mail = caller_mail::compose(&facts, "jonas.weber@example.org", &inv);
    assert!(
        mail.subject.starts_with("Ihr Termin ist angefragt: "),
        "{}",
        mail.subject
    );
    for part in [&mail.subject, &mail.text, &mail.html] {
        assert!(!part.contains("ist bestätigt"), "{part}");
    }
    assert!(mail.text.contains(
        "Ihr Termin ist angefragt.\n\nWir haben Ihren Terminwunsch erhalten, der Termin ist aber noch nicht bestätigt."
    ));
    assert_eq!(prop(&inv.text, "STATUS"), "TENTATIVE");
    let company = company_mail::compose(&facts, "empfang@praxis.example");
    assert!(
        company.subject.starts_with("Terminanfrage (bitte bestätigen): "),
        "{}",
        company.subject
    );
    assert!(
        company
            .text
            .contains("Er ist erst gültig, wenn Sie ihn im Kalender bestätigen.")
    );
}

#[test]
fn a_move_names_the_new_and_the_old_time_and_a_late_fee() {
    let t = tenant();
    let booked = booked_at(utc(2026, 12, 8, 13, 30));
    // Moved 30 hours before: the 48-hour tier (10 €) applies.
    let a = moved(booked, utc(2026, 12, 10, 8, 0), utc(2026, 12, 7, 7, 30));
    let n = notice(&a);
    let facts = NoticeFacts::resolve(&n, &t);
    let inv = invitation(&facts, &organizer(), "jonas.weber@example.org");
    let mail = caller_mail::compose(&facts, "jonas.weber@example.org", &inv);
    assert_eq!(
        mail.subject,
        "Ihr Termin wurde verschoben: Erstbefund und Beratung jetzt am Donnerstag, 10. Dezember 2026, 9:00 Uhr"
    );
    assert!(
        mail.text
            .contains("Ihr Termin wurde verschoben.\n\nWie am Telefon besprochen, gilt ab jetzt diese Zeit:")
    );
    assert!(
        mail.text
            .contains("Neuer Termin: Donnerstag, 10. Dezember 2026, 9:00 bis 9:30 Uhr\n"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("Bisher:       Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr\n"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("Mit dem Anhang wird der Termin in Ihrem Kalender auf die neue Zeit geändert.")
    );
    assert!(
        mail.text
            .contains("Für diese kurzfristige Verschiebung berechnen wir laut unseren Bedingungen 10 €.")
    );
    assert_eq!(
        mail.attachment.unwrap().content_type,
        "text/calendar; charset=UTF-8; method=REQUEST"
    );
}

#[test]
fn a_cancellation_says_so_removes_the_entry_and_invites_a_new_booking() {
    let t = tenant();
    let a = cancelled(booked_at(utc(2026, 12, 8, 13, 30)), utc(2026, 12, 2, 9, 0));
    let n = notice(&a);
    let facts = NoticeFacts::resolve(&n, &t);
    let inv = invitation(&facts, &organizer(), "jonas.weber@example.org");
    let mail = caller_mail::compose(&facts, "jonas.weber@example.org", &inv);
    assert_eq!(
        mail.subject,
        "Ihr Termin wurde abgesagt: Erstbefund und Beratung am Dienstag, 8. Dezember 2026, 14:30 Uhr"
    );
    assert!(
        mail.text
            .contains("Ihr Termin wurde abgesagt.\n\nDiesen Termin haben wir für Sie abgesagt:")
    );
    assert!(
        mail.text
            .contains("Abgesagt: Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr"),
        "{}",
        mail.text
    );
    assert!(
        mail.text
            .contains("Mit dem Anhang wird der Termin aus Ihrem Kalender entfernt.")
    );
    assert!(
        mail.text
            .contains("Möchten Sie einen neuen Termin vereinbaren? Rufen Sie uns gerne an.")
    );
    assert!(!mail.text.contains("berechnen"), "cancelled six days ahead: no fee");
    let attachment = mail.attachment.unwrap();
    assert_eq!(attachment.content_type, "text/calendar; charset=UTF-8; method=CANCEL");
    assert_eq!(attachment.filename, "termin-abgesagt.ics");
}

#[test]
fn the_calendar_entry_keeps_its_uid_and_counts_its_changes() {
    let booked = booked_at(utc(2026, 12, 8, 13, 30));
    let moved = moved(booked.clone(), utc(2026, 12, 10, 8, 0), utc(2026, 12, 3, 9, 0));
    let cancelled = cancelled(moved.clone(), utc(2026, 12, 4, 9, 0));
    let entries = [ics(&booked), ics(&moved), ics(&cancelled)];
    let uids: Vec<String> = entries.iter().map(|e| prop(e, "UID")).collect();
    assert_eq!(uids, vec!["01KAPPT0000000000000000000@service-gateway".to_string(); 3]);
    let sequences: Vec<String> = entries.iter().map(|e| prop(e, "SEQUENCE")).collect();
    assert_eq!(sequences, ["0", "1", "2"]);
    let methods: Vec<bool> = entries.iter().map(|e| e.contains("\r\nMETHOD:REQUEST\r\n")).collect();
    assert_eq!(methods, [true, true, false]);
    assert!(entries[2].contains("\r\nMETHOD:CANCEL\r\n"));
    let statuses: Vec<String> = entries.iter().map(|e| prop(e, "STATUS")).collect();
    assert_eq!(statuses, ["CONFIRMED", "CONFIRMED", "CANCELLED"]);
    assert_eq!(prop(&entries[0], "DTSTART"), "TZID=Europe/Berlin:20261208T143000");
    assert_eq!(prop(&entries[0], "DTEND"), "TZID=Europe/Berlin:20261208T150000");
    assert_eq!(prop(&entries[1], "DTSTART"), "TZID=Europe/Berlin:20261210T090000");
    assert_eq!(
        prop(&entries[2], "DTSTART"),
        "TZID=Europe/Berlin:20261210T090000",
        "the cancelled time"
    );
    assert_eq!(prop(&entries[0], "DTSTAMP"), "20261201T090000Z");
    assert_eq!(
        prop(&entries[0], "ORGANIZER"),
        "CN=Physiotherapie am Lister Platz:mailto:termine@physio-lister-platz.example"
    );
    assert_eq!(
        prop(&entries[0], "ATTENDEE"),
        "CN=Jonas Weber;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=FALSE:mailto:jonas.weber@example.org"
    );
    assert_eq!(
        prop(&entries[0], "LOCATION"),
        "Physiotherapie am Lister Platz\\, Lister Platz 3\\, 30163 Hannover"
    );
    for e in &entries {
        assert!(e.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") && e.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(e.matches('\n').count(), e.matches("\r\n").count(), "CRLF only");
        for line in e.split("\r\n") {
            assert!(line.len() <= MAX_OCTETS, "{} octets: {line}", line.len());
        }
        assert!(e.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
    }
}

#[test]
fn times_next_to_the_spring_change_are_the_right_instants() {
    // 2027-03-28: at 01:00 UTC Berlin jumps from 02:00 CET to 03:00 CEST.
    let before = ics(&booked_at(utc(2027, 3, 28, 0, 30)));
    assert_eq!(
        prop(&before, "DTSTART"),
        "TZID=Europe/Berlin:20270328T013000",
        "01:30 CET"
    );
    assert_eq!(
        prop(&before, "DTEND"),
        "TZID=Europe/Berlin:20270328T030000",
        "30 minutes later: 03:00 CEST"
    );
    let after = ics(&booked_at(utc(2027, 3, 28, 1, 30)));
    assert_eq!(
        prop(&after, "DTSTART"),
        "TZID=Europe/Berlin:20270328T033000",
        "01:30 UTC is 03:30 CEST"
    );
    assert!(
        after.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT\r\n"),
        "{after}"
    );
}

#[test]
fn times_in_the_repeated_autumn_hour_name_the_right_pass() {
    // 2026-10-25: at 01:00 UTC Berlin goes back from 03:00 CEST to 02:00 CET; 02:30 happens twice.
    let first = ics(&booked_at(utc(2026, 10, 25, 0, 30)));
    assert_eq!(
        prop(&first, "DTSTART"),
        "TZID=Europe/Berlin:20261025T023000",
        "the first 02:30 (CEST)"
    );
    assert_eq!(
        prop(&first, "DTEND"),
        "20261025T010000Z",
        "01:00 UTC is the second 02:00 (CET): only UTC names it"
    );
    let second = ics(&booked_at(utc(2026, 10, 25, 1, 30)));
    assert_eq!(
        prop(&second, "DTSTART"),
        "20261025T013000Z",
        "the second 02:30 (CET): UTC"
    );
    assert_eq!(
        prop(&second, "DTEND"),
        "TZID=Europe/Berlin:20261025T030000",
        "03:00 CET exists once"
    );
    assert!(
        second.contains("BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD\r\n"),
        "{second}"
    );
}

#[test]
fn the_company_reads_who_what_when_and_who_changed_it() {
    let t = tenant();
    let a = moved(
        booked_at(utc(2026, 12, 8, 13, 30)),
        utc(2026, 12, 10, 8, 0),
        utc(2026, 12, 3, 9, 0),
    );
    let n = notice(&a);
    let facts = NoticeFacts::resolve(&n, &t);
    let mail = company_mail::compose(&facts, "empfang@praxis.example");
    assert_eq!(
        mail.subject,
        "Termin verschoben: Erstbefund und Beratung jetzt am Donnerstag, 10. Dezember 2026, 9:00 Uhr – Jonas Weber"
    );
    for line in [
        "Ein Termin wurde verschoben.",
        "Termin:         Donnerstag, 10. Dezember 2026, 9:00 bis 9:30 Uhr",
        "Bisher:         Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr",
        "Telefon:        +4951112345678",
        "E-Mail:         jonas.weber@example.org",
        "Grund:          Arbeit",
        "Geändert durch: der Anrufer, am Telefon (Anruf call_7)",
        "Termin-ID:      01KAPPT0000000000000000000",
    ] {
        assert!(mail.text.contains(line), "{line:?} in\n{}", mail.text);
    }
    assert!(mail.attachment.is_none());
    // Whatever a caller said is escaped in the HTML part.
    let mut evil = a.clone();
    evil.customer.name = "<img src=x onerror=alert(1)>".into();
    let n = notice(&evil);
    let facts = NoticeFacts::resolve(&n, &t);
    let html = company_mail::compose(&facts, "empfang@praxis.example").html;
    assert!(!html.contains("<img") && html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn the_webhook_payload_is_signed_like_a_cases_and_carries_both_times() {
    let t = tenant();
    let a = moved(
        booked_at(utc(2026, 12, 8, 13, 30)),
        utc(2026, 12, 10, 8, 0),
        utc(2026, 12, 3, 9, 0),
    );
    let n = notice(&a);
    let facts = NoticeFacts::resolve(&n, &t);
    let output = WebhookOutput {
        url: "https://crm.example/hooks/termine".into(),
        headers: [("Authorization".to_string(), "Bearer t0ken".to_string())].into(),
        preset: Some("zammad-ticket".into()),
        template: None,
        external_id_path: None,
        secret: Some(SECRET.into()),
        include_transcript: false,
        include_case_link: false,
        enabled: true,
        idempotency_header: Some("Idempotency-Key".into()),
        params: Default::default(),
        permanent_statuses: vec![],
    };
    let req = payload::build_request(&facts, &output, 1_764_000_000);
    let body: serde_json::Value = serde_json::from_str(&req.body).unwrap();
    assert_eq!(body["event"], "appointment.rescheduled");
    assert_eq!(body["occurred_at"], "2026-12-03T09:00:00Z");
    assert_eq!(body["company"]["name"], "Physiotherapie am Lister Platz");
    let appt = &body["appointment"];
    assert_eq!(appt["id"], "01KAPPT0000000000000000000");
    assert_eq!(appt["status"], "booked");
    assert_eq!(
        appt["service"],
        serde_json::json!({"id": "erstbefund", "name": "Erstbefund und Beratung"})
    );
    assert_eq!(appt["staff"]["name"], "Frau Weber");
    assert_eq!(appt["customer"]["phone"], "+4951112345678");
    assert_eq!(
        appt["start"],
        serde_json::json!({"utc": "2026-12-10T08:00:00Z", "local": "2026-12-10T09:00:00+01:00", "time_zone": "Europe/Berlin"})
    );
    assert_eq!(appt["previous_start"]["local"], "2026-12-08T14:30:00+01:00");
    assert_eq!(appt["reason"], "Arbeit");
    assert_eq!(appt["call_id"], "call_7");
    assert!(body.get("ticket").is_none(), "no preset applied: the payload is ours");
    let get = |name: &str| {
        req.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    assert_eq!(get("X-Event"), "appointment.rescheduled");
    assert_eq!(get("webhook-id"), "msg_appt_01KAPPT0000000000000000000_1");
    assert_eq!(get("Idempotency-Key"), get("webhook-id"));
    assert_eq!(get("Authorization"), "Bearer t0ken");
    assert_eq!(
        Some(get("webhook-signature")),
        standard_signature(SECRET, &get("webhook-id"), 1_764_000_000, req.body.as_bytes())
    );
    assert_eq!(get("X-Signature"), legacy_signature(SECRET, req.body.as_bytes()));
}
