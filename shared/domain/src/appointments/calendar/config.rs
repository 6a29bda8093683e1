//! The YAML/JSON shape of a branch calendar and its validation. Everything arrives as text so that
//! one pass can report every problem with its path, the way a config loader prints them:
//!
//! ```yaml
//! time_zone: Europe/Berlin          # optional, default Europe/Berlin
//! opening_hours:
//!   mon: ["08:00-12:00", "13:00-18:00"]
//!   sat: []                         # a missing or empty day is closed
//! closures:
//!   - {date: 2026-12-24, reason: Heiligabend}
//!   - {from: 2026-12-27, to: 2026-12-31}
//! ```

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::appointments::calendar::hours::{BranchCalendar, Closure, OpenInterval, WeeklyHours};
use crate::locale::TimeZone;
use crate::tenancy::validate::Issue;

const WEEK: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mon"),
    (Weekday::Tue, "tue"),
    (Weekday::Wed, "wed"),
    (Weekday::Thu, "thu"),
    (Weekday::Fri, "fri"),
    (Weekday::Sat, "sat"),
    (Weekday::Sun, "sun"),
];

/// All problems of a calendar document (never empty), each as `path: message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid branch calendar: {}", .0.iter().map(|i| format!("{}: {}", i.path, i.message)).collect::<Vec<_>>().join("; "))]
pub struct CalendarConfigError(pub Vec<Issue>);

/// The serialised shape of a [`BranchCalendar`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// An IANA zone as text; parsed as a [`TimeZone`] by [`CalendarConfig::build`], so a wrong zone
    /// is listed together with every other problem.
    #[serde(default = "default_zone")]
    pub time_zone: String,
    pub opening_hours: WeeklyHoursConfig,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closures: Vec<ClosureConfig>,
}

fn default_zone() -> String {
    TimeZone::default().to_string()
}

/// Per weekday a list of `"HH:MM-HH:MM"` intervals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyHoursConfig {
    #[serde(default)]
    pub mon: Vec<String>,
    #[serde(default)]
    pub tue: Vec<String>,
    #[serde(default)]
    pub wed: Vec<String>,
    #[serde(default)]
    pub thu: Vec<String>,
    #[serde(default)]
    pub fri: Vec<String>,
    #[serde(default)]
    pub sat: Vec<String>,
    #[serde(default)]
    pub sun: Vec<String>,
}

impl WeeklyHoursConfig {
    fn day(&self, day: Weekday) -> &Vec<String> {
        match day {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    fn day_mut(&mut self, day: Weekday) -> &mut Vec<String> {
        match day {
            Weekday::Mon => &mut self.mon,
            Weekday::Tue => &mut self.tue,
            Weekday::Wed => &mut self.wed,
            Weekday::Thu => &mut self.thu,
            Weekday::Fri => &mut self.fri,
            Weekday::Sat => &mut self.sat,
            Weekday::Sun => &mut self.sun,
        }
    }
}

/// Either `date` or `from` + `to` (inclusive), with an optional reason. Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosureConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

struct Report(Vec<Issue>);

impl Report {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Issue {
            path: path.into(),
            message: message.into(),
        });
    }
}

impl CalendarConfig {
    /// Builds the calendar, or lists every problem found.
    pub fn build(&self) -> Result<BranchCalendar, CalendarConfigError> {
        let mut report = Report(Vec::new());
        let tz = match self.time_zone.parse::<TimeZone>() {
            Ok(tz) => Some(tz.tz()),
            Err(message) => {
                report.add("time_zone", message);
                None
            }
        };
        let mut hours = WeeklyHours::closed();
        for (day, key) in WEEK {
            let intervals = day_intervals(&mut report, key, self.opening_hours.day(day));
            if let Ok(h) = hours.clone().with_day(day, intervals) {
                hours = h;
            }
        }
        let closures: Vec<Closure> = self
            .closures
            .iter()
            .enumerate()
            .filter_map(|(i, c)| closure(&mut report, &format!("closures[{i}]"), c))
            .collect();
        match tz {
            Some(tz) if report.0.is_empty() => Ok(BranchCalendar { tz, hours, closures }),
            _ => Err(CalendarConfigError(report.0)),
        }
    }

    /// Every problem of the document; empty when it is valid.
    pub fn validate(&self) -> Vec<Issue> {
        self.build().err().map(|e| e.0).unwrap_or_default()
    }
}

fn day_intervals(report: &mut Report, key: &str, texts: &[String]) -> Vec<OpenInterval> {
    let mut out: Vec<OpenInterval> = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let path = format!("opening_hours.{key}[{i}]");
        match text.parse::<OpenInterval>() {
            Ok(iv) => {
                if let Some(prev) = out.last().filter(|p| iv.start() < p.end()) {
                    report.add(
                        path,
                        format!("'{text}' overlaps or comes before '{prev}' (order intervals by time)"),
                    );
                } else {
                    out.push(iv);
                }
            }
            Err(e) => report.add(path, e.to_string()),
        }
    }
    out
}

