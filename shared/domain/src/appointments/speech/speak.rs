//! The way back: dates and times as a person says them on the phone.
//!
//! Style (decided once, used everywhere):
//! - days relative to today: "heute", "morgen", "übermorgen", otherwise "am Dienstag, dem
//!   8. Dezember"; the year only when it is not the current one ("am Dienstag, dem 5. Januar 2027");
//! - full hours as digits in 24-hour form, "14 Uhr"; odd minutes "14:10 Uhr" (a TTS voice says
//!   "vierzehn Uhr zehn");
//! - quarter and half hours in the natural 12-hour form: "halb drei", "Viertel nach zwei",
//!   "Viertel vor drei" — never "halb fünfzehn" or "Viertel nach vierzehn";
//! - the natural form is ambiguous (02:30 or 14:30), so [`speak_time_at`] uses it only when the
//!   other reading lies outside the branch's daytime on that date, and a confirmation always adds
//!   the absolute date and the 24-hour time: "am Dienstag, dem 8. Dezember, um halb drei (14:30 Uhr)".

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, Timelike, Weekday};

use crate::appointments::calendar::hours::BranchCalendar;
use crate::appointments::speech::parse::{OPEN_END, TimeWish, Wish};

const HOUR_WORDS: [&str; 12] = [
    "zwölf", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun", "zehn", "elf",
];

/// The German name of a weekday.
pub fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "Montag",
        Weekday::Tue => "Dienstag",
        Weekday::Wed => "Mittwoch",
        Weekday::Thu => "Donnerstag",
        Weekday::Fri => "Freitag",
        Weekday::Sat => "Samstag",
        Weekday::Sun => "Sonntag",
    }
}

/// The German name of a month (1–12).
pub fn month_name(month: u32) -> &'static str {
    crate::locale::MONTHS_DE[(month.clamp(1, 12) - 1) as usize]
}

/// Whether `date` is spoken relative to today ("heute", "morgen", "übermorgen").
pub fn is_relative_day(date: NaiveDate, today: NaiveDate) -> bool {
    (0..=2).contains(&(date - today).num_days())
}

/// "8. Dezember", with the year when it differs from today's ("5. Januar 2027").
pub fn speak_day_month(date: NaiveDate, today: NaiveDate) -> String {
    let base = format!("{}. {}", date.day(), month_name(date.month()));
    if date.year() == today.year() {
        base
    } else {
        format!("{base} {}", date.year())
    }
}

/// "am Dienstag, dem 8. Dezember" — never relative.
pub fn speak_date_absolute(date: NaiveDate, today: NaiveDate) -> String {
    format!(
        "am {}, dem {}",
        weekday_name(date.weekday()),
        speak_day_month(date, today)
    )
}

/// "heute", "morgen", "übermorgen", else the absolute form.
pub fn speak_date(date: NaiveDate, today: NaiveDate) -> String {
    match (date - today).num_days() {
        0 => "heute".to_string(),
        1 => "morgen".to_string(),
        2 => "übermorgen".to_string(),
        _ => speak_date_absolute(date, today),
    }
}

/// For confirmations: the relative word plus the absolute date ("morgen, am Mittwoch, dem
/// 2. Dezember"), or the absolute date alone.
pub fn speak_date_confirm(date: NaiveDate, today: NaiveDate) -> String {
    if is_relative_day(date, today) {
        format!("{}, {}", speak_date(date, today), speak_date_absolute(date, today))
    } else {
        speak_date_absolute(date, today)
    }
}

/// The 24-hour clock form: "14 Uhr", "14:10 Uhr", "9:30 Uhr".
pub fn speak_clock(time: NaiveTime) -> String {
    format!("{} Uhr", clock_number(time))
}

/// "14" or "14:10" (no "Uhr"), for ranges.
fn clock_number(time: NaiveTime) -> String {
    match time.minute() {
        0 => format!("{}", time.hour()),
        m => format!("{}:{m:02}", time.hour()),
    }
}

/// "von 8 bis 12 Uhr", without the "von": "8 bis 12 Uhr".
pub fn speak_range_hours(from: NaiveTime, to: NaiveTime) -> String {
    format!("{} bis {} Uhr", clock_number(from), clock_number(to))
}

/// "zwischen 12 und 18 Uhr"; open-ended windows as "ab 19 Uhr" / "bis 7 Uhr".
pub fn speak_window(from: NaiveTime, to: NaiveTime) -> String {
    if to == OPEN_END {
        format!("ab {} Uhr", clock_number(from))
    } else if from == NaiveTime::MIN {
        format!("bis {} Uhr", clock_number(to))
    } else {
        format!("zwischen {} und {} Uhr", clock_number(from), clock_number(to))
    }
}

/// The 12-hour word of the hour `h` (0–23): 14 → "zwei", 0 and 12 → "zwölf", 13 → "eins".
fn hour_word(hour: u32) -> &'static str {
    HOUR_WORDS[(hour % 12) as usize]
}

