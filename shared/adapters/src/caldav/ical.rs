//! The iCalendar side of the CalDAV adapter (RFC 5545): the VEVENT we write for a booking, the
//! busy time of whatever events the calendar holds, and a booking read back from its resource.
//!
//! Busy time, decided:
//! - `DTSTART`/`DTEND` (or `DTSTART` + `DURATION`) as UTC instants. `…Z` is UTC; `TZID=` is
//!   looked up as an IANA zone (also behind vendor prefixes such as `/mozilla.org/…/Europe/Berlin`,
//!   and the Windows names Outlook writes for Central Europe); a floating time or an unknown zone
//!   is read in the branch's zone. A local time in a DST gap uses the offset before the gap, an
//!   ambiguous one the earlier instant (RFC 5545 §3.3.5).
//! - All-day events (`VALUE=DATE`) block whole local days of the branch `[start day 00:00, end
//!   day 00:00)`, one day when `DTEND` is missing; a holiday or a vacation entered as an all-day
//!   event closes the day unless the event is marked free.
//! - Not busy: `STATUS:CANCELLED`, `TRANSP:TRANSPARENT` ("show as free"), and events without
//!   duration (`DTSTART` only, a point in time).
//! - Recurring events arrive expanded into instances (the REPORT asks the server to expand);
//!   an unexpanded series (a server ignoring `expand`) counts with its first instance only and is
//!   logged.
//!
//! Edits of a stored event (move, cancel) rewrite only the lines they change, so whatever a
//! calendar client added (alarms, its own properties, a VTIMEZONE) stays as it was.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use gateway_domain::appointments::backend::{Attendee, BackendBooking, BackendStatus, BookingMetadata};
use gateway_domain::appointments::calendar::local_time::{Span, to_instant, to_instant_or_after_gap};
use icalendar::{Calendar, CalendarComponent, Component, Event, EventLike, EventStatus, Property};

pub const PRODID: &str = "-//Service Gateway//CalDAV adapter//DE";

pub const X_COMPANY: &str = "X-SERVICE-GATEWAY-COMPANY";
pub const X_CALL: &str = "X-SERVICE-GATEWAY-CALL";
pub const X_APPOINTMENT: &str = "X-SERVICE-GATEWAY-APPOINTMENT";
const X_NAME: &str = "X-SERVICE-GATEWAY-ATTENDEE-NAME";
const X_PHONE: &str = "X-SERVICE-GATEWAY-ATTENDEE-PHONE";
const X_EMAIL: &str = "X-SERVICE-GATEWAY-ATTENDEE-EMAIL";
const X_LANGUAGE: &str = "X-SERVICE-GATEWAY-ATTENDEE-LANGUAGE";
/// The branch's zone at booking time: how to read all-day and floating events when the booking
/// is moved later (the port's reschedule carries no zone).
const X_TIME_ZONE: &str = "X-SERVICE-GATEWAY-TIME-ZONE";
const X_CANCEL_REASON: &str = "X-SERVICE-GATEWAY-CANCEL-REASON";
const X_RESCHEDULE_REASON: &str = "X-SERVICE-GATEWAY-RESCHEDULE-REASON";
/// Put before the title of a cancelled booking, for calendar apps that do not show `STATUS`.
pub const CANCELLED_PREFIX: &str = "Abgesagt: ";

fn utc_value(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Text as it may go into a property: no control characters (a CR would end the line early).
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

/// A parameter value cannot hold a double quote or a line break at all.
fn clean_param(text: &str) -> String {
    clean(text).replace(['"', '\n'], " ")
}

/// An e-mail address good enough for a `mailto:` URI, or `None`.
fn plausible_email(email: &str) -> Option<&str> {
    let e = email.trim();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:\\[]".contains(c));
    ok.then_some(e)
}

/// What a new booking's VEVENT says.
pub struct NewEvent<'a> {
    pub uid: &'a str,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub title: &'a str,
    pub attendee: &'a Attendee,
    pub metadata: &'a BookingMetadata,
    pub time_zone: Tz,
    pub now: DateTime<Utc>,
}

