//! "Problem since": resolves what a caller says ("seit heute früh", "seit zwei Stunden",
//! "seit Montag", "seit 10 Uhr") to an absolute time in the company's time zone.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::text::normalize;

/// Resolves `phrase` relative to `now`; `None` when the phrase is not understood.
pub fn resolve(phrase: &str, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let text = normalize(phrase);
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return None;
    }
    relative_amount(&words, now)
        .or_else(|| clock_time(&words, now, tz))
        .or_else(|| day_reference(&words, now, tz))
}

/// "seit 2 Stunden", "seit einer halben Stunde", "3 days ago".
fn relative_amount(words: &[&str], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    for (i, w) in words.iter().enumerate() {
        let Some(unit) = unit_duration(w) else {
            continue;
        };
        let before = &words[..i];
        let amount = match before {
            [.., "halben"] | [.., "halbe"] => 0.5,
            [.., a, "halb"] => number_word(a)? + 0.5,
            [.., a] => number_word(a).unwrap_or(1.0),
            [] => 1.0,
        };
        // A caller's "seit 96486068 Wochen" (or a float like 1e300) is no time; never overflow.
        let secs = unit.num_seconds() as f64 * amount;
        if !secs.is_finite() || !(0.0..=MAX_AGO_SECONDS).contains(&secs) {
            return None;
        }
        return Duration::try_seconds(secs.round() as i64).and_then(|d| now.checked_sub_signed(d));
    }
    None
}

/// "Problem since" further back than this (ten years) is not taken as a time.
const MAX_AGO_SECONDS: f64 = 10.0 * 366.0 * 86_400.0;

fn unit_duration(word: &str) -> Option<Duration> {
    Some(match word {
        "minute" | "minuten" | "min" | "minutes" => Duration::minutes(1),
        "stunde" | "stunden" | "std" | "hour" | "hours" => Duration::hours(1),
        "tag" | "tagen" | "tage" | "day" | "days" => Duration::days(1),
        "woche" | "wochen" | "week" | "weeks" => Duration::weeks(1),
        _ => return None,
    })
}

fn number_word(word: &str) -> Option<f64> {
    if let Ok(n) = word.parse::<f64>() {
        return Some(n);
    }
    Some(match word {
        "ein" | "eine" | "einer" | "einem" | "einen" | "a" | "an" | "one" => 1.0,
        "zwei" | "two" => 2.0,
        "drei" | "three" => 3.0,
        "vier" | "four" => 4.0,
        "fuenf" | "five" => 5.0,
        "sechs" | "six" => 6.0,
        "sieben" | "seven" => 7.0,
        "acht" | "eight" => 8.0,
        "neun" | "nine" => 9.0,
        "zehn" | "ten" => 10.0,
        "elf" => 11.0,
        "zwoelf" => 12.0,
        "paar" | "couple" => 2.0,
        _ => return None,
    })
}

/// "seit 10 Uhr", "seit 9:30" (normalised to "9 30"). A time later than now means yesterday.
fn clock_time(words: &[&str], now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let uhr = words.iter().position(|w| *w == "uhr" || *w == "oclock");
    let (hour, minute) = match uhr {
        Some(i) if i >= 1 => {
            let h = words[i - 1].parse::<u32>().ok()?;
            let m = words.get(i + 1).and_then(|w| w.parse::<u32>().ok()).unwrap_or(0);
            (h, m)
        }
        _ => {
            let i = words.iter().position(|w| w.parse::<u32>().is_ok())?;
            let h = words[i].parse::<u32>().ok()?;
            let m = words.get(i + 1)?.parse::<u32>().ok()?;
            (h, m)
        }
    };
    let time = NaiveTime::from_hms_opt(hour, minute, 0)?;
    let local_now = now.with_timezone(&tz);
    let day_offset = day_offset(words).unwrap_or(0);
    let mut date = local_now.date_naive() - Duration::days(day_offset);
    let mut at = to_utc(tz, date.and_time(time))?;
    if at > now {
        date -= Duration::days(1);
        at = to_utc(tz, date.and_time(time))?;
    }
    Some(at)
}