/// The natural spoken form without context: "14 Uhr", "halb drei", "Viertel nach zwei",
/// "Viertel vor drei", "14:10 Uhr". The quarter forms are 12-hour and therefore ambiguous; prefer
/// [`speak_time_at`] when the date and branch are known.
pub fn speak_time(time: NaiveTime) -> String {
    match time.minute() {
        15 => format!("Viertel nach {}", hour_word(time.hour())),
        30 => format!("halb {}", hour_word(time.hour() + 1)),
        45 => format!("Viertel vor {}", hour_word(time.hour() + 1)),
        _ => speak_clock(time),
    }
}

/// Whether the natural form names this time only: the other 12-hour reading (02:30 for 14:30) is
/// outside the branch's daytime on that date while this one is inside.
pub fn natural_form_is_unambiguous(time: NaiveTime, date: NaiveDate, calendar: &BranchCalendar) -> bool {
    let twin = time + TimeDelta::hours(12); // NaiveTime wraps at midnight: the other reading
    calendar.is_plausible_time(date, time) && !calendar.is_plausible_time(date, twin)
}

/// The natural form when it is unambiguous for this branch and date, else the clock form.
pub fn speak_time_at(time: NaiveTime, date: NaiveDate, calendar: &BranchCalendar) -> String {
    if natural_form_is_unambiguous(time, date, calendar) {
        speak_time(time)
    } else {
        speak_clock(time)
    }
}

/// An offer as the agent reads it: "morgen um halb drei", "am Donnerstag, dem 10. Dezember, um 14 Uhr".
pub fn speak_offer(date: NaiveDate, time: NaiveTime, today: NaiveDate, calendar: &BranchCalendar) -> String {
    let day = speak_date(date, today);
    let sep = if is_relative_day(date, today) { " " } else { ", " };
    format!("{day}{sep}um {}", speak_time_at(time, date, calendar))
}

/// A confirmation with the absolute date and, after a natural form, the clock time:
/// "morgen, am Mittwoch, dem 2. Dezember, um halb drei (14:30 Uhr)".
pub fn speak_confirmation(date: NaiveDate, time: NaiveTime, today: NaiveDate, calendar: &BranchCalendar) -> String {
    format!(
        "{}, um {}",
        speak_date_confirm(date, today),
        speak_time_with_clock(time, date, calendar)
    )
}

/// Where an appointment moves to, in the accusative "verschieben auf …" needs: "auf Freitag, den
/// 4. Dezember, um 10 Uhr", "auf morgen, Mittwoch, den 2. Dezember, um halb drei (14:30 Uhr)".
pub fn speak_move_target(date: NaiveDate, time: NaiveTime, today: NaiveDate, calendar: &BranchCalendar) -> String {
    let absolute = format!("{}, den {}", weekday_name(date.weekday()), speak_day_month(date, today));
    let day = if is_relative_day(date, today) {
        format!("{}, {absolute}", speak_date(date, today))
    } else {
        absolute
    };
    format!("auf {day}, um {}", speak_time_with_clock(time, date, calendar))
}

/// "halb drei (14:30 Uhr)" when the natural form is used, else just "14 Uhr" / "14:10 Uhr".
pub fn speak_time_with_clock(time: NaiveTime, date: NaiveDate, calendar: &BranchCalendar) -> String {
    let natural = speak_time_at(time, date, calendar);
    let clock = speak_clock(time);
    if natural == clock {
        clock
    } else {
        format!("{natural} ({clock})")
    }
}

/// A parsed wish read back for confirmation: "am Montag, dem 7. Dezember", "morgen, am Mittwoch,
/// dem 2. Dezember, zwischen 12 und 18 Uhr", or the confirmation form for an exact time.
pub fn speak_wish(wish: &Wish, today: NaiveDate, calendar: &BranchCalendar) -> String {
    match wish.time {
        TimeWish::Exact(t) => speak_confirmation(wish.date, t, today, calendar),
        TimeWish::Window { from, to } => {
            format!("{}, {}", speak_date_confirm(wish.date, today), speak_window(from, to))
        }
        TimeWish::Unspecified => speak_date_confirm(wish.date, today),
    }
}

/// "A", "A oder B", "A, B oder C".
pub fn join_oder(items: &[String]) -> String {
    join_with(items, "oder")
}

/// Joins with commas and the conjunction before the last item.
pub fn join_with(items: &[String], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {conjunction} {last}", init.join(", ")),
    }
}