/// The readable description staff see in their calendar app (German, one fact per line).
fn description(attendee: &Attendee) -> String {
    let mut lines = vec![
        "Gebucht am Telefon über den Service Gateway.".to_string(),
        format!("Name: {}", clean(&attendee.name)),
    ];
    if let Some(phone) = &attendee.phone {
        lines.push(format!("Telefon: {}", clean(phone)));
    }
    if let Some(email) = &attendee.email {
        lines.push(format!("E-Mail: {}", clean(email)));
    }
    lines.join("\n")
}

/// The calendar object of a new booking: one VEVENT in UTC with our ids as `X-` properties.
pub fn new_event(e: &NewEvent<'_>) -> String {
    let a = e.attendee;
    let mut event = Event::new();
    event
        .uid(e.uid)
        .timestamp(e.now)
        .created(e.now)
        .last_modified(e.now)
        .sequence(0)
        .starts(e.start)
        .ends(e.end)
        .summary(&clean(e.title))
        .description(&description(a))
        .status(EventStatus::Confirmed)
        .add_property("TRANSP", "OPAQUE")
        .add_property(X_COMPANY, clean(e.metadata.company_id.as_str()))
        .add_property(X_CALL, clean(e.metadata.call_id.as_str()))
        .add_property(X_APPOINTMENT, clean(e.metadata.appointment_id.as_str()))
        .add_property(X_NAME, clean(&a.name))
        .add_property(X_LANGUAGE, clean(&a.language))
        .add_property(X_TIME_ZONE, e.time_zone.name());
    if let Some(phone) = &a.phone {
        event.add_property(X_PHONE, clean(phone));
    }
    if let Some(email) = &a.email {
        event.add_property(X_EMAIL, clean(email));
        if let Some(address) = plausible_email(email) {
            // SCHEDULE-AGENT=CLIENT: a server with scheduling (RFC 6638) must not mail an
            // invitation on its own; confirmations are ours to send.
            let attendee = Property::new("ATTENDEE", format!("mailto:{address}"))
                .add_parameter("CN", &clean_param(&a.name))
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .add_parameter("PARTSTAT", "ACCEPTED")
                .add_parameter("SCHEDULE-AGENT", "CLIENT")
                .done();
            event.append_multi_property(attendee);
        }
    }
    let calendar = Calendar {
        properties: vec![
            Property::new("VERSION", "2.0"),
            Property::new("PRODID", PRODID),
            Property::new("CALSCALE", "GREGORIAN"),
        ],
        components: vec![CalendarComponent::Event(event.done())],
    };
    calendar.to_string()
}

/// CRLF line ends whatever came in (XML parsers hand calendar data over with LF only).
fn crlf(data: &str) -> String {
    data.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// The calendar object parsed.
pub fn parse(data: &str) -> Result<Calendar, String> {
    crlf(data)
        .parse::<Calendar>()
        .map_err(|e| format!("unreadable iCalendar data: {}", e.lines().next().unwrap_or_default()))
}

fn events(calendar: &Calendar) -> impl Iterator<Item = &Event> {
    calendar.components.iter().filter_map(CalendarComponent::as_event)
}

/// A property by name, whatever case the writer used.
fn prop<'a>(event: &'a Event, name: &str) -> Option<&'a Property> {
    event.properties().get(name).or_else(|| {
        event
            .properties()
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, p)| p)
    })
}

fn value<'a>(event: &'a Event, name: &str) -> Option<&'a str> {
    prop(event, name).map(Property::value).filter(|v| !v.is_empty())
}

fn param<'a>(p: &'a Property, name: &str) -> Option<&'a str> {
    p.params()
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.value().trim_matches('"'))
}

