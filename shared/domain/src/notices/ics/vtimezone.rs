//! A `VTIMEZONE` for an IANA zone, computed from chrono-tz's rules (RFC 5545 §3.6.5): one
//! `STANDARD` or `DAYLIGHT` observance per real offset change in a window around the event, each
//! with its onset in the local time before the change (`TZOFFSETFROM`), so a reader that never
//! heard of the zone's name still turns the event's local times into the right instants.
//!
//! Explicit onsets instead of `RRULE`s: zones change their rules (the EU has debated ending DST
//! for years), and a rule would claim more than the one year either side that the entry needs.

use chrono::{DateTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

use crate::notices::ics::content_line::line;

/// How far around the event the zone's changes are listed.
const WINDOW: TimeDelta = TimeDelta::days(366);

/// One observance: from `onset` on, the zone is `offset_to` seconds east of UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observance {
    pub onset: DateTime<Utc>,
    pub offset_from: i32,
    pub offset_to: i32,
    pub daylight: bool,
    pub name: Option<String>,
}

impl Observance {
    /// The onset as local time before the change, as `DTSTART` wants it.
    pub fn local_onset(&self) -> NaiveDateTime {
        self.onset.naive_utc() + TimeDelta::seconds(i64::from(self.offset_from))
    }
}

fn offset_at(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()
}

/// The first whole second in `(lo, hi]` with the offset of `hi`, when `lo` has another one.
fn change_between(tz: Tz, lo: DateTime<Utc>, hi: DateTime<Utc>) -> DateTime<Utc> {
    let before = offset_at(tz, lo);
    let at = |second: i64| DateTime::from_timestamp(second, 0).unwrap_or(hi);
    let (mut lo, mut hi) = (lo.timestamp(), hi.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset_at(tz, at(mid)) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(hi)
}

fn observance(tz: Tz, onset: DateTime<Utc>, offset_from: i32) -> Observance {
    let offset = tz.offset_from_utc_datetime(&onset.naive_utc());
    Observance {
        onset,
        offset_from,
        offset_to: offset.fix().local_minus_utc(),
        daylight: !offset.dst_offset().is_zero(),
        name: offset.abbreviation().map(str::to_string),
    }
}

/// The zone's offset changes within a year either side of `[first, last]`, oldest first. When
/// none lies at or before `first`, the observance in force at the window's start leads, so the
/// event's own times are always covered.
pub fn observances(tz: Tz, first: DateTime<Utc>, last: DateTime<Utc>) -> Vec<Observance> {
    let (start, end) = (first - WINDOW, last + WINDOW);
    let mut found = Vec::new();
    let mut t = start;
    // Offsets change at most a few times a year: a daily scan finds every change, a bisection
    // its second.
    while t < end {
        let next = (t + TimeDelta::days(1)).min(end);
        let before = offset_at(tz, t);
        if offset_at(tz, next) != before {
            found.push(observance(tz, change_between(tz, t, next), before));
        }
        t = next;
    }
    if found.first().is_none_or(|o| o.onset > first) {
        let offset = offset_at(tz, start);
        found.insert(0, observance(tz, start, offset));
    }
    found
}

/// `+0100`, `-0330`.
fn utc_offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

/// The `VTIMEZONE` component for the event's times.
pub fn vtimezone(tz: Tz, first: DateTime<Utc>, last: DateTime<Utc>) -> String {
    let mut out = line("BEGIN", &[], "VTIMEZONE");
    out.push_str(&line("TZID", &[], tz.name()));
    for o in observances(tz, first, last) {
        let kind = if o.daylight { "DAYLIGHT" } else { "STANDARD" };
        out.push_str(&line("BEGIN", &[], kind));
        out.push_str(&line(
            "DTSTART",
            &[],
            &o.local_onset().format("%Y%m%dT%H%M%S").to_string(),
        ));
        out.push_str(&line("TZOFFSETFROM", &[], &utc_offset(o.offset_from)));
        out.push_str(&line("TZOFFSETTO", &[], &utc_offset(o.offset_to)));
        if let Some(name) = o.name.as_deref().filter(|n| !n.is_empty()) {
            out.push_str(&line("TZNAME", &[], &crate::notices::ics::content_line::text(name)));
        }
        out.push_str(&line("END", &[], kind));
    }
    out.push_str(&line("END", &[], "VTIMEZONE"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn berlin_changes_at_one_oclock_utc_on_the_last_sundays_of_march_and_october() {
        let event = utc(2027, 3, 28, 1, 30);
        let found = observances(Europe::Berlin, event, event);
        let onsets: Vec<(DateTime<Utc>, i32, i32, bool)> = found
            .iter()
            .map(|o| (o.onset, o.offset_from, o.offset_to, o.daylight))
            .collect();
        assert_eq!(
            onsets,
            [
                (utc(2026, 3, 29, 1, 0), 3600, 7200, true),
                (utc(2026, 10, 25, 1, 0), 7200, 3600, false),
                (utc(2027, 3, 28, 1, 0), 3600, 7200, true),
                (utc(2027, 10, 31, 1, 0), 7200, 3600, false),
                (utc(2028, 3, 26, 1, 0), 3600, 7200, true),
            ]
        );
        // Onsets in the local time before the change: 02:00 in spring, 03:00 in autumn.
        assert_eq!(found[2].local_onset().to_string(), "2027-03-28 02:00:00");
        assert_eq!(found[1].local_onset().to_string(), "2026-10-25 03:00:00");
        assert_eq!(found[2].name.as_deref(), Some("CEST"));
        assert_eq!(found[1].name.as_deref(), Some("CET"));
    }

    #[test]
    fn a_zone_without_changes_has_one_observance_that_covers_the_event() {
        let event = utc(2026, 12, 8, 13, 30);
        let found = observances(Asia::Tokyo, event, event);
        assert_eq!(found.len(), 1);
        assert!(found[0].onset <= event);
        assert_eq!(
            (found[0].offset_from, found[0].offset_to, found[0].daylight),
            (32_400, 32_400, false)
        );
        let text = vtimezone(Asia::Tokyo, event, event);
        assert!(
            text.contains("TZOFFSETTO:+0900\r\n") && text.contains("BEGIN:STANDARD\r\n"),
            "{text}"
        );
    }

    #[test]
    fn western_offsets_are_negative() {
        let event = utc(2026, 7, 1, 12, 0);
        let text = vtimezone(America::St_Johns, event, event);
        assert!(
            text.contains("TZOFFSETTO:-0230\r\n") && text.contains("TZOFFSETFROM:-0330\r\n"),
            "{text}"
        );
        assert!(text.starts_with("BEGIN:VTIMEZONE\r\nTZID:America/St_Johns\r\n"));
        assert!(text.ends_with("END:VTIMEZONE\r\n"));
    }
}