/// Upper-cases the first letter (sentence start).
pub fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::calendar::hours::hm;
    use crate::appointments::calendar::hours::tests::{branch, date};

    #[test]
    fn relative_and_absolute_days() {
        let today = date("2026-12-01");
        assert_eq!(speak_date(date("2026-12-01"), today), "heute");
        assert_eq!(speak_date(date("2026-12-02"), today), "morgen");
        assert_eq!(speak_date(date("2026-12-03"), today), "übermorgen");
        assert_eq!(speak_date(date("2026-12-08"), today), "am Dienstag, dem 8. Dezember");
        assert_eq!(speak_date(date("2027-01-05"), today), "am Dienstag, dem 5. Januar 2027");
        assert_eq!(speak_date(date("2026-11-30"), today), "am Montag, dem 30. November");
        assert_eq!(
            speak_date_confirm(date("2026-12-02"), today),
            "morgen, am Mittwoch, dem 2. Dezember"
        );
    }

    #[test]
    fn natural_times_use_twelve_hour_words() {
        assert_eq!(speak_time(hm(14, 0)), "14 Uhr");
        assert_eq!(speak_time(hm(14, 30)), "halb drei");
        assert_eq!(speak_time(hm(14, 15)), "Viertel nach zwei");
        assert_eq!(speak_time(hm(14, 45)), "Viertel vor drei");
        assert_eq!(speak_time(hm(14, 10)), "14:10 Uhr");
        assert_eq!(speak_time(hm(12, 30)), "halb eins");
        assert_eq!(speak_time(hm(12, 15)), "Viertel nach zwölf");
        assert_eq!(speak_time(hm(13, 15)), "Viertel nach eins");
        assert_eq!(speak_time(hm(11, 45)), "Viertel vor zwölf");
        assert_eq!(speak_time(hm(8, 30)), "halb neun");
        assert_eq!(speak_time(hm(9, 5)), "9:05 Uhr");
        for h in 0..24 {
            for m in [15, 30, 45] {
                let spoken = speak_time(hm(h, m));
                for bad in [
                    "dreizehn",
                    "vierzehn",
                    "fünfzehn",
                    "sechzehn",
                    "siebzehn",
                    "achtzehn",
                    "null",
                ] {
                    assert!(!spoken.contains(bad), "{h}:{m} spoken as {spoken}");
                }
            }
        }
    }

    #[test]
    fn natural_form_only_when_unambiguous_for_the_branch() {
        let cal = branch();
        let tue = date("2026-12-01");
        assert_eq!(speak_time_at(hm(14, 30), tue, &cal), "halb drei");
        assert_eq!(speak_time_at(hm(8, 30), tue, &cal), "halb neun");
        // 19:30 is outside the daytime, so "halb acht" could be either reading.
        assert_eq!(speak_time_at(hm(19, 30), tue, &cal), "19:30 Uhr");
        assert_eq!(speak_time_at(hm(2, 30), tue, &cal), "2:30 Uhr");
    }

    #[test]
    fn confirmations_carry_the_absolute_date() {
        let cal = branch();
        let today = date("2026-12-01");
        assert_eq!(
            speak_confirmation(date("2026-12-08"), hm(14, 30), today, &cal),
            "am Dienstag, dem 8. Dezember, um halb drei (14:30 Uhr)"
        );
        assert_eq!(
            speak_confirmation(date("2026-12-02"), hm(14, 0), today, &cal),
            "morgen, am Mittwoch, dem 2. Dezember, um 14 Uhr"
        );
        assert_eq!(
            speak_offer(date("2026-12-02"), hm(14, 30), today, &cal),
            "morgen um halb drei"
        );
        assert_eq!(
            speak_offer(date("2026-12-10"), hm(14, 0), today, &cal),
            "am Donnerstag, dem 10. Dezember, um 14 Uhr"
        );
    }

    #[test]
    fn move_targets_in_the_accusative() {
        let cal = branch();
        let today = date("2026-12-01");
        assert_eq!(
            speak_move_target(date("2026-12-04"), hm(10, 0), today, &cal),
            "auf Freitag, den 4. Dezember, um 10 Uhr"
        );
        assert_eq!(
            speak_move_target(date("2026-12-02"), hm(14, 30), today, &cal),
            "auf morgen, Mittwoch, den 2. Dezember, um halb drei (14:30 Uhr)"
        );
    }

    #[test]
    fn joining_offers() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join_oder(&s(&[])), "");
        assert_eq!(join_oder(&s(&["heute um 9 Uhr"])), "heute um 9 Uhr");
        assert_eq!(join_oder(&s(&["a", "b"])), "a oder b");
        assert_eq!(join_oder(&s(&["a", "b", "c"])), "a, b oder c");
    }

    #[test]
    fn windows() {
        assert_eq!(speak_window(hm(12, 0), hm(18, 0)), "zwischen 12 und 18 Uhr");
        assert_eq!(speak_window(hm(8, 30), hm(12, 0)), "zwischen 8:30 und 12 Uhr");
        assert_eq!(speak_window(hm(19, 0), OPEN_END), "ab 19 Uhr");
        assert_eq!(speak_window(NaiveTime::MIN, hm(7, 0)), "bis 7 Uhr");
    }
}
