//! The answer to Retell's `call_inbound` webhook: dynamic variables that stop the agent from
//! guessing today's date (the original's "date hallucination" fix).

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

const WEEKDAYS_DE: [&str; 7] = [
    "Montag",
    "Dienstag",
    "Mittwoch",
    "Donnerstag",
    "Freitag",
    "Samstag",
    "Sonntag",
];
const WEEKDAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Dynamic variables (all strings, as Retell requires) for a call starting at `now`.
pub fn dynamic_variables(now: DateTime<Utc>, tz: Tz, locale: &str, company_name: Option<&str>) -> Map<String, Value> {
    let local = now.with_timezone(&tz);
    let german = locale.to_ascii_lowercase().starts_with("de");
    let weekday_idx = local.weekday().num_days_from_monday() as usize;
    let month_idx = local.month0() as usize;
    let (weekday, long_date) = if german {
        let wd = WEEKDAYS_DE[weekday_idx];
        (
            wd,
            format!(
                "{wd}, {}. {} {}",
                local.day(),
                crate::locale::MONTHS_DE[month_idx],
                local.year()
            ),
        )
    } else {
        let wd = WEEKDAYS_EN[weekday_idx];
        (
            wd,
            format!(
                "{wd}, {} {}, {}",
                crate::locale::MONTHS_EN[month_idx],
                local.day(),
                local.year()
            ),
        )
    };
    let mut vars = json!({
        "current_date": local.format("%Y-%m-%d").to_string(),
        "current_date_long": long_date,
        "current_time": format!("{:02}:{:02}", local.hour(), local.minute()),
        "current_weekday": weekday,
        "current_year": local.year().to_string(),
        "current_datetime": local.to_rfc3339(),
        "time_zone": tz.name(),
    });
    if let (Some(name), Some(obj)) = (company_name, vars.as_object_mut()) {
        obj.insert("company_name".into(), Value::String(name.to_string()));
    }
    match vars {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn german_variables_in_the_company_time_zone() {
        // 23:30 UTC on Saturday is already Sunday in Berlin.
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 23, 30, 0).unwrap();
        let v = dynamic_variables(now, chrono_tz::Europe::Berlin, "de-DE", Some("NordIT GmbH"));
        assert_eq!(v["current_date"], "2026-11-22");
        assert_eq!(v["current_time"], "00:30");
        assert_eq!(v["current_weekday"], "Sonntag");
        assert_eq!(v["current_date_long"], "Sonntag, 22. November 2026");
        assert_eq!(v["company_name"], "NordIT GmbH");
        assert!(v.values().all(Value::is_string), "Retell wants strings only");
    }

    #[test]
    fn english_locale() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        let v = dynamic_variables(now, chrono_tz::America::New_York, "en-US", None);
        assert_eq!(v["current_weekday"], "Monday");
        assert_eq!(v["current_time"], "07:00");
        assert!(!v.contains_key("company_name"));
    }
}