/// "heute früh", "gestern Abend", "vorgestern", "seit Montag", "letzte Woche", "Wochenende".
fn day_reference(words: &[&str], now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let local_now = now.with_timezone(&tz);
    let today = local_now.date_naive();
    let part = part_of_day(words);
    if let Some(offset) = day_offset(words) {
        let date = today - Duration::days(offset);
        let at = to_utc(tz, date.and_time(part.unwrap_or(NaiveTime::MIN)))?;
        return Some(at.min(now));
    }
    if let Some(wd) = words.iter().find_map(|w| weekday(w)) {
        let back = (today.weekday().num_days_from_monday() + 7 - wd.num_days_from_monday()) % 7;
        let back = if back == 0 { 7 } else { back };
        let date = today - Duration::days(back as i64);
        return to_utc(tz, date.and_time(part.unwrap_or(NaiveTime::MIN)));
    }
    if words.contains(&"wochenende") || words.contains(&"weekend") {
        let back = (today.weekday().num_days_from_monday() + 7 - Weekday::Sat.num_days_from_monday()) % 7;
        let back = if back == 0 { 7 } else { back };
        return to_utc(tz, (today - Duration::days(back as i64)).and_time(NaiveTime::MIN));
    }
    if words.iter().any(|w| *w == "letzter" || *w == "letzte" || *w == "last") && words.contains(&"woche") {
        return Some(now - Duration::weeks(1));
    }
    // "seit heute früh" without "heute": a bare part of the day means today.
    part.and_then(|t| to_utc(tz, today.and_time(t))).map(|at| at.min(now))
}

fn day_offset(words: &[&str]) -> Option<i64> {
    words.iter().find_map(|w| match *w {
        "heute" | "today" | "heut" => Some(0),
        "gestern" | "yesterday" => Some(1),
        "vorgestern" => Some(2),
        _ => None,
    })
}

fn part_of_day(words: &[&str]) -> Option<NaiveTime> {
    words.iter().find_map(|w| {
        let h = match *w {
            "frueh" | "morgen" | "morgens" | "morning" => 8,
            "vormittag" | "vormittags" => 9,
            "mittag" | "mittags" | "noon" => 12,
            "nachmittag" | "nachmittags" | "afternoon" => 14,
            "abend" | "abends" | "evening" => 18,
            "nacht" | "nachts" | "night" => 22,
            _ => return None,
        };
        NaiveTime::from_hms_opt(h, 0, 0)
    })
}

fn weekday(word: &str) -> Option<Weekday> {
    Some(match word {
        "montag" | "monday" => Weekday::Mon,
        "dienstag" | "tuesday" => Weekday::Tue,
        "mittwoch" | "wednesday" => Weekday::Wed,
        "donnerstag" | "thursday" => Weekday::Thu,
        "freitag" | "friday" => Weekday::Fri,
        "samstag" | "sonnabend" | "saturday" => Weekday::Sat,
        "sonntag" | "sunday" => Weekday::Sun,
        _ => return None,
    })
}

fn to_utc(tz: Tz, local: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&local).earliest().map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    // Wednesday 2026-11-18 14:00 in Berlin (13:00 UTC).
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 18, 13, 0, 0).unwrap()
    }

    fn berlin(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Berlin
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn parts_of_the_day() {
        assert_eq!(resolve("seit heute früh", now(), Berlin), Some(berlin(18, 8, 0)));
        assert_eq!(resolve("Seit gestern Abend", now(), Berlin), Some(berlin(17, 18, 0)));
        assert_eq!(resolve("vorgestern", now(), Berlin), Some(berlin(16, 0, 0)));
        assert_eq!(resolve("heute morgen", now(), Berlin), Some(berlin(18, 8, 0)));
    }

    #[test]
    fn amounts() {
        assert_eq!(
            resolve("seit zwei Stunden", now(), Berlin),
            Some(now() - Duration::hours(2))
        );
        assert_eq!(
            resolve("seit einer halben Stunde", now(), Berlin),
            Some(now() - Duration::minutes(30))
        );
        assert_eq!(resolve("seit 3 Tagen", now(), Berlin), Some(now() - Duration::days(3)));
        assert_eq!(resolve("2 hours ago", now(), Berlin), Some(now() - Duration::hours(2)));
    }

    #[test]
    fn clock_times_and_weekdays() {
        assert_eq!(resolve("seit 10 Uhr", now(), Berlin), Some(berlin(18, 10, 0)));
        assert_eq!(resolve("seit 9:30", now(), Berlin), Some(berlin(18, 9, 30)));
        // 16:00 is still ahead today, so it was yesterday.
        assert_eq!(resolve("seit 16 Uhr", now(), Berlin), Some(berlin(17, 16, 0)));
        assert_eq!(resolve("seit Montag", now(), Berlin), Some(berlin(16, 0, 0)));
        assert_eq!(resolve("seit Mittwoch", now(), Berlin), Some(berlin(11, 0, 0)));
        assert_eq!(resolve("seit dem Wochenende", now(), Berlin), Some(berlin(14, 0, 0)));
    }

    #[test]
    fn unknown_phrases_stay_unresolved() {
        assert_eq!(resolve("keine Ahnung", now(), Berlin), None);
        assert_eq!(resolve("", now(), Berlin), None);
    }

    #[test]
    fn a_part_of_day_later_than_now_is_capped_at_now() {
        assert_eq!(resolve("seit heute Abend", now(), Berlin), Some(now()));
    }
}
