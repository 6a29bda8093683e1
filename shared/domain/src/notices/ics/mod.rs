//! The calendar entry a caller's confirmation carries (an iTIP message, RFC 5546): `METHOD:REQUEST`
//! for a booking or a move, `METHOD:CANCEL` with `STATUS:CANCELLED` for a cancellation, one
//! `UID` per appointment (`<appointment_id>@service-gateway`) so every later message updates or
//! removes the same entry, and `SEQUENCE` = the change's number, which only grows.
//!
//! Times, decided: `DTSTART`/`DTEND` as local time with `TZID=<the branch's zone>` and a
//! `VTIMEZONE` computed from the zone's real rules ([`vtimezone`]), so the entry shows the
//! branch's wall-clock time even where the reader's zone differs. One exception, because
//! RFC 5545 §3.3.5 reads an ambiguous local time (the hour that repeats when clocks go back) as
//! its first occurrence: a time in the repeated hour's second pass (02:30 CET after 02:30 CEST on
//! 2026-10-25 in Berlin) is written in UTC (`…Z`), the only form that names it. A local time
//! in a spring gap never occurs: instants always have a wall-clock time.
//!
//! Written by hand rather than with the `icalendar` crate: the crate has no `VTIMEZONE` of its
//! own and orders properties by name; the dozen lines here are folded and escaped by
//! [`content_line`] and checked by an independent parser (Python's `icalendar`, in the
//! end-to-end tests).

pub mod content_line;
pub mod vtimezone;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::appointments::calendar::local_time::{local_datetime, to_instant};
use crate::notices::facts::NoticeFacts;
use crate::notices::notice::NoticeEvent;
use crate::tenancy::validate::is_valid_email;
use content_line::{line, param, text};

pub const PRODID: &str = "-//Service Gateway//Terminbenachrichtigung//DE";

/// The iTIP method of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// A calendar entry ready to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub method: Method,
    /// The whole `VCALENDAR`, CRLF-terminated lines.
    pub text: String,
}

impl Invitation {
    /// The MIME type of the attachment, with the method calendar clients look for.
    pub fn content_type(&self) -> String {
        format!("text/calendar; charset=UTF-8; method={}", self.method.as_str())
    }
}

/// The stable UID of an appointment's calendar entry.
pub fn uid(appointment_id: &str) -> String {
    format!("{appointment_id}@service-gateway")
}

/// A date-time property's parameters and value: local time with `TZID`, or UTC where the local
/// time would name another instant (the second pass of a repeated hour).
fn date_time(t: DateTime<Utc>, tz: Tz) -> (Vec<(&'static str, String)>, String) {
    let local = local_datetime(tz, t);
    if to_instant(tz, local) == Some(t) {
        (
            vec![("TZID", param(tz.name()))],
            local.format("%Y%m%dT%H%M%S").to_string(),
        )
    } else {
        (Vec::new(), t.format("%Y%m%dT%H%M%SZ").to_string())
    }
}

/// Who the entry is from: the company, at its organizer address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organizer {
    pub name: String,
    pub email: String,
}

/// The entry for the caller at `attendee_email`.
pub fn invitation(facts: &NoticeFacts<'_>, organizer: &Organizer, attendee_email: &str) -> Invitation {
    let notice = facts.notice;
    let a = &notice.appointment;
    let tz = facts.tz();
    let method = match notice.event {
        NoticeEvent::Cancelled => Method::Cancel,
        NoticeEvent::Booked | NoticeEvent::Rescheduled => Method::Request,
    };
    let status = match (notice.event, notice.is_pending()) {
        (NoticeEvent::Cancelled, _) => "CANCELLED",
        (_, true) => "TENTATIVE",
        _ => "CONFIRMED",
    };
    let mut out = String::new();
    out.push_str(&line("BEGIN", &[], "VCALENDAR"));
    out.push_str(&line("VERSION", &[], "2.0"));
    out.push_str(&line("PRODID", &[], &text(PRODID)));
    out.push_str(&line("CALSCALE", &[], "GREGORIAN"));
    out.push_str(&line("METHOD", &[], method.as_str()));
    out.push_str(&vtimezone::vtimezone(tz, a.start, a.end));
    out.push_str(&line("BEGIN", &[], "VEVENT"));
    out.push_str(&line("UID", &[], &text(&uid(&a.appointment_id))));
    out.push_str(&line("SEQUENCE", &[], &notice.change.to_string()));
    out.push_str(&line(
        "DTSTAMP",
        &[],
        &notice.occurred_at.format("%Y%m%dT%H%M%SZ").to_string(),
    ));
    for (name, t) in [("DTSTART", a.start), ("DTEND", a.end)] {
        let (params, value) = date_time(t, tz);
        out.push_str(&line(name, &params, &value));
    }
    let summary = format!("{} – {}", facts.service, facts.company);
    out.push_str(&line("SUMMARY", &[], &text(&summary)));
    out.push_str(&line("LOCATION", &[], &text(&facts.place())));
    let description = match notice.event {
        NoticeEvent::Cancelled => "Dieser Termin wurde abgesagt.".to_string(),
        _ => facts.change_rules().join(" "),
    };
    out.push_str(&line("DESCRIPTION", &[], &text(&description)));
    if is_valid_email(&organizer.email) {
        out.push_str(&line(
            "ORGANIZER",
            &[("CN", param(&organizer.name))],
            &format!("mailto:{}", organizer.email),
        ));
    }
    if is_valid_email(attendee_email) {
        let mut params = vec![
            ("CUTYPE", "INDIVIDUAL".to_string()),
            ("ROLE", "REQ-PARTICIPANT".to_string()),
            ("PARTSTAT", "ACCEPTED".to_string()),
            ("RSVP", "FALSE".to_string()),
        ];
        if !a.customer.name.trim().is_empty() {
            params.insert(0, ("CN", param(&a.customer.name)));
        }
        out.push_str(&line("ATTENDEE", &params, &format!("mailto:{attendee_email}")));
    }
    out.push_str(&line("STATUS", &[], status));
    out.push_str(&line("TRANSP", &[], "OPAQUE"));
    out.push_str(&line("END", &[], "VEVENT"));
    out.push_str(&line("END", &[], "VCALENDAR"));
    Invitation { method, text: out }
}
