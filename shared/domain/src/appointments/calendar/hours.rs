//! The business calendar of a branch: weekly opening hours with breaks, closures (holidays,
//! company vacation) and the branch's IANA zone. Hours are local wall-clock times; every question
//! about an instant converts at the edge (see [`super::local_time`]).
//!
//! Serialised through [`super::config::CalendarConfig`] so that a config loader can list every
//! problem at once instead of failing on the first.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::appointments::calendar::config::CalendarConfig;
use crate::appointments::calendar::local_time::{Span, local_date, to_instant_or_after_gap};
use crate::appointments::speech::speak;

/// How far [`BranchCalendar::next_open_day`] looks before giving up (a branch closed for a year
/// is misconfigured, not a reason to loop).
const SEARCH_DAYS: i64 = 366;

/// Used for "is 14:30 or 02:30 meant?" when a branch has no hours configured at all.
const DEFAULT_DAY: (NaiveTime, NaiveTime) = (hm(8, 0), hm(18, 0));

pub(crate) const fn hm(h: u32, m: u32) -> NaiveTime {
    match NaiveTime::from_hms_opt(h, m, 0) {
        Some(t) => t,
        None => panic!("invalid constant time"),
    }
}

/// One open interval of a day in local time, `start < end` (no overnight intervals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenInterval {
    start: NaiveTime,
    end: NaiveTime,
}

impl OpenInterval {
    /// `None` unless `start < end`.
    pub fn new(start: NaiveTime, end: NaiveTime) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    pub fn start(&self) -> NaiveTime {
        self.start
    }

    pub fn end(&self) -> NaiveTime {
        self.end
    }
}

/// Why an interval text like `"08:00-12:00"` was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntervalError {
    #[error("expected \"HH:MM-HH:MM\", got \"{0}\"")]
    Format(String),
    #[error("start {start} is not before end {end}")]
    NotIncreasing { start: String, end: String },
}

impl FromStr for OpenInterval {
    type Err = IntervalError;

    /// `"08:00-12:00"`; an en dash and spaces around the dash are accepted.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let format_error = || IntervalError::Format(s.to_string());
        let (a, b) = s.split_once(['-', '–']).ok_or_else(format_error)?;
        let parse = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| format_error());
        let (start, end) = (parse(a)?, parse(b)?);
        Self::new(start, end).ok_or_else(|| IntervalError::NotIncreasing {
            start: a.trim().to_string(),
            end: b.trim().to_string(),
        })
    }
}

impl fmt::Display for OpenInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start.format("%H:%M"), self.end.format("%H:%M"))
    }
}

/// Why a day's intervals were not accepted (index into the day's list).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DayError {
    #[error("interval {index} does not start after the previous one ends (intervals must be ordered, no overlap)")]
    OverlapOrOrder { index: usize },
}

/// Opening hours per weekday; an empty day is closed. Each day's intervals are ordered and do
/// not overlap, so a break is simply the gap between two intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    days: [Vec<OpenInterval>; 7],
}

impl WeeklyHours {
    /// Closed every day.
    pub fn closed() -> Self {
        Self::default()
    }

    /// Sets one weekday's intervals; they must be ordered and not overlap (touching is allowed).
    pub fn with_day(mut self, day: Weekday, intervals: Vec<OpenInterval>) -> Result<Self, DayError> {
        check_day(&intervals)?;
        self.days[day.num_days_from_monday() as usize] = intervals;
        Ok(self)
    }

    /// The intervals of a weekday (empty when closed).
    pub fn on(&self, day: Weekday) -> &[OpenInterval] {
        &self.days[day.num_days_from_monday() as usize]
    }
}

pub(crate) fn check_day(intervals: &[OpenInterval]) -> Result<(), DayError> {
    match intervals.windows(2).position(|w| w[1].start < w[0].end) {
        Some(i) => Err(DayError::OverlapOrOrder { index: i + 1 }),
        None => Ok(()),
    }
}

/// A closed date or an inclusive range of dates, e.g. a holiday or company vacation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    from: NaiveDate,
    to: NaiveDate,
    reason: Option<String>,
}

impl Closure {
    /// A single closed day.
    pub fn day(date: NaiveDate, reason: Option<&str>) -> Self {
        Self {
            from: date,
            to: date,
            reason: reason.map(str::to_string),
        }
    }

    /// An inclusive range; `None` when `to` is before `from`.
    pub fn range(from: NaiveDate, to: NaiveDate, reason: Option<&str>) -> Option<Self> {
        (from <= to).then(|| Self {
            from,
            to,
            reason: reason.map(str::to_string),
        })
    }

    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }

    pub fn from(&self) -> NaiveDate {
        self.from
    }

    pub fn to(&self) -> NaiveDate {
        self.to
    }

    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
}

/// A branch's calendar: zone, weekly hours and closures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CalendarConfig", into = "CalendarConfig")]
pub struct BranchCalendar {
    pub tz: Tz,
    pub hours: WeeklyHours,
    pub closures: Vec<Closure>,
}

