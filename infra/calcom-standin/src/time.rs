//! Parsing and formatting of instants the way Cal.com's API v2 writes them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Cal.com (luxon/JS `toISOString`) always prints milliseconds: `2026-03-02T08:00:00.000Z`.
pub fn fmt_utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Offset form used by `GET /v2/slots` when `timeZone` is given; luxon prints `Z` only for the UTC zone itself.
pub fn fmt_in_zone(at: DateTime<Utc>, tz: Tz) -> String {
    if is_utc(tz) {
        return fmt_utc(at);
    }
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

pub fn is_utc(tz: Tz) -> bool {
    matches!(
        tz,
        Tz::UTC | Tz::Etc__UTC | Tz::Etc__Universal | Tz::Universal | Tz::Zulu | Tz::Etc__Zulu
    )
}

pub fn parse_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// Which end of a date-only bound is meant: Cal.com widens `2026-03-02` to 00:00:00Z or 23:59:59Z.
#[derive(Clone, Copy)]
pub enum Bound {
    Start,
    End,
}

/// A slots-query bound: full ISO 8601 instant (any offset), or a date-only value taken as a **UTC** day bound.
pub fn parse_bound(raw: &str, bound: Bound) -> Option<DateTime<Utc>> {
    if let Some(at) = parse_instant(raw) {
        return Some(at);
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    let time = match bound {
        Bound::Start => NaiveTime::MIN,
        Bound::End => NaiveTime::from_hms_opt(23, 59, 59)?,
    };
    Some(Utc.from_utc_datetime(&NaiveDateTime::new(day, time)))
}

/// Any RFC 3339 instant, converted to UTC.
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw).ok().map(|at| at.with_timezone(&Utc))
}

/// Booking inputs must be UTC (`…Z` or `+00:00`); the stand-in is strict here on purpose (see FIDELITY.md).
pub fn parse_utc_instant(raw: &str) -> Option<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(raw).ok()?;
    (at.offset().local_minus_utc() == 0).then(|| at.with_timezone(&Utc))
}

/// Local wall time → instant; a wall time inside a DST gap does not exist and yields `None`.
pub fn local_to_utc(tz: Tz, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&NaiveDateTime::new(day, time))
        .earliest()
        .map(|at| at.with_timezone(&Utc))
}

/// Minutes east of UTC that `tz` has at `at` (webhook `utcOffset`).
pub fn utc_offset_minutes(tz: Tz, at: DateTime<Utc>) -> i32 {
    use chrono::Offset;
    at.with_timezone(&tz).offset().fix().local_minus_utc() / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_cal_com() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).single().expect("valid");
        assert_eq!(fmt_utc(at), "2026-03-02T08:00:00.000Z");
        assert_eq!(fmt_in_zone(at, Tz::Europe__Berlin), "2026-03-02T09:00:00.000+01:00");
        assert_eq!(fmt_in_zone(at, Tz::UTC), "2026-03-02T08:00:00.000Z");
        assert_eq!(fmt_in_zone(at, Tz::Europe__London), "2026-03-02T08:00:00.000+00:00");
    }

    #[test]
    fn date_only_bounds_are_utc_days() {
        let start = parse_bound("2026-03-02", Bound::Start).expect("date");
        let end = parse_bound("2026-03-02", Bound::End).expect("date");
        assert_eq!(fmt_utc(start), "2026-03-02T00:00:00.000Z");
        assert_eq!(fmt_utc(end), "2026-03-02T23:59:59.000Z");
    }

    #[test]
    fn utc_only_for_booking_inputs() {
        assert!(parse_utc_instant("2026-03-02T08:00:00Z").is_some());
        assert!(parse_utc_instant("2026-03-02T08:00:00.000+00:00").is_some());
        assert!(parse_utc_instant("2026-03-02T09:00:00+01:00").is_none());
        assert!(parse_utc_instant("2026-03-02").is_none());
    }
}
