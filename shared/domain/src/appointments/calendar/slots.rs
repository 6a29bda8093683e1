//! Free slots for calendars without their own availability logic (CalDAV): we know the branch's
//! hours, the service's rules and the busy intervals, and compute the bookable starts ourselves.
//!
//! Rules, decided and tested:
//! - The grid is local wall-clock time anchored at local midnight (08:00, 08:15, …), the same
//!   every day, including DST days. A grid time that does not exist is skipped; an ambiguous one
//!   is used once, at its earlier instant.
//! - Buffers belong to the new appointment: `[start − buffer_before, end + buffer_after)` must lie
//!   inside ONE open interval (so breaks and closing time are respected) and must not overlap any
//!   busy interval. Busy intervals are taken as given (they are other people's events whose own
//!   buffers we do not know; an adapter that knows them widens the intervals before passing them).
//!   In effect each busy interval is widened by `buffer_after` before it and `buffer_before`
//!   after it. Touching is not overlapping.
//! - `start ≥ now + min_notice`; the horizon counts local calendar days: a start is bookable up
//!   to the end of the day `today + horizon_days` (callers think in days, and this stays the same
//!   across a DST switch).
//! - A slot is returned when its start lies in the requested range `[from, to)`.

use chrono::{DateTime, NaiveTime, TimeDelta, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::appointments::calendar::hours::BranchCalendar;
use crate::appointments::calendar::local_time::{Span, local_date, to_instant};

/// A staff member's id in the calendar backend (Cal.com host, CalDAV calendar).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaffId(pub String);

/// A free, bookable appointment `[start, end)`, optionally for one staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffId>,
}

impl Slot {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            start,
            end,
            staff: None,
        }
    }

    pub fn with_staff(mut self, staff: StaffId) -> Self {
        self.staff = Some(staff);
        self
    }
}

/// Booking rules of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRules {
    pub duration: TimeDelta,
    pub buffer_before: TimeDelta,
    pub buffer_after: TimeDelta,
    pub min_notice: TimeDelta,
    /// Bookable up to the end of local day `today + horizon_days`.
    pub horizon_days: u32,
    /// Grid step; must divide a day into whole minutes.
    pub grid_step: TimeDelta,
}

impl ServiceRules {
    /// No buffers, no notice, 60 days ahead, 15-minute grid.
    pub fn new(duration: TimeDelta) -> Self {
        Self {
            duration,
            buffer_before: TimeDelta::zero(),
            buffer_after: TimeDelta::zero(),
            min_notice: TimeDelta::zero(),
            horizon_days: 60,
            grid_step: TimeDelta::minutes(15),
        }
    }

    pub fn validate(&self) -> Result<(), RulesError> {
        if self.duration <= TimeDelta::zero() {
            return Err(RulesError::Duration);
        }
        if self.buffer_before < TimeDelta::zero() || self.buffer_after < TimeDelta::zero() {
            return Err(RulesError::NegativeBuffer);
        }
        if self.min_notice < TimeDelta::zero() {
            return Err(RulesError::NegativeNotice);
        }
        let step = self.grid_step.num_minutes();
        if step <= 0 || self.grid_step != TimeDelta::minutes(step) || (24 * 60) % step != 0 {
            return Err(RulesError::GridStep(self.grid_step.num_seconds()));
        }
        Ok(())
    }
}

/// Rules that cannot produce a sensible grid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("the duration must be positive")]
    Duration,
    #[error("buffers must not be negative")]
    NegativeBuffer,
    #[error("the minimum notice must not be negative")]
    NegativeNotice,
    #[error("a grid step of {0} s does not divide a day into whole minutes")]
    GridStep(i64),
}

/// Whether a local wall-clock time lies on the grid (minutes since local midnight divisible by
/// the step). `step` must be validated ([`ServiceRules::validate`]).
pub fn on_grid(time: NaiveTime, step: TimeDelta) -> bool {
    let step = step.num_minutes().max(1);
    time.second() == 0 && i64::from(time.hour() * 60 + time.minute()) % step == 0
}

/// Busy intervals sorted by start with the running maximum of their ends: "does anything overlap
/// [a, b)" in O(log n).
struct BusyIndex {
    starts: Vec<DateTime<Utc>>,
    max_end: Vec<DateTime<Utc>>,
}

impl BusyIndex {
    fn new(busy: &[Span]) -> Self {
        let mut sorted = busy.to_vec();
        sorted.sort();
        let starts = sorted.iter().map(|s| s.start).collect();
        let max_end = sorted
            .iter()
            .scan(None::<DateTime<Utc>>, |acc, s| {
                let m = acc.map_or(s.end, |a| a.max(s.end));
                *acc = Some(m);
                Some(m)
            })
            .collect();
        Self { starts, max_end }
    }

