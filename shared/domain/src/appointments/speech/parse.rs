//! What the caller said, in German, resolved against a fixed `now` and the branch: a [`Wish`]
//! (date plus exact time, window or no time) or a [`Question`] to ask back — never a guess.
//!
//! Input is what the LLM agent sends: an optional date text (`datum`) and time text (`uhrzeit`);
//! either may contain both ("morgen um halb drei" in `datum`, "Dienstag nachmittag" in `uhrzeit`).
//!
//! Decisions:
//! - A weekday name means its next occurrence strictly after today, with or without "am",
//!   "diesen", "nächsten", "kommenden": on a Tuesday, "Dienstag" and "nächsten Dienstag" are both
//!   the Tuesday in 7 days. Callers say "heute" for today; the meaning does not flip with the hour
//!   of the day, and the read-back carries the absolute date so a misunderstanding surfaces at once.
//!   "übernächsten Dienstag" is one week later still.
//! - "Dienstag nächste Woche" / "nächste Woche Dienstag" is the Tuesday of the next ISO week (Monday
//!   start; correct across New Year); "nächste Woche" alone is that Monday with no time.
//! - A date without a year is its next occurrence from today (today included); a past date, or a
//!   time already over today, is a question.
//! - A time without a date means today.
//! - "halb drei", "um vier", "9:30": when the hour could be either half of the day, the branch's
//!   daytime on that date decides (first opening to last closing, closing time included; on a closed
//!   date the usual weekly hours). Exactly one plausible reading wins; both or neither → question.
//!   A part of the day decides first ("nachmittags um drei" = 15:00). "14 Uhr", "08:00" and
//!   "vierzehn Uhr" are fixed.
//! - Parts of the day are windows on the start time: "früh"/"morgens" opening–10:00, "vormittags"
//!   opening–12:00, "mittags" 11:00–14:00 (a window, not 12:00 sharp: lunchtime is a span),
//!   "nachmittags" 12:00–closing, "abends" 17:00–closing. "ab/nach 14 Uhr" = 14:00–closing
//!   (colloquially the same), "vor/bis 11 Uhr" = opening–11:00, "zwischen 10 und 12" = 10:00–12:00.
//!   A window constrains the appointment's start: `from <= start < to`.
//! - "kurz nach drei", "nachts", "Anfang März", negations, and numbers we cannot place → question.
//! - A nonexistent local time (02:30 on 2026-03-29 in Berlin) → question; an ambiguous one
//!   (02:30 on 2026-10-25) is its earlier instant (see [`crate::appointments::calendar::local_time`]).

mod grammar;
mod lexicon;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::appointments::calendar::hours::{BranchCalendar, hm};
use crate::appointments::calendar::local_time::to_instant;
use crate::appointments::speech::speak::{
    month_name, speak_clock, speak_date, speak_day_month, speak_window, weekday_name,
};
use grammar::{Clock, DateRef, TimeRef, WeekSel};
use lexicon::{DayPart, Field, tokenize};

/// End of an open window when the branch closes before it starts ("ab 19 Uhr" at an 18:00 shop);
/// spoken as "ab 19 Uhr".
pub const OPEN_END: NaiveTime = hm(23, 59);

/// When on the wished date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeWish {
    Exact(NaiveTime),
    /// The start should lie in `[from, to)`.
    Window {
        from: NaiveTime,
        to: NaiveTime,
    },
    Unspecified,
}

/// A resolved wish: a local date and what the caller said about the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wish {
    pub date: NaiveDate,
    pub time: TimeWish,
}