/// Windows zone names (Outlook, Exchange) for the zones our customers are in.
const WINDOWS_ZONES: &[(&str, Tz)] = &[
    ("W. Europe Standard Time", chrono_tz::Europe::Berlin),
    ("Central Europe Standard Time", chrono_tz::Europe::Budapest),
    ("Central European Standard Time", chrono_tz::Europe::Warsaw),
    ("Romance Standard Time", chrono_tz::Europe::Paris),
    ("GMT Standard Time", chrono_tz::Europe::London),
    ("UTC", chrono_tz::UTC),
    ("Coordinated Universal Time", chrono_tz::UTC),
];

/// The IANA zone a `TZID` names, if we can tell.
pub fn zone_of(tzid: &str) -> Option<Tz> {
    let tzid = tzid.trim().trim_matches('"');
    if let Ok(tz) = tzid.parse::<Tz>() {
        return Some(tz);
    }
    if let Some((_, tz)) = WINDOWS_ZONES.iter().find(|(name, _)| name.eq_ignore_ascii_case(tzid)) {
        return Some(*tz);
    }
    // Vendor prefixes: "/mozilla.org/20050126_1/Europe/Berlin", "/citadel.org/…/Europe/Berlin".
    let parts: Vec<&str> = tzid.split('/').filter(|p| !p.is_empty()).collect();
    (1..parts.len()).find_map(|i| parts[i..].join("/").parse::<Tz>().ok())
}

/// A local wall-clock time as an instant: the earlier instant when ambiguous, the offset before
/// the gap when the time does not exist (RFC 5545 §3.3.5).
fn local_instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    to_instant(tz, local).or_else(|| {
        let after_gap = to_instant_or_after_gap(tz, local)?;
        let offset = (after_gap - TimeDelta::seconds(1)).with_timezone(&tz).offset().fix();
        let utc = local - TimeDelta::seconds(i64::from(offset.local_minus_utc()));
        Some(Utc.from_utc_datetime(&utc))
    })
}

fn local_midnight(tz: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    to_instant_or_after_gap(tz, date.and_time(NaiveTime::MIN))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

/// A `DTSTART`/`DTEND` value: a date, or an instant (`zone` for floating times and unknown zones).
fn when(p: &Property, zone: Tz) -> Option<When> {
    let v = p.value().trim();
    let is_date = param(p, "VALUE").is_some_and(|t| t.eq_ignore_ascii_case("DATE")) || v.len() == 8;
    if is_date {
        return NaiveDate::parse_from_str(v, "%Y%m%d").ok().map(When::Date);
    }
    if let Some(utc) = v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(When::Instant(Utc.from_utc_datetime(&t)));
    }
    let local = NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S").ok()?;
    let tz = match param(p, "TZID") {
        Some(tzid) => zone_of(tzid).unwrap_or_else(|| {
            tracing::warn!(tzid, zone = %zone, "unknown TZID in a CalDAV event: read in the branch's zone");
            zone
        }),
        None => zone,
    };
    local_instant(tz, local).map(When::Instant)
}

/// An iCalendar `DURATION` (`PT30M`, `P1D`, `P1W`, `-PT5M`); negative ones are refused.
fn duration(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    let rest = text.strip_prefix('+').unwrap_or(text);
    let rest = rest.strip_prefix('P')?;
    let (mut seconds, mut number, mut in_time, mut any) = (0i64, String::new(), false, false);
    for c in rest.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' if !in_time => in_time = true,
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                let factor = match (unit, in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                seconds = seconds.checked_add(n.checked_mul(factor)?)?;
                any = true;
            }
        }
    }
    (any && number.is_empty()).then(|| TimeDelta::seconds(seconds))
}

