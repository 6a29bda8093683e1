//! The arguments an agent sends, under the names our definitions use and the original's German
//! and English aliases. Values arrive as the LLM wrote them: strings, numbers or booleans, and
//! sometimes an unfilled placeholder (`{{new_datum}}`), which counts as not said.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::appointments::calendar::local_time::to_instant;
use crate::capture::draft::yes_no;
use crate::capture::retell::payload::value_text;

pub const DATE: &[&str] = &[
    "datum",
    "date",
    "date_string",
    "appointment_date",
    "tag",
    "day",
    "wunschdatum",
];
pub const TIME: &[&str] = &["uhrzeit", "time", "appointment_time", "zeit", "wunschzeit"];
/// A time of day the caller prefers ("nachmittags", "ab 14 Uhr"): read as the time text.
pub const WINDOW: &[&str] = &["zeitraum", "preferred_time", "time_window", "tageszeit"];
/// An exact start the agent took from one of our offers (`local_start`), ISO 8601.
pub const DATETIME: &[&str] = &["datetime", "date_time", "start", "start_time", "slot", "termin"];
pub const SERVICE: &[&str] = &["dienstleistung", "service_name", "service_id", "service", "leistung"];
pub const STAFF: &[&str] = &[
    "mitarbeiter",
    "mitarbeiterin",
    "preferred_staff_id",
    "preferred_staff",
    "staff",
    "staff_id",
    "behandler",
];
pub const NAME: &[&str] = &["customer_name", "name", "kunde", "kundenname", "caller_name"];
pub const PHONE: &[&str] = &[
    "customer_phone",
    "phone_number",
    "phone",
    "telefon",
    "telefonnummer",
    "callback_number",
    "rueckrufnummer",
];
pub const EMAIL: &[&str] = &["customer_email", "email", "e_mail", "mail"];
pub const NOTES: &[&str] = &["notes", "notizen", "anmerkung", "bemerkung"];
pub const APPOINTMENT_ID: &[&str] = &["appointment_id", "termin_id", "booking_id"];
/// The appointment being changed, by its date (cancel and reschedule).
pub const OLD_DATE: &[&str] = &["datum", "old_date", "appointment_date", "alter_termin", "date"];
pub const OLD_TIME: &[&str] = &["uhrzeit", "old_time", "appointment_time", "alte_uhrzeit", "time"];
pub const NEW_DATE: &[&str] = &["new_datum", "new_date", "neues_datum", "neuer_termin"];
pub const NEW_TIME: &[&str] = &["new_uhrzeit", "new_time", "neue_uhrzeit"];
pub const NEW_DATETIME: &[&str] = &["new_datetime", "new_start", "neuer_start"];
pub const CONFIRM: &[&str] = &[
    "bestaetigung",
    "bestätigung",
    "confirm",
    "confirmed",
    "confirm_reschedule",
    "confirm_cancel",
    "confirm_cancellation",
];
pub const REASON: &[&str] = &["reason", "grund", "cancellation_reason", "rescheduling_reason"];
pub const AFTER: &[&str] = &["after", "ab", "ab_datum", "from", "frühestens", "fruehestens"];
pub const MAX_ALTERNATIVES: &[&str] = &["max_alternatives", "anzahl"];
pub const BRANCH: &[&str] = &["filiale", "branch", "branch_id", "standort"];

/// Every name a booking function reads an argument under.
const ALL: &[&[&str]] = &[
    DATE,
    TIME,
    WINDOW,
    DATETIME,
    SERVICE,
    STAFF,
    NAME,
    PHONE,
    EMAIL,
    NOTES,
    APPOINTMENT_ID,
    OLD_DATE,
    OLD_TIME,
    NEW_DATE,
    NEW_TIME,
    NEW_DATETIME,
    CONFIRM,
    REASON,
    AFTER,
    MAX_ALTERNATIVES,
    BRANCH,
];

/// Whether a booking function reads an argument of this name (published function definitions
/// are checked against it: a parameter nobody reads is a silent misunderstanding).
pub fn is_known(name: &str) -> bool {
    ALL.iter().any(|names| names.contains(&name))
}

/// The arguments of one function call.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a>(pub &'a Map<String, Value>);

impl<'a> Args<'a> {
    /// The first of `names` that carries a real value, as trimmed text.
    pub fn text(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| {
            self.0
                .get(*n)
                .and_then(value_text)
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty() && !is_placeholder(t))
        })
    }

    /// A yes/no answer ("ja", true, 1, "nein").
    pub fn flag(&self, names: &[&str]) -> Option<bool> {
        names.iter().find_map(|n| self.0.get(*n).and_then(yes_no))
    }

    pub fn number(&self, names: &[&str]) -> Option<f64> {
        names.iter().find_map(|n| match self.0.get(*n)? {
            Value::Number(x) => x.as_f64(),
            Value::String(s) => s.trim().replace(',', ".").parse().ok(),
            _ => None,
        })
    }

    /// An exact start: RFC 3339 with an offset is that instant; a local date-time without one
    /// (`2026-12-08T14:30`, `2026-12-08 14:30`) is read in the branch's zone. `Some(Err)` when
    /// something was given that is not such a time (the caller is asked instead of guessing).
    pub fn instant(&self, names: &[&str], zone: Tz) -> Option<Result<DateTime<Utc>, String>> {
        let text = self.text(names)?;
        if let Ok(at) = DateTime::parse_from_rfc3339(&text) {
            return Some(Ok(at.with_timezone(&Utc)));
        }
        let local = [
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&text, f).ok());
        Some(local.and_then(|l| to_instant(zone, l)).ok_or(text))
    }
}

/// `{{new_datum}}`, `{new_datum}`: a variable the agent did not fill.
fn is_placeholder(text: &str) -> bool {
    text.contains("{{") || (text.starts_with('{') && text.ends_with('}'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn aliases_placeholders_and_types() {
        let m = args(json!({"date": "morgen", "uhrzeit": "{{uhrzeit}}", "bestaetigung": "ja", "anzahl": "2"}));
        let a = Args(&m);
        assert_eq!(a.text(DATE).as_deref(), Some("morgen"));
        assert_eq!(a.text(TIME), None, "an unfilled placeholder is not a time");
        assert_eq!(a.flag(CONFIRM), Some(true));
        assert_eq!(a.number(MAX_ALTERNATIVES), Some(2.0));
    }

    #[test]
    fn instants_with_and_without_offset() {
        let zone = chrono_tz::Europe::Berlin;
        let m = args(json!({"datetime": "2026-12-08T14:30:00+01:00", "start": "2026-12-08 14:30", "slot": "bald"}));
        let expected = Utc.with_ymd_and_hms(2026, 12, 8, 13, 30, 0).unwrap();
        assert_eq!(Args(&m).instant(&["datetime"], zone), Some(Ok(expected)));
        assert_eq!(Args(&m).instant(&["start"], zone), Some(Ok(expected)));
        assert_eq!(Args(&m).instant(&["slot"], zone), Some(Err("bald".into())));
        assert_eq!(Args(&m).instant(&["nothing"], zone), None);
        // Summer time: the same wall clock is an hour earlier in UTC.
        let m = args(json!({"start": "2027-06-08T14:30"}));
        assert_eq!(
            Args(&m).instant(&["start"], zone),
            Some(Ok(Utc.with_ymd_and_hms(2027, 6, 8, 12, 30, 0).unwrap()))
        );
    }
}