/// Why we have to ask back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// Nothing was said.
    MissingDate,
    NotUnderstood,
    /// "Anfang März", "diese Woche", "am Wochenende".
    VagueDay,
    /// "kurz nach drei", "nachts", "später".
    VagueTime,
    InPast,
    /// "halb sieben" at an 08:00–18:00 branch, or two different times.
    AmbiguousTime,
    /// Two different dates ("morgen oder übermorgen").
    AmbiguousDate,
    /// "Montag, den 8. Dezember" when the 8th is a Tuesday.
    WeekdayMismatch,
    /// "30. Februar".
    InvalidDate,
    /// A local time skipped by the DST switch.
    NonexistentTime,
    /// "zwischen 12 und 10".
    EmptyWindow,
}

/// A question for the caller: the reason and one short German sentence the agent can ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub kind: QuestionKind,
    pub text: String,
}

impl Question {
    fn new(kind: QuestionKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: text.into(),
        }
    }
}

/// Resolves the caller's date and time text relative to `now` in the branch's zone.
pub fn parse_wish(
    date_text: Option<&str>,
    time_text: Option<&str>,
    now: DateTime<Utc>,
    calendar: &BranchCalendar,
) -> Result<Wish, Question> {
    let mut tokens = Vec::new();
    tokenize(date_text.unwrap_or_default(), Field::Date, &mut tokens);
    tokenize(time_text.unwrap_or_default(), Field::Time, &mut tokens);
    let phrase = grammar::analyse(&tokens);
    let ctx = Ctx {
        today: calendar.today(now),
        now,
        calendar,
    };

    if phrase.empty {
        return Err(Question::new(
            QuestionKind::MissingDate,
            "An welchem Tag möchten Sie den Termin?",
        ));
    }
    if phrase.not_understood || (phrase.dates.is_empty() && phrase.times.is_empty() && !phrase.vague_day) {
        return Err(not_understood());
    }
    if phrase.vague_day {
        return Err(vague_day());
    }
    if phrase.vague_time {
        return Err(Question::new(
            QuestionKind::VagueTime,
            "Um wie viel Uhr genau möchten Sie kommen?",
        ));
    }
    let date = ctx.resolve_date(&phrase.dates)?;
    if date < ctx.today {
        return Err(Question::new(
            QuestionKind::InPast,
            format!(
                "Der {} liegt in der Vergangenheit. An welchem Tag möchten Sie kommen?",
                speak_day_month(date, ctx.today)
            ),
        ));
    }
    let time = ctx.resolve_time(&phrase.times, date)?;
    ctx.check_reachable(date, time)?;
    Ok(Wish { date, time })
}

fn not_understood() -> Question {
    Question::new(
        QuestionKind::NotUnderstood,
        "Entschuldigung, das habe ich nicht verstanden. An welchem Tag und um wie viel Uhr möchten Sie kommen?",
    )
}

fn vague_day() -> Question {
    Question::new(QuestionKind::VagueDay, "An welchem Tag genau möchten Sie kommen?")
}

struct Ctx<'a> {
    today: NaiveDate,
    now: DateTime<Utc>,
    calendar: &'a BranchCalendar,
}