/// The time an event occupies, or `None` (no start, no duration, unreadable).
fn event_span(event: &Event, zone: Tz) -> Option<Span> {
    let start = when(prop(event, "DTSTART")?, zone)?;
    let end = prop(event, "DTEND").and_then(|p| when(p, zone));
    let length = value(event, "DURATION").and_then(duration);
    match start {
        When::Date(day) => {
            let from = local_midnight(zone, day)?;
            let to = match (end, length) {
                (Some(When::Date(last)), _) if last > day => local_midnight(zone, last)?,
                (Some(When::Instant(t)), _) => t,
                (None, Some(d)) if d.num_seconds() % 86_400 == 0 && d > TimeDelta::zero() => {
                    local_midnight(zone, day + TimeDelta::days(d.num_days()))?
                }
                (None, Some(d)) => from + d,
                _ => local_midnight(zone, day.succ_opt()?)?,
            };
            Span::new(from, to)
        }
        When::Instant(from) => {
            let to = match (end, length) {
                (Some(When::Instant(t)), _) => t,
                (Some(When::Date(d)), _) => local_midnight(zone, d)?,
                (None, Some(d)) => from + d,
                (None, None) => from,
            };
            Span::new(from, to)
        }
    }
}

fn is(event: &Event, name: &str, expected: &str) -> bool {
    value(event, name).is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

/// One busy interval and the UID of the event it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busy {
    pub uid: String,
    pub span: Span,
}

/// The busy intervals of one calendar object (module docs: what counts).
pub fn busy(data: &str, zone: Tz) -> Result<Vec<Busy>, String> {
    let calendar = parse(data)?;
    let mut out = Vec::new();
    for event in events(&calendar) {
        if is(event, "STATUS", "CANCELLED") || is(event, "TRANSP", "TRANSPARENT") {
            continue;
        }
        let uid = value(event, "UID").unwrap_or_default().to_string();
        if prop(event, "RRULE").is_some() || prop(event, "RDATE").is_some() {
            tracing::warn!(
                uid,
                "a recurring CalDAV event came back unexpanded: only its first instance counts"
            );
        }
        match event_span(event, zone) {
            Some(span) => out.push(Busy { uid, span }),
            // A point in time (no end, no duration) occupies nothing.
            None if prop(event, "DTSTART").is_some()
                && prop(event, "DTEND").is_none()
                && prop(event, "DURATION").is_none() => {}
            None => return Err(format!("event {uid} has no readable start or end")),
        }
    }
    Ok(out)
}

/// The event a resource is about: the one VEVENT without `RECURRENCE-ID`.
fn main_event(calendar: &Calendar) -> Option<&Event> {
    events(calendar).find(|e| prop(e, "RECURRENCE-ID").is_none())
}

/// The booking a stored calendar object describes. Our own events carry the attendee and our
/// ids in `X-` properties; for others the first `ATTENDEE` is read.
pub fn booking(data: &str) -> Result<BackendBooking, String> {
    let calendar = parse(data)?;
    let event = main_event(&calendar).ok_or("the resource holds no VEVENT")?;
    let uid = value(event, "UID").ok_or("the event has no UID")?.to_string();
    // Our events are in UTC; a floating time in another client's event is read as UTC.
    let span = event_span(event, chrono_tz::UTC).ok_or("the event has no readable start and end")?;
    let status = match value(event, "STATUS").map(str::to_ascii_uppercase).as_deref() {
        Some("CANCELLED") => BackendStatus::Cancelled,
        Some("TENTATIVE") => BackendStatus::Pending,
        _ => BackendStatus::Accepted,
    };
    let attendee = match value(event, X_NAME) {
        Some(name) => Some(Attendee {
            name: name.to_string(),
            phone: value(event, X_PHONE).map(str::to_string),
            email: value(event, X_EMAIL).map(str::to_string),
            language: value(event, X_LANGUAGE).unwrap_or("de").to_string(),
        }),
        None => event
            .multi_properties()
            .get("ATTENDEE")
            .and_then(|all| all.first())
            .map(|p| {
                let address = p.value();
                let email = address
                    .get(..7)
                    .filter(|s| s.eq_ignore_ascii_case("mailto:"))
                    .map(|_| address[7..].to_string());
                Attendee {
                    name: param(p, "CN").map(str::to_string).unwrap_or_default(),
                    phone: None,
                    email,
                    language: param(p, "LANGUAGE").unwrap_or("de").to_string(),
                }
            }),
    };
    let mut metadata = BTreeMap::new();
    for (key, name) in [
        ("company_id", X_COMPANY),
        ("call_id", X_CALL),
        ("appointment_id", X_APPOINTMENT),
    ] {
        if let Some(v) = value(event, name) {
            metadata.insert(key.to_string(), v.to_string());
        }
    }
    if !metadata.is_empty() {
        metadata.insert("booked_via".to_string(), "service-gateway".to_string());
    }
    Ok(BackendBooking {
        uid,
        start: span.start,
        end: span.end,
        status,
        attendee,
        metadata,
        rescheduled_from: None,
    })
}