fn closure(report: &mut Report, path: &str, c: &ClosureConfig) -> Option<Closure> {
    let mut date = |field: &str, value: &Option<String>| -> Option<NaiveDate> {
        let text = value.as_deref()?;
        match text.trim().parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                report.add(
                    format!("{path}.{field}"),
                    format!("'{text}' is not a date (YYYY-MM-DD)"),
                );
                None
            }
        }
    };
    let single = date("date", &c.date);
    let from = date("from", &c.from);
    let to = date("to", &c.to);
    let reason = c.reason.as_deref().map(str::trim).filter(|r| !r.is_empty());
    match (&c.date, &c.from, &c.to) {
        (Some(_), None, None) => single.map(|d| Closure::day(d, reason)),
        (None, Some(_), Some(_)) => {
            let (from, to) = (from?, to?);
            let range = Closure::range(from, to, reason);
            if range.is_none() {
                report.add(format!("{path}.to"), format!("{to} is before {from}"));
            }
            range
        }
        (None, Some(_), None) => {
            report.add(format!("{path}.to"), "a range needs both 'from' and 'to'");
            None
        }
        (None, None, Some(_)) => {
            report.add(format!("{path}.from"), "a range needs both 'from' and 'to'");
            None
        }
        (None, None, None) => {
            report.add(path, "give either 'date' or 'from' and 'to'");
            None
        }
        (Some(_), _, _) => {
            report.add(path, "give either 'date' or 'from' and 'to', not both");
            None
        }
    }
}

impl TryFrom<CalendarConfig> for BranchCalendar {
    type Error = CalendarConfigError;

    fn try_from(config: CalendarConfig) -> Result<Self, Self::Error> {
        config.build()
    }
}

impl From<BranchCalendar> for CalendarConfig {
    fn from(cal: BranchCalendar) -> Self {
        let mut hours = WeeklyHoursConfig::default();
        for (day, _) in WEEK {
            *hours.day_mut(day) = cal.hours.on(day).iter().map(ToString::to_string).collect();
        }
        let closures = cal
            .closures
            .iter()
            .map(|c| {
                let reason = c.reason().map(str::to_string);
                if c.from() == c.to() {
                    ClosureConfig {
                        date: Some(c.from().to_string()),
                        reason,
                        ..Default::default()
                    }
                } else {
                    ClosureConfig {
                        from: Some(c.from().to_string()),
                        to: Some(c.to().to_string()),
                        reason,
                        ..Default::default()
                    }
                }
            })
            .collect();
        CalendarConfig {
            time_zone: cal.tz.name().to_string(),
            opening_hours: hours,
            closures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_shaped_document_round_trips() {
        let doc = json!({
            "opening_hours": {"mon": ["08:00-12:00", "13:00-18:00"], "sat": []},
            "closures": [{"date": "2026-12-24", "reason": "Heiligabend"}, {"from": "2026-12-27", "to": "2026-12-31"}]
        });
        let cal: BranchCalendar = serde_json::from_value(doc).unwrap();
        assert_eq!(cal.tz, chrono_tz::Europe::Berlin);
        assert_eq!(cal.hours.on(Weekday::Mon).len(), 2);
        assert!(cal.hours.on(Weekday::Sat).is_empty());
        assert_eq!(cal.closures[0].reason(), Some("Heiligabend"));
        assert!(cal.closures[1].covers("2026-12-30".parse().unwrap()));
        let back = serde_json::to_value(&cal).unwrap();
        assert_eq!(back["opening_hours"]["mon"], json!(["08:00-12:00", "13:00-18:00"]));
        assert_eq!(back["closures"][1], json!({"from": "2026-12-27", "to": "2026-12-31"}));
        let again: BranchCalendar = serde_json::from_value(back).unwrap();
        assert_eq!(again, cal);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let doc = json!({"opening_hours": {"monday": ["08:00-12:00"]}});
        assert!(serde_json::from_value::<BranchCalendar>(doc).is_err());
        let doc = json!({"opening_hours": {}, "holidays": []});
        assert!(serde_json::from_value::<CalendarConfig>(doc).is_err());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let doc = json!({
            "time_zone": "Europe/Bärlin",
            "opening_hours": {
                "mon": ["08:00-12:00", "11:00-14:00"],
                "tue": ["18:00-08:00"],
                "wed": ["8 bis 12"]
            },
            "closures": [
                {"from": "2026-12-31", "to": "2026-12-27"},
                {"date": "2026-02-30"},
                {"from": "2026-12-01"},
                {"date": "2026-12-24", "from": "2026-12-24", "to": "2026-12-25"},
                {"reason": "Betriebsurlaub"}
            ]
        });
        let config: CalendarConfig = serde_json::from_value(doc).unwrap();
        let paths: Vec<String> = config.validate().into_iter().map(|i| i.path).collect();
        assert_eq!(
            paths,
            [
                "time_zone",
                "opening_hours.mon[1]",
                "opening_hours.tue[0]",
                "opening_hours.wed[0]",
                "closures[0].to",
                "closures[1].date",
                "closures[2].to",
                "closures[3]",
                "closures[4]",
            ]
        );
        let err = serde_json::from_value::<BranchCalendar>(serde_json::to_value(&config).unwrap()).unwrap_err();
        assert!(
            err.to_string()
                .contains("opening_hours.tue[0]: start 18:00 is not before end 08:00"),
            "{err}"
        );
    }
}