impl Ctx<'_> {
    fn resolve_date(&self, refs: &[DateRef]) -> Result<NaiveDate, Question> {
        if refs.is_empty() {
            return Ok(self.today); // a bare time means today
        }
        let mut explicit: Vec<NaiveDate> = Vec::new();
        let mut weekdays: Vec<(Weekday, NaiveDate)> = Vec::new();
        for r in refs {
            match *r {
                DateRef::Weekday { day, week } => weekdays.push((day, self.weekday_date(day, week))),
                DateRef::WeekStart(0) => return Err(vague_day()),
                _ => explicit.push(self.explicit_date(r)?),
            }
        }
        explicit.sort();
        explicit.dedup();
        if let [first, second, ..] = explicit[..] {
            return Err(self.ambiguous_dates(first, second));
        }
        if let Some(&date) = explicit.first() {
            // A weekday said together with a date is a check, not a second date.
            if let Some(&(day, _)) = weekdays.iter().find(|(day, _)| *day != date.weekday()) {
                return Err(self.weekday_mismatch(date, day));
            }
            return Ok(date);
        }
        let mut dates: Vec<NaiveDate> = weekdays.iter().map(|(_, d)| *d).collect();
        dates.sort();
        dates.dedup();
        match dates[..] {
            [first, second, ..] => Err(self.ambiguous_dates(first, second)),
            [date] => Ok(date),
            [] => Err(not_understood()),
        }
    }

    fn weekday_date(&self, day: Weekday, week: WeekSel) -> NaiveDate {
        let ahead = |from: NaiveDate| {
            let d = (7 + day.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
            if d == 0 { 7 } else { i64::from(d) }
        };
        match week {
            WeekSel::Next => self.today + TimeDelta::days(ahead(self.today)),
            WeekSel::NextPlus(n) => self.today + TimeDelta::days(ahead(self.today) + 7 * n),
            WeekSel::OfWeek(n) => {
                let monday = self.today - TimeDelta::days(i64::from(self.today.weekday().num_days_from_monday()));
                monday + TimeDelta::days(7 * n + i64::from(day.num_days_from_monday()))
            }
        }
    }

    fn explicit_date(&self, r: &DateRef) -> Result<NaiveDate, Question> {
        let today = self.today;
        match *r {
            DateRef::Relative(days) => Ok(today + TimeDelta::days(days)),
            DateRef::WeekStart(weeks) => {
                let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
                Ok(monday + TimeDelta::days(7 * weeks))
            }
            DateRef::DayMonth {
                day,
                month,
                year: Some(year),
            } => NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| invalid_date(day, month, Some(year))),
            DateRef::DayMonth { day, month, year: None } => (today.year()..=today.year() + 1)
                .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
                .find(|d| *d >= today)
                .ok_or_else(|| invalid_date(day, month, None)),
            DateRef::DayOnly(day) => (0..12)
                .filter_map(|k| today.with_day(1)?.checked_add_months(Months::new(k))?.with_day(day))
                .find(|d| *d >= today)
                .ok_or_else(|| invalid_date(day, today.month(), None)),
            DateRef::Weekday { day, week } => Ok(self.weekday_date(day, week)),
        }
    }

    fn ambiguous_dates(&self, a: NaiveDate, b: NaiveDate) -> Question {
        Question::new(
            QuestionKind::AmbiguousDate,
            format!("Meinen Sie {}, oder {}?", self.accusative(a), self.accusative(b)),
        )
    }

    /// "Dienstag, den 8. Dezember".
    fn accusative(&self, date: NaiveDate) -> String {
        format!(
            "{}, den {}",
            weekday_name(date.weekday()),
            speak_day_month(date, self.today)
        )
    }

    fn weekday_mismatch(&self, date: NaiveDate, said: Weekday) -> Question {
        let real = weekday_name(date.weekday());
        // The date with the weekday the caller said, nearest to the date they said.
        let offset = (7 + said.num_days_from_monday() - date.weekday().num_days_from_monday()) % 7;
        let offset = if offset > 3 {
            i64::from(offset) - 7
        } else {
            i64::from(offset)
        };
        let other = date + TimeDelta::days(offset);
        let day = speak_day_month(date, self.today);
        let text = if other >= self.today {
            format!(
                "Der {day} ist ein {real}. Meinen Sie {}, oder {}?",
                self.accusative(date),
                self.accusative(other)
            )
        } else {
            format!("Der {day} ist ein {real}. Welchen Tag meinen Sie?")
        };
        Question::new(QuestionKind::WeekdayMismatch, text)
    }

    fn resolve_time(&self, refs: &[TimeRef], date: NaiveDate) -> Result<TimeWish, Question> {
        let mut parts: Vec<DayPart> = Vec::new();
        for r in refs {
            if let TimeRef::Part(p) = r
                && !parts.contains(p)
            {
                parts.push(*p);
            }
        }
        if parts.len() > 1 {
            return Err(Question::new(
                QuestionKind::AmbiguousTime,
                "Zu welcher Tageszeit möchten Sie kommen?",
            ));
        }
        let hint = parts.first().copied();
        let mut exact: Vec<NaiveTime> = Vec::new();
        for r in refs {
            if let TimeRef::At(c) = r {
                let t = self.resolve_clock(*c, hint, date)?;
                if !exact.contains(&t) {
                    exact.push(t);
                }
            }
        }
        match exact[..] {
            [a, b, ..] => {
                return Err(Question::new(
                    QuestionKind::AmbiguousTime,
                    format!(
                        "Welche Uhrzeit ist Ihnen lieber: {} oder {}?",
                        speak_clock(a),
                        speak_clock(b)
                    ),
                ));
            }
            [t] => return Ok(TimeWish::Exact(t)),
            [] => {}
        }
        let (mut from, mut to): (Option<NaiveTime>, Option<NaiveTime>) = (None, None);
        for r in refs {
            let (f, t) = match *r {
                TimeRef::From(c) => (Some(self.resolve_clock(c, hint, date)?), None),
                TimeRef::Until(c) => (None, Some(self.resolve_clock(c, hint, date)?)),
                TimeRef::Between(a, b) => (
                    Some(self.resolve_clock(a, hint, date)?),
                    Some(self.resolve_clock(b, hint, date)?),
                ),
                _ => (None, None),
            };
            from = from.max(f);
            to = match (to, t) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if from.is_some() || to.is_some() {
            let (open, close) = self.calendar.plausible_span(date);
            let from = from.unwrap_or(if to.is_some_and(|t| open < t) {
                open
            } else {
                NaiveTime::MIN
            });
            let to = to.unwrap_or(if close > from { close } else { OPEN_END });
            if from >= to {
                return Err(Question::new(
                    QuestionKind::EmptyWindow,
                    "Von wann bis wann hätten Sie Zeit?",
                ));
            }
            return Ok(TimeWish::Window { from, to });
        }
        Ok(match hint {
            Some(part) => {
                let (from, to) = self.part_window(part, date);
                TimeWish::Window { from, to }
            }
            None => TimeWish::Unspecified,
        })
    }

    /// Chooses the half of the day for a 12-hour clock reading.
    fn resolve_clock(&self, c: Clock, hint: Option<DayPart>, date: NaiveDate) -> Result<NaiveTime, Question> {
        let make = |h: u32| NaiveTime::from_hms_opt(h, c.minute, 0).ok_or_else(not_understood);
        if c.fixed {
            return make(c.hour);
        }
        let (am, pm) = (make(c.hour)?, make(c.hour + 12)?);
        let noon_or_am = |t: NaiveTime| if c.hour == 0 { pm } else { t };
        match hint {
            Some(DayPart::Early | DayPart::Morning) => Ok(noon_or_am(am)),
            Some(DayPart::Afternoon | DayPart::Evening) => Ok(pm),
            Some(DayPart::Noon) => Ok(if c.hour <= 5 { pm } else { am }),
            None => match (
                self.calendar.is_plausible_time(date, am),
                self.calendar.is_plausible_time(date, pm),
            ) {
                (true, false) => Ok(am),
                (false, true) => Ok(pm),
                _ => Err(Question::new(
                    QuestionKind::AmbiguousTime,
                    format!(
                        "Meinen Sie {} {} oder {} {}?",
                        speak_clock(am),
                        label(am),
                        speak_clock(pm),
                        label(pm)
                    ),
                )),
            },
        }
    }

    fn part_window(&self, part: DayPart, date: NaiveDate) -> (NaiveTime, NaiveTime) {
        let (open, close) = self.calendar.plausible_span(date);
        let (from, to, fallback) = match part {
            DayPart::Early => (open, hm(10, 0), (hm(6, 0), hm(10, 0))),
            DayPart::Morning => (open, hm(12, 0), (hm(6, 0), hm(12, 0))),
            DayPart::Noon => (hm(11, 0), hm(14, 0), (hm(11, 0), hm(14, 0))),
            DayPart::Afternoon => (hm(12, 0), close, (hm(12, 0), hm(18, 0))),
            DayPart::Evening => (hm(17, 0), close, (hm(17, 0), hm(21, 0))),
        };
        // A branch not open in that part of the day: keep the plain meaning, the search reports it.
        if from < to { (from, to) } else { fallback }
    }

    /// The time must exist on that date and must not be over already.
    fn check_reachable(&self, date: NaiveDate, time: TimeWish) -> Result<(), Question> {
        let tz = self.calendar.tz;
        let (last, spoken) = match time {
            TimeWish::Exact(t) => {
                let Some(at) = to_instant(tz, date.and_time(t)) else {
                    return Err(Question::new(
                        QuestionKind::NonexistentTime,
                        format!(
                            "Wegen der Zeitumstellung gibt es am {} die Uhrzeit {} nicht. \
                             Welche Uhrzeit möchten Sie stattdessen?",
                            speak_day_month(date, self.today),
                            speak_clock(t)
                        ),
                    ));
                };
                (at, format!("um {}", speak_clock(t)))
            }
            TimeWish::Window { from, to } => match to_instant(tz, date.and_time(to)) {
                Some(at) => (at, speak_window(from, to)),
                None => return Ok(()),
            },
            TimeWish::Unspecified => return Ok(()),
        };
        if last <= self.now {
            let day = crate::appointments::speech::speak::capitalize(&speak_date(date, self.today));
            return Err(Question::new(
                QuestionKind::InPast,
                format!("{day} {spoken} ist leider schon vorbei. Welche Uhrzeit passt Ihnen stattdessen?"),
            ));
        }
        Ok(())
    }
}