/// The branch zone a booking of ours was made in.
pub fn time_zone(data: &str) -> Option<Tz> {
    let calendar = parse(data).ok()?;
    main_event(&calendar)
        .and_then(|e| value(e, X_TIME_ZONE))
        .and_then(zone_of)
}

/// The `SEQUENCE` after one more significant change.
fn next_sequence(event: &Event) -> u32 {
    value(event, "SEQUENCE")
        .and_then(|s| s.trim().parse::<u32>().ok())
        .map_or(1, |s| s.saturating_add(1))
}

/// The stored object moved to `[start, end)` (same UID, so calendar apps update the entry).
pub fn moved(
    data: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let calendar = parse(data)?;
    let event = main_event(&calendar).ok_or("the resource holds no VEVENT")?;
    let mut add = vec![
        Property::new("DTSTART", utc_value(start)),
        Property::new("DTEND", utc_value(end)),
        Property::new("SEQUENCE", next_sequence(event).to_string()),
        Property::new("DTSTAMP", utc_value(now)),
        Property::new("LAST-MODIFIED", utc_value(now)),
    ];
    if !reason.trim().is_empty() {
        add.push(Property::new(X_RESCHEDULE_REASON, clean(reason)));
    }
    edit_main_event(
        data,
        &[
            "DTSTART",
            "DTEND",
            "DURATION",
            "SEQUENCE",
            "DTSTAMP",
            "LAST-MODIFIED",
            X_RESCHEDULE_REASON,
        ],
        add,
    )
}

/// The stored object marked cancelled: `STATUS:CANCELLED`, shown as free, the title prefixed
/// for apps that ignore the status, the reason kept.
pub fn cancelled(data: &str, reason: &str, now: DateTime<Utc>) -> Result<String, String> {
    let calendar = parse(data)?;
    let event = main_event(&calendar).ok_or("the resource holds no VEVENT")?;
    let title = value(event, "SUMMARY").unwrap_or_default();
    let title = if title.starts_with(CANCELLED_PREFIX) {
        title.to_string()
    } else {
        format!("{CANCELLED_PREFIX}{title}")
    };
    let mut add = vec![
        Property::new("STATUS", "CANCELLED"),
        Property::new("TRANSP", "TRANSPARENT"),
        Property::new("SUMMARY", title),
        Property::new("SEQUENCE", next_sequence(event).to_string()),
        Property::new("DTSTAMP", utc_value(now)),
        Property::new("LAST-MODIFIED", utc_value(now)),
    ];
    if !reason.trim().is_empty() {
        add.push(Property::new(X_CANCEL_REASON, clean(reason)));
    }
    edit_main_event(
        data,
        &[
            "STATUS",
            "TRANSP",
            "SUMMARY",
            "SEQUENCE",
            "DTSTAMP",
            "LAST-MODIFIED",
            X_CANCEL_REASON,
        ],
        add,
    )
}