    fn overlaps(&self, span: &Span) -> bool {
        // Intervals starting before span.end; overlap iff one of them ends after span.start.
        let n = self.starts.partition_point(|s| *s < span.end);
        n > 0 && self.max_end[n - 1] > span.start
    }
}

/// The free slots whose start lies in `range`, on the local grid, in start order.
pub fn free_slots(
    range: Span,
    calendar: &BranchCalendar,
    rules: &ServiceRules,
    busy: &[Span],
    now: DateTime<Utc>,
) -> Result<Vec<Slot>, RulesError> {
    rules.validate()?;
    let tz = calendar.tz;
    let busy = BusyIndex::new(busy);
    let earliest = (now + rules.min_notice).max(range.start);
    let last_day = calendar.today(now) + TimeDelta::days(i64::from(rules.horizon_days));
    let first_day = local_date(tz, earliest);
    let end_day = local_date(tz, range.end).min(last_day);
    // Validated above: 1..=1440 whole minutes.
    let step = u32::try_from(rules.grid_step.num_minutes()).unwrap_or(15);

    let mut slots = Vec::new();
    for date in first_day.iter_days().take_while(|d| *d <= end_day) {
        let local = calendar.local_hours(date);
        let spans = calendar.open_intervals(date);
        for (iv, open) in local.iter().zip(spans) {
            let first_minute = iv.start().num_seconds_from_midnight().div_ceil(60);
            let mut minute = first_minute.div_ceil(step) * step;
            let end_minute = iv.end().num_seconds_from_midnight() / 60;
            while minute < end_minute {
                let wall = date.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute));
                minute += step;
                let Some(start) = to_instant(tz, wall) else { continue };
                if start < earliest || start >= range.end {
                    continue;
                }
                let end = start + rules.duration;
                let Some(blocked) = Span::new(start - rules.buffer_before, end + rules.buffer_after) else {
                    continue;
                };
                if open.contains_span(&blocked) && !busy.overlaps(&blocked) {
                    slots.push(Slot::new(start, end));
                }
            }
        }
    }
    Ok(slots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::calendar::hours::tests::{branch, iv};
    use chrono::Weekday;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn span(a: &str, b: &str) -> Span {
        Span::new(utc(a), utc(b)).unwrap()
    }

    fn starts(slots: &[Slot]) -> Vec<String> {
        slots.iter().map(|s| s.start.format("%d %H:%M").to_string()).collect()
    }

    // Tuesday 2026-12-01; Berlin is UTC+1, so 08:00 local = 07:00Z.
    fn tuesday() -> Span {
        span("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z")
    }

    fn early_now() -> DateTime<Utc> {
        utc("2026-11-30T12:00:00Z")
    }

    #[test]
    fn breaks_and_closing_time_are_respected() {
        let rules = ServiceRules::new(TimeDelta::minutes(30));
        let slots = free_slots(tuesday(), &branch(), &rules, &[], early_now()).unwrap();
        let s = starts(&slots);
        assert_eq!(s.first().unwrap(), "01 07:00");
        assert!(s.contains(&"01 10:30".to_string()), "11:30 local, ends at 12:00");
        assert!(
            !s.contains(&"01 10:45".to_string()),
            "11:45 local would run into the break"
        );
        assert!(!s.contains(&"01 11:00".to_string()), "12:00 local is the break");
        assert!(s.contains(&"01 12:00".to_string()), "13:00 local");
        assert_eq!(s.last().unwrap(), "01 16:30", "17:30 local is the last 30-minute start");
        assert_eq!(slots.len(), 15 + 19, "08:00–11:30 and 13:00–17:30 every 15 minutes");
        assert_eq!(slots[0].end - slots[0].start, TimeDelta::minutes(30));
    }

    #[test]
    fn buffers_stay_inside_the_open_interval_and_clear_busy_time() {
        let mut rules = ServiceRules::new(TimeDelta::minutes(30));
        rules.buffer_before = TimeDelta::minutes(10);
        rules.buffer_after = TimeDelta::minutes(15);
        // Busy 10:00–10:30 local (09:00–09:30Z).
        let busy = [span("2026-12-01T09:00:00Z", "2026-12-01T09:30:00Z")];
        let slots = free_slots(tuesday(), &branch(), &rules, &busy, early_now()).unwrap();
        let s = starts(&slots);
        assert_eq!(
            s.first().unwrap(),
            "01 07:15",
            "08:00 would put the 10-minute buffer before opening"
        );
        // 09:15 local: 09:05–10:00 blocked, touches the busy start: fine. 09:30 would overlap.
        assert!(s.contains(&"01 08:15".to_string()));
        assert!(!s.contains(&"01 08:30".to_string()));
        // After the busy 10:30 end we need 10 minutes before: 10:45 is the first.
        assert!(!s.contains(&"01 09:30".to_string()));
        assert!(s.contains(&"01 09:45".to_string()));
        // 11:15 ends 11:45 + 15 = 12:00: the last morning slot.
        assert!(s.contains(&"01 10:15".to_string()));
        assert!(!s.contains(&"01 10:30".to_string()));
        assert_eq!(s.last().unwrap(), "01 16:15", "17:15 + 30 + 15 = 18:00");
    }

    #[test]
    fn notice_and_horizon() {
        let mut rules = ServiceRules::new(TimeDelta::minutes(30));
        rules.min_notice = TimeDelta::hours(2);
        rules.horizon_days = 1;
        let now = utc("2026-12-01T09:05:00Z"); // 10:05 local
        let range = span("2026-12-01T00:00:00Z", "2026-12-10T00:00:00Z");
        let slots = free_slots(range, &branch(), &rules, &[], now).unwrap();
        assert_eq!(
            starts(&slots).first().unwrap(),
            "01 12:00",
            "10:05 + 2 h is in the break: 13:00 local"
        );
        assert_eq!(
            slots.last().unwrap().start,
            utc("2026-12-02T16:30:00Z"),
            "horizon: end of tomorrow"
        );
    }

    #[test]
    fn dst_days_keep_the_local_grid() {
        let mut cal = branch();
        cal.hours = cal
            .hours
            .clone()
            .with_day(Weekday::Sun, vec![iv("09:00-12:00")])
            .unwrap();
        let rules = ServiceRules::new(TimeDelta::minutes(60));
        let now = utc("2026-03-01T00:00:00Z");
        let spring = free_slots(
            span("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
            &cal,
            &rules,
            &[],
            now,
        )
        .unwrap();
        assert_eq!(spring[0].start, utc("2026-03-29T07:00:00Z"));
        assert_eq!(spring[0].end - spring[0].start, TimeDelta::hours(1));
        let now = utc("2026-10-01T00:00:00Z");
        let autumn = free_slots(
            span("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
            &cal,
            &rules,
            &[],
            now,
        )
        .unwrap();
        assert_eq!(autumn[0].start, utc("2026-10-25T08:00:00Z"));
        assert_eq!(autumn.len(), 9, "09:00 to 11:00 every 15 minutes");
    }

    #[test]
    fn night_opening_across_the_switch_skips_missing_and_doubles_nothing() {
        let mut cal = branch();
        cal.hours = cal
            .hours
            .clone()
            .with_day(Weekday::Sun, vec![iv("01:00-04:00")])
            .unwrap();
        let rules = ServiceRules {
            grid_step: TimeDelta::minutes(30),
            ..ServiceRules::new(TimeDelta::minutes(30))
        };
        let now = utc("2026-03-01T00:00:00Z");
        let spring = free_slots(
            span("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"),
            &cal,
            &rules,
            &[],
            now,
        )
        .unwrap();
        // 01:00, 01:30 (CET), 02:00/02:30 do not exist, 03:00, 03:30 (CEST): two real hours.
        assert_eq!(starts(&spring), ["29 00:00", "29 00:30", "29 01:00", "29 01:30"]);
        let now = utc("2026-10-01T00:00:00Z");
        let autumn = free_slots(
            span("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
            &cal,
            &rules,
            &[],
            now,
        )
        .unwrap();
        // 01:00, 01:30, 02:00 and 02:30 (first pass, CEST), 03:00, 03:30 (CET); the repeated hour is not offered twice.
        assert_eq!(
            starts(&autumn),
            ["24 23:00", "24 23:30", "25 00:00", "25 00:30", "25 02:00", "25 02:30"]
        );
    }

    #[test]
    fn invalid_rules_are_refused() {
        let bad = ServiceRules {
            grid_step: TimeDelta::minutes(7),
            ..ServiceRules::new(TimeDelta::minutes(30))
        };
        assert_eq!(
            free_slots(tuesday(), &branch(), &bad, &[], early_now()),
            Err(RulesError::GridStep(420))
        );
        assert_eq!(
            ServiceRules::new(TimeDelta::zero()).validate(),
            Err(RulesError::Duration)
        );
    }

    #[test]
    fn busy_index_overlap() {
        let idx = BusyIndex::new(&[
            span("2026-12-01T10:00:00Z", "2026-12-01T14:00:00Z"),
            span("2026-12-01T11:00:00Z", "2026-12-01T11:30:00Z"),
        ]);
        assert!(idx.overlaps(&span("2026-12-01T13:00:00Z", "2026-12-01T13:30:00Z")));
        assert!(!idx.overlaps(&span("2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z")));
        assert!(!idx.overlaps(&span("2026-12-01T09:30:00Z", "2026-12-01T10:00:00Z")));
    }
}
