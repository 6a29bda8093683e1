//! Wall-clock time versus instants. A branch thinks in local time ("Montag um 9"); everything we
//! store, compare and send is a UTC instant. All DST decisions are made here, in one place:
//!
//! - a local time that does not exist (spring forward, 02:30 on 2026-03-29 in Berlin) is refused
//!   ([`to_instant`] returns `None`); callers skip such grid points or ask the caller;
//! - a local time that exists twice (fall back, 02:30 on 2026-10-25) means the earlier instant;
//! - only the bounds of opening hours move a nonexistent time forward to the moment the clocks jump
//!   ([`to_instant_or_after_gap`]): a shop "open from 02:30" is open once the clock shows 03:00.
//!
//! Durations (an appointment's 30 minutes, buffers, notice) are added to instants, never to naive
//! local times, so a 60-minute appointment is 60 real minutes even across a switch.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// The instant of a local wall-clock time: `None` when it falls into a DST gap, the earlier
/// instant when it is ambiguous.
pub fn to_instant(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
        LocalResult::None => None,
    }
}

/// Like [`to_instant`], but a time inside a DST gap becomes the first instant after the gap.
/// Used for the bounds of open intervals, not for appointment starts.
pub fn to_instant_or_after_gap(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    if let Some(t) = to_instant(tz, local) {
        return Some(t);
    }
    // Gaps are one hour in Europe and never longer than a day anywhere; walk minute by minute.
    (1..=24 * 60).find_map(|m| to_instant(tz, local + TimeDelta::minutes(m)))
}

/// The local calendar date of an instant.
pub fn local_date(tz: Tz, instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// The local wall-clock date and time of an instant.
pub fn local_datetime(tz: Tz, instant: DateTime<Utc>) -> NaiveDateTime {
    instant.with_timezone(&tz).naive_local()
}

/// A half-open interval of instants `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Span {
    /// `None` unless `start < end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    /// Touching intervals (`a.end == b.start`) do not overlap.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `inner` lies completely inside this interval.
    pub fn contains_span(&self, inner: &Span) -> bool {
        self.start <= inner.start && inner.end <= self.end
    }

    /// Whether the instant lies inside `[start, end)`.
    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.start <= instant && instant < self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;
    use chrono_tz::Europe::Berlin;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_time(NaiveTime::from_hms_opt(h, mi, 0).unwrap())
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn spring_forward_gap_is_refused() {
        assert_eq!(to_instant(Berlin, local(2026, 3, 29, 2, 30)), None);
        assert_eq!(
            to_instant(Berlin, local(2026, 3, 29, 9, 0)),
            Some(utc("2026-03-29T07:00:00Z"))
        );
    }

    #[test]
    fn fall_back_ambiguity_takes_the_earlier_instant() {
        // 02:30 CEST (+02:00) comes before 02:30 CET (+01:00).
        assert_eq!(
            to_instant(Berlin, local(2026, 10, 25, 2, 30)),
            Some(utc("2026-10-25T00:30:00Z"))
        );
        assert_eq!(
            to_instant(Berlin, local(2026, 10, 25, 9, 0)),
            Some(utc("2026-10-25T08:00:00Z"))
        );
    }

    #[test]
    fn interval_bounds_in_the_gap_move_to_the_jump() {
        assert_eq!(
            to_instant_or_after_gap(Berlin, local(2026, 3, 29, 2, 30)),
            Some(utc("2026-03-29T01:00:00Z"))
        );
    }

    #[test]
    fn spans_touching_do_not_overlap() {
        let a = Span::new(utc("2026-12-01T09:00:00Z"), utc("2026-12-01T10:00:00Z")).unwrap();
        let b = Span::new(utc("2026-12-01T10:00:00Z"), utc("2026-12-01T11:00:00Z")).unwrap();
        assert!(!a.overlaps(&b));
        assert!(Span::new(b.end, b.start).is_none());
    }
}
