//! What the pages show, as pure functions of the domain's values: the case filter and search,
//! the dashboard's figures, the exchange log's kinds and hints, the timeline and its cURL.
//! No I/O here: the handlers read through the stores and hand the results in.

pub mod costs;
pub mod dashboard;
pub mod filter;
pub mod log;
pub mod timeline;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// From the first day's midnight to the midnight after the last day, in the company's zone.
pub fn day_window(first: chrono::NaiveDate, last: chrono::NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    };
    (start(first), start(last + chrono::Duration::days(1)))
}

/// `18.11.2026 14:05` in the company's time zone.
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d.%m.%Y %H:%M").to_string()
}

/// `18.11.2026 14:05:09` in the company's time zone.
pub fn local_time_seconds(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%d.%m.%Y %H:%M:%S").to_string()
}

/// `1 h 05 min`, `3 min 20 s`, `850 ms`.
pub fn duration(d: chrono::Duration) -> String {
    let ms = d.num_milliseconds();
    if ms < 1000 {
        return format!("{} ms", ms.max(0));
    }
    let s = d.num_seconds();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

/// Digits of a phone number or search term (`+49 511 …` → `49511…`).
pub fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(duration(chrono::Duration::milliseconds(850)), "850 ms");
        assert_eq!(duration(chrono::Duration::seconds(200)), "3 min 20 s");
        assert_eq!(duration(chrono::Duration::seconds(3900)), "1 h 05 min");
    }
}