impl BranchCalendar {
    /// The local date of `now` in the branch's zone.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        local_date(self.tz, now)
    }

    /// The first closure covering `date`, if any.
    pub fn closure_on(&self, date: NaiveDate) -> Option<&Closure> {
        self.closures.iter().find(|c| c.covers(date))
    }

    /// The local open intervals of a date; empty on closed weekdays and closures.
    pub fn local_hours(&self, date: NaiveDate) -> &[OpenInterval] {
        if self.closure_on(date).is_some() {
            return &[];
        }
        self.hours.on(date.weekday())
    }

    pub fn is_open_on(&self, date: NaiveDate) -> bool {
        !self.local_hours(date).is_empty()
    }

    /// The open intervals of a local date as instants. An interval bound inside a DST gap moves to
    /// the moment the clocks jump; an ambiguous bound takes the earlier instant.
    pub fn open_intervals(&self, date: NaiveDate) -> Vec<Span> {
        self.local_hours(date)
            .iter()
            .filter_map(|iv| {
                let start = to_instant_or_after_gap(self.tz, date.and_time(iv.start))?;
                let end = to_instant_or_after_gap(self.tz, date.and_time(iv.end))?;
                Span::new(start, end)
            })
            .collect()
    }

    /// Whether the branch is open at this instant (breaks and closures count as closed).
    pub fn is_open_at(&self, instant: DateTime<Utc>) -> bool {
        self.open_intervals(local_date(self.tz, instant))
            .iter()
            .any(|s| s.contains(instant))
    }

    /// The first open date strictly after `after`, within a year.
    pub fn next_open_day(&self, after: NaiveDate) -> Option<NaiveDate> {
        (1..=SEARCH_DAYS)
            .map(|n| after + TimeDelta::days(n))
            .find(|d| self.is_open_on(*d))
    }

    /// First opening and last closing time of an open date.
    pub fn day_span(&self, date: NaiveDate) -> Option<(NaiveTime, NaiveTime)> {
        let hours = self.local_hours(date);
        Some((hours.first()?.start, hours.last()?.end))
    }

    /// Earliest opening and latest closing over the week: the branch's "usual" daytime.
    pub fn usual_span(&self) -> Option<(NaiveTime, NaiveTime)> {
        let all = self.hours.days.iter().flatten();
        let open = all.clone().map(|iv| iv.start).min()?;
        let close = all.map(|iv| iv.end).max()?;
        Some((open, close))
    }

    /// The daytime against which "halb drei" (02:30 or 14:30?) is judged: the date's own span, on a
    /// closed date the usual span (so "Samstag um halb drei" still means 14:30 and the closure is
    /// reported by the alternatives), without any hours 08:00–18:00.
    pub fn plausible_span(&self, date: NaiveDate) -> (NaiveTime, NaiveTime) {
        self.day_span(date).or_else(|| self.usual_span()).unwrap_or(DEFAULT_DAY)
    }

    /// Whether a wall-clock time is within the daytime of that date, closing time included ("um
    /// sechs" at a shop closing at 18:00 means 18:00, even though nothing can start then).
    pub fn is_plausible_time(&self, date: NaiveDate, time: NaiveTime) -> bool {
        let (open, close) = self.plausible_span(date);
        open <= time && time <= close
    }

    /// The hours of `date` as a German sentence, relative to today ("Heute haben wir von 8 bis
    /// 12 Uhr und von 13 bis 18 Uhr geöffnet.", "Am Samstag, dem 5. Dezember, haben wir geschlossen.").
    pub fn hours_sentence(&self, date: NaiveDate, today: NaiveDate) -> String {
        let day = speak::capitalize(&speak::speak_date(date, today));
        let day = if speak::is_relative_day(date, today) {
            day
        } else {
            format!("{day},")
        };
        let hours = self.local_hours(date);
        if hours.is_empty() {
            return match self.closure_on(date).and_then(Closure::reason) {
                Some(reason) => format!("{day} haben wir geschlossen ({reason})."),
                None => format!("{day} haben wir geschlossen."),
            };
        }
        let parts: Vec<String> = hours
            .iter()
            .map(|iv| format!("von {}", speak::speak_range_hours(iv.start, iv.end)))
            .collect();
        format!("{day} haben wir {} geöffnet.", speak::join_with(&parts, "und"))
    }

    /// Today's hours as a German sentence.
    pub fn today_sentence(&self, now: DateTime<Utc>) -> String {
        let today = self.today(now);
        self.hours_sentence(today, today)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    pub(crate) fn iv(s: &str) -> OpenInterval {
        s.parse().unwrap()
    }

    pub(crate) fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Mon–Fri 08:00–12:00 and 13:00–18:00, weekend closed, Christmas and New Year closed.
    pub(crate) fn branch() -> BranchCalendar {
        let mut hours = WeeklyHours::closed();
        for day in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
            hours = hours.with_day(day, vec![iv("08:00-12:00"), iv("13:00-18:00")]).unwrap();
        }
        BranchCalendar {
            tz: Berlin,
            hours,
            closures: vec![
                Closure::day(date("2026-12-24"), Some("Heiligabend")),
                Closure::range(date("2026-12-25"), date("2026-12-26"), None).unwrap(),
                Closure::day(date("2027-01-01"), Some("Neujahr")),
            ],
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn intervals_parse_and_reject_bad_text() {
        assert_eq!(iv("08:00-12:00").to_string(), "08:00-12:00");
        assert_eq!(iv("8:00 – 12:30").to_string(), "08:00-12:30");
        assert!(matches!(
            "12:00-08:00".parse::<OpenInterval>(),
            Err(IntervalError::NotIncreasing { .. })
        ));
        assert!(matches!(
            "8 bis 12".parse::<OpenInterval>(),
            Err(IntervalError::Format(_))
        ));
        assert!(matches!(
            "25:00-26:00".parse::<OpenInterval>(),
            Err(IntervalError::Format(_))
        ));
    }

    #[test]
    fn overlapping_or_unordered_days_are_rejected() {
        let err = WeeklyHours::closed().with_day(Weekday::Mon, vec![iv("08:00-12:00"), iv("11:00-14:00")]);
        assert_eq!(err, Err(DayError::OverlapOrOrder { index: 1 }));
        let unordered = WeeklyHours::closed().with_day(Weekday::Mon, vec![iv("13:00-18:00"), iv("08:00-12:00")]);
        assert!(unordered.is_err());
        assert!(
            WeeklyHours::closed()
                .with_day(Weekday::Mon, vec![iv("08:00-12:00"), iv("12:00-14:00")])
                .is_ok()
        );
    }

    #[test]
    fn open_intervals_are_instants_with_breaks() {
        let cal = branch();
        let spans = cal.open_intervals(date("2026-12-01"));
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].start, utc("2026-12-01T07:00:00Z"));
        assert_eq!(spans[1].end, utc("2026-12-01T17:00:00Z"));
        assert!(cal.is_open_at(utc("2026-12-01T10:00:00Z")));
        assert!(!cal.is_open_at(utc("2026-12-01T11:30:00Z")), "12:30 is the lunch break");
        assert!(!cal.is_open_at(utc("2026-12-01T17:00:00Z")), "18:00 is closing time");
    }

    #[test]
    fn dst_days_keep_wall_clock_hours() {
        let mut cal = branch();
        cal.hours = cal
            .hours
            .clone()
            .with_day(Weekday::Sun, vec![iv("09:00-12:00")])
            .unwrap();
        assert_eq!(
            cal.open_intervals(date("2026-03-29"))[0].start,
            utc("2026-03-29T07:00:00Z")
        );
        assert_eq!(
            cal.open_intervals(date("2026-10-25"))[0].start,
            utc("2026-10-25T08:00:00Z")
        );
    }

    #[test]
    fn closures_and_next_open_day() {
        let cal = branch();
        assert!(!cal.is_open_on(date("2026-12-24")));
        assert!(!cal.is_open_on(date("2026-12-05")), "Saturday");
        assert_eq!(cal.next_open_day(date("2026-12-23")), Some(date("2026-12-28")));
        assert_eq!(cal.next_open_day(date("2026-12-31")), Some(date("2027-01-04")));
        let never = BranchCalendar {
            tz: Berlin,
            hours: WeeklyHours::closed(),
            closures: vec![],
        };
        assert_eq!(never.next_open_day(date("2026-12-01")), None);
    }

    #[test]
    fn sentences() {
        let cal = branch();
        assert_eq!(
            cal.today_sentence(utc("2026-12-01T09:00:00Z")),
            "Heute haben wir von 8 bis 12 Uhr und von 13 bis 18 Uhr geöffnet."
        );
        assert_eq!(
            cal.today_sentence(utc("2026-12-05T09:00:00Z")),
            "Heute haben wir geschlossen."
        );
        assert_eq!(
            cal.hours_sentence(date("2026-12-24"), date("2026-12-01")),
            "Am Donnerstag, dem 24. Dezember, haben wir geschlossen (Heiligabend)."
        );
        let short = BranchCalendar {
            tz: Berlin,
            hours: WeeklyHours::closed()
                .with_day(Weekday::Wed, vec![iv("08:30-12:45")])
                .unwrap(),
            closures: vec![],
        };
        assert_eq!(
            short.hours_sentence(date("2026-12-02"), date("2026-12-01")),
            "Morgen haben wir von 8:30 bis 12:45 Uhr geöffnet."
        );
    }

    #[test]
    fn plausible_times_use_usual_hours_on_closed_days() {
        let cal = branch();
        assert!(cal.is_plausible_time(date("2026-12-05"), hm(14, 30)));
        assert!(!cal.is_plausible_time(date("2026-12-05"), hm(2, 30)));
        assert!(cal.is_plausible_time(date("2026-12-01"), hm(18, 0)));
    }
}