fn invalid_date(day: u32, month: u32, year: Option<i32>) -> Question {
    let year = year.map(|y| format!(" {y}")).unwrap_or_default();
    Question::new(
        QuestionKind::InvalidDate,
        format!(
            "Den {day}. {}{year} gibt es nicht. Welches Datum meinen Sie?",
            month_name(month)
        ),
    )
}

/// "nachts", "morgens", … for "Meinen Sie 7 Uhr morgens oder 19 Uhr abends?".
fn label(t: NaiveTime) -> &'static str {
    match t.hour() {
        0..=4 => "nachts",
        5..=10 => "morgens",
        11 => "vormittags",
        12 => "mittags",
        13..=17 => "nachmittags",
        _ => "abends",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::calendar::hours::tests::{branch, date};

    // Tuesday 2026-12-01 10:00 in Berlin.
    fn now() -> DateTime<Utc> {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn parse_s(d: &str, t: &str) -> Result<Wish, Question> {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        parse_wish(opt(d).as_deref(), opt(t).as_deref(), now(), &branch())
    }

    #[test]
    fn morgen_nachmittag_is_tomorrow_afternoon() {
        let w = parse_s("morgen nachmittag", "").unwrap();
        assert_eq!(
            w,
            Wish {
                date: date("2026-12-02"),
                time: TimeWish::Window {
                    from: hm(12, 0),
                    to: hm(18, 0)
                }
            }
        );
        let w = parse_s("morgen", "ab 14 Uhr").unwrap();
        assert_eq!(
            w.time,
            TimeWish::Window {
                from: hm(14, 0),
                to: hm(18, 0)
            }
        );
    }

    #[test]
    fn halb_drei_by_opening_hours() {
        assert_eq!(
            parse_s("morgen um halb drei", "").unwrap().time,
            TimeWish::Exact(hm(14, 30))
        );
        assert_eq!(
            parse_s("morgen", "um halb neun").unwrap().time,
            TimeWish::Exact(hm(8, 30))
        );
        let q = parse_s("morgen", "um halb sieben").unwrap_err();
        assert_eq!(q.kind, QuestionKind::AmbiguousTime);
        assert_eq!(q.text, "Meinen Sie 6:30 Uhr morgens oder 18:30 Uhr abends?");
        assert_eq!(
            parse_s("morgen", "abends um halb sieben").unwrap().time,
            TimeWish::Exact(hm(18, 30))
        );
    }

    #[test]
    fn weekday_today_means_next_week() {
        assert_eq!(parse_s("Dienstag", "").unwrap().date, date("2026-12-08"));
        assert_eq!(parse_s("diesen Dienstag", "").unwrap().date, date("2026-12-08"));
        assert_eq!(parse_s("heute", "").unwrap().date, date("2026-12-01"));
        assert_eq!(parse_s("übernächsten Dienstag", "").unwrap().date, date("2026-12-15"));
    }

    #[test]
    fn past_and_invalid_are_questions() {
        assert_eq!(parse_s("heute", "9 Uhr").unwrap_err().kind, QuestionKind::InPast);
        assert_eq!(
            parse_s("heute", "9 Uhr").unwrap_err().text,
            "Heute um 9 Uhr ist leider schon vorbei. Welche Uhrzeit passt Ihnen stattdessen?"
        );
        assert_eq!(parse_s("gestern", "").unwrap_err().kind, QuestionKind::InPast);
        assert_eq!(parse_s("30. Februar", "").unwrap_err().kind, QuestionKind::InvalidDate);
        assert_eq!(parse_s("", "").unwrap_err().kind, QuestionKind::MissingDate);
        assert_eq!(parse_s("blabla", "").unwrap_err().kind, QuestionKind::NotUnderstood);
    }

    #[test]
    fn naechsten_on_the_day_before_is_tomorrow() {
        // Monday 2026-11-30: "nächsten Dienstag" is the next occurrence, i.e. tomorrow.
        let monday: DateTime<Utc> = "2026-11-30T09:00:00Z".parse().unwrap();
        let w = parse_wish(Some("nächsten Dienstag"), None, monday, &branch()).unwrap();
        assert_eq!(w.date, date("2026-12-01"));
        let w = parse_wish(Some("Dienstag nächste Woche"), None, monday, &branch()).unwrap();
        assert_eq!(w.date, date("2026-12-08"));
    }

    #[test]
    fn odd_input_never_panics() {
        let inputs = [
            "",
            " ",
            ".",
            "..",
            ":",
            "-",
            "--",
            "99:99",
            "32.13.",
            "0.0.",
            "12.",
            "halb",
            "viertel",
            "viertel nach",
            "um",
            "zwischen",
            "zwischen 10",
            "ab",
            "bis",
            "25 Uhr",
            "24 Uhr",
            "vierundzwanzig Uhr",
            "0 Uhr",
            "2026-02-30",
            "0000-01-01",
            "9999-12-31",
            "in 99 Tagen",
            "in Tagen",
            "halb null",
            "fünf vor halb",
            "am 31.",
            "am 0.",
            "31.4.",
            "29.2.",
            "12.03.99999",
            "14:3",
            "1:030",
            "h",
            "14h",
            "h30",
            "Jänner",
            "nächste",
            "übernächste Woche am",
            "Di",
            "so",
            "mitternacht",
            "kurz",
            "kurz vor",
            "🙂 morgen",
            "ÜBERMORGEN UM VIERTEL VOR ZWÖLF",
            "morgen morgen morgen",
            "10-12-14",
            "2026-12-01-02",
        ];
        for a in inputs {
            for b in inputs {
                let _ = parse_wish(Some(a), Some(b), now(), &branch());
            }
        }
        assert_eq!(
            parse_s("zwischen 10", "").unwrap_err().kind,
            QuestionKind::NotUnderstood
        );
        assert_eq!(
            parse_s("morgen", "24 Uhr").unwrap_err().kind,
            QuestionKind::NotUnderstood
        );
    }
}