/// Whether the object is a recurring series or has exceptions (we do not move or cancel those:
/// they are not bookings we made).
pub fn is_recurring(data: &str) -> Result<bool, String> {
    let calendar = parse(data)?;
    let count = events(&calendar).count();
    Ok(count > 1 || events(&calendar).any(|e| prop(e, "RRULE").is_some() || prop(e, "RDATE").is_some()))
}

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a character.
fn fold(line: &str, out: &mut String) {
    let mut rest = line;
    let mut limit = 75;
    while rest.len() > limit {
        let mut cut = limit;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        limit = 74;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// Rewrites the one VEVENT of a calendar object: drops the properties named in `drop` (at the
/// VEVENT's own level, not inside its alarms) and appends `add`. Every other line stays.
fn edit_main_event(data: &str, drop: &[&str], add: Vec<Property>) -> Result<String, String> {
    let unfolded = icalendar::parser::unfold(&crlf(data));
    let mut out = String::with_capacity(unfolded.len() + 512);
    let mut stack: Vec<String> = Vec::new();
    let mut events = 0;
    let mut add = Some(add);
    for line in unfolded.split("\r\n").filter(|l| !l.is_empty()) {
        let name_end = line.find([';', ':']).unwrap_or(line.len());
        let name = line[..name_end].to_ascii_uppercase();
        let in_event = stack.len() == 2 && stack[1] == "VEVENT";
        if name == "BEGIN" {
            let kind = line[name_end..].trim_start_matches(':').trim().to_ascii_uppercase();
            if stack.len() == 1 && kind == "VEVENT" {
                events += 1;
            }
            stack.push(kind);
        } else if name == "END" {
            if in_event && let Some(props) = add.take() {
                for p in props {
                    let text: String = p.try_into().map_err(|_| "cannot write a property".to_string())?;
                    out.push_str(&text);
                }
            }
            stack.pop();
        } else if in_event && drop.iter().any(|d| d.eq_ignore_ascii_case(&name)) {
            continue;
        }
        fold(line, &mut out);
    }
    match events {
        1 => Ok(out),
        0 => Err("the resource holds no VEVENT".into()),
        _ => Err("the resource holds a recurring event with exceptions".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;
    use gateway_domain::ids::{AppointmentId, CallId, CompanyId};

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn wrap(event: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{event}END:VCALENDAR\r\n")
    }

    fn spans(data: &str) -> Vec<(String, String)> {
        busy(data, Berlin)
            .unwrap()
            .into_iter()
            .map(|b| (b.span.start.to_rfc3339(), b.span.end.to_rfc3339()))
            .collect()
    }

    fn attendee(email: Option<&str>) -> Attendee {
        Attendee {
            name: "Erika \"Eri\" Mustermann; Jr.".into(),
            phone: Some("+4915112345678".into()),
            email: email.map(str::to_string),
            language: "de".into(),
        }
    }

    fn metadata() -> BookingMetadata {
        BookingMetadata {
            company_id: CompanyId::new("praxis-weber"),
            call_id: CallId::new("call_123"),
            appointment_id: AppointmentId::new("01JQ0000000000000000000000"),
        }
    }

    fn ours(email: Option<&str>) -> String {
        let a = attendee(email);
        let m = metadata();
        new_event(&NewEvent {
            uid: "sg-1",
            start: utc("2026-03-30T07:00:00Z"),
            end: utc("2026-03-30T07:30:00Z"),
            title: "Erstberatung, 30 Min.\r\nInjected:1",
            attendee: &a,
            metadata: &m,
            time_zone: Berlin,
            now: utc("2026-03-26T09:00:00Z"),
        })
    }

    #[test]
    fn zones_are_found_behind_prefixes_and_windows_names() {
        assert_eq!(zone_of("Europe/Berlin"), Some(Berlin));
        assert_eq!(zone_of("\"Europe/Berlin\""), Some(Berlin));
        assert_eq!(zone_of("/mozilla.org/20050126_1/Europe/Berlin"), Some(Berlin));
        assert_eq!(zone_of("W. Europe Standard Time"), Some(Berlin));
        assert_eq!(zone_of("Mars/Olympus"), None);
    }

    #[test]
    fn utc_tzid_floating_and_all_day_events_become_instants() {
        let data = wrap(concat!(
            "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260330T070000Z\r\nDTEND:20260330T080000Z\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:b\r\nDTSTART;TZID=Europe/Berlin:20260330T140000\r\nDURATION:PT1H30M\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260331T100000\r\nDTEND:20260331T110000\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20260401\r\nDTEND;VALUE=DATE:20260403\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:e\r\nDTSTART;VALUE=DATE:20260406\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:f\r\nDTSTART;TZID=/mozilla.org/20050126_1/Europe/Berlin:20260325T090000\r\nDTEND;TZID=/mozilla.org/20050126_1/Europe/Berlin:20260325T093000\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            spans(&data),
            vec![
                ("2026-03-30T07:00:00+00:00".into(), "2026-03-30T08:00:00+00:00".into()),
                ("2026-03-30T12:00:00+00:00".into(), "2026-03-30T13:30:00+00:00".into()),
                ("2026-03-31T08:00:00+00:00".into(), "2026-03-31T09:00:00+00:00".into()),
                ("2026-03-31T22:00:00+00:00".into(), "2026-04-02T22:00:00+00:00".into()),
                ("2026-04-05T22:00:00+00:00".into(), "2026-04-06T22:00:00+00:00".into()),
                ("2026-03-25T08:00:00+00:00".into(), "2026-03-25T08:30:00+00:00".into()),
            ]
        );
    }

    #[test]
    fn dst_gap_and_overlap_follow_rfc_5545() {
        // 02:30 on 2026-03-29 does not exist in Berlin: read with the offset before the gap
        // (+01:00), i.e. 01:30Z. 02:30 on 2026-10-25 exists twice: the earlier (+02:00).
        let data = wrap(concat!(
            "BEGIN:VEVENT\r\nUID:gap\r\nDTSTART;TZID=Europe/Berlin:20260329T023000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:twice\r\nDTSTART;TZID=Europe/Berlin:20261025T023000\r\nDURATION:PT1H\r\nEND:VEVENT\r\n",
        ));
        let s = spans(&data);
        assert_eq!(s[0].0, "2026-03-29T01:30:00+00:00");
        assert_eq!(s[1].0, "2026-10-25T00:30:00+00:00");
    }

    #[test]
    fn cancelled_transparent_and_instant_events_are_not_busy() {
        let data = wrap(concat!(
            "BEGIN:VEVENT\r\nUID:a\r\nSTATUS:CANCELLED\r\nDTSTART:20260330T070000Z\r\nDTEND:20260330T080000Z\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:b\r\nTRANSP:TRANSPARENT\r\nDTSTART:20260330T070000Z\r\nDTEND:20260330T080000Z\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260330T070000Z\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:d\r\nSTATUS:TENTATIVE\r\nDTSTART:20260330T090000Z\r\nDTEND:20260330T100000Z\r\nEND:VEVENT\r\n",
        ));
        assert_eq!(
            spans(&data),
            vec![("2026-03-30T09:00:00+00:00".into(), "2026-03-30T10:00:00+00:00".into())]
        );
    }

    #[test]
    fn durations_are_read_and_nonsense_refused() {
        assert_eq!(duration("PT30M"), Some(TimeDelta::minutes(30)));
        assert_eq!(duration("P1DT2H"), Some(TimeDelta::hours(26)));
        assert_eq!(duration("P2W"), Some(TimeDelta::days(14)));
        assert_eq!(duration("-PT5M"), None);
        assert_eq!(duration("PT"), None);
        assert_eq!(duration("P1H"), None);
    }

    #[test]
    fn a_new_event_reads_back_as_the_booking_it_was() {
        let data = ours(Some("erika@example.org"));
        assert!(data.contains("DTSTART:20260330T070000Z\r\n"), "{data}");
        assert!(data.contains("DTEND:20260330T073000Z\r\n"));
        assert!(data.contains("X-SERVICE-GATEWAY-CALL:call_123\r\n"));
        assert!(data.contains("SCHEDULE-AGENT=CLIENT"));
        assert!(data.contains("mailto:erika@example.org"));
        assert!(
            !data.contains("\r\nInjected:1"),
            "a CR in the title cannot start a property: {data}"
        );
        let unfolded = data.replace("\r\n ", "");
        let description = unfolded
            .split("DESCRIPTION:")
            .nth(1)
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap();
        assert!(
            description.contains(r"\nTelefon: +4915112345678\nE-Mail: erika@example.org"),
            "{description}"
        );
        let b = booking(&data).unwrap();
        assert_eq!(b.uid, "sg-1");
        assert_eq!(b.start, utc("2026-03-30T07:00:00Z"));
        assert_eq!(b.end, utc("2026-03-30T07:30:00Z"));
        assert_eq!(b.status, BackendStatus::Accepted);
        assert_eq!(b.attendee, Some(attendee(Some("erika@example.org"))));
        assert_eq!(b.metadata, metadata().to_map());
        assert_eq!(busy(&data, Berlin).unwrap().len(), 1);
        assert_eq!(time_zone(&data), Some(Berlin));
    }

    #[test]
    fn without_an_email_there_is_no_attendee_property() {
        let data = ours(None);
        assert!(!data.contains("ATTENDEE:") && !data.contains("ATTENDEE;"), "{data}");
        assert_eq!(booking(&data).unwrap().attendee, Some(attendee(None)));
        let odd = ours(Some("not an address"));
        assert!(!odd.contains("mailto:"));
        assert_eq!(
            booking(&odd).unwrap().attendee.unwrap().email.as_deref(),
            Some("not an address")
        );
    }

    #[test]
    fn moving_and_cancelling_keep_what_others_added() {
        let data = ours(Some("erika@example.org")).replace(
            "END:VEVENT",
            "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Erinnerung\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nX-MOZ-GENERATION:3\r\nEND:VEVENT",
        );
        let now = utc("2026-03-27T10:00:00Z");
        let moved = moved(
            &data,
            utc("2026-03-31T12:00:00Z"),
            utc("2026-03-31T12:30:00Z"),
            "Kunde krank",
            now,
        )
        .unwrap();
        let b = booking(&moved).unwrap();
        assert_eq!(
            (b.start, b.end),
            (utc("2026-03-31T12:00:00Z"), utc("2026-03-31T12:30:00Z"))
        );
        assert!(moved.contains("SEQUENCE:1\r\n") && !moved.contains("SEQUENCE:0"));
        assert!(moved.contains("TRIGGER:-PT15M") && moved.contains("X-MOZ-GENERATION:3"));
        assert!(
            moved.contains("DESCRIPTION:Erinnerung"),
            "the alarm's own description stays"
        );
        assert_eq!(moved.matches("DTSTART").count(), 1);

        let gone = cancelled(&moved, "abgesagt am Telefon", now).unwrap();
        let b = booking(&gone).unwrap();
        assert_eq!(b.status, BackendStatus::Cancelled);
        assert!(gone.contains("SUMMARY:Abgesagt: Erstberatung\\, 30 Min."), "{gone}");
        assert!(gone.contains("SEQUENCE:2\r\n"));
        assert!(busy(&gone, Berlin).unwrap().is_empty());
        assert!(!is_recurring(&gone).unwrap());
        for line in gone.split("\r\n") {
            assert!(line.len() <= 75, "folded: {line}");
        }
    }
}
