//! Cal.com API v2 on the wire: the envelopes and the bodies the adapter sends and reads
//! (`shared/reference/appointments.md` §1.1–1.5). Read types are lenient about fields we do not
//! use (Cal.com adds fields between versions) and strict about the ones we rely on.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{"status":"success","data":…}` (slots put `data` first; key order does not matter here).
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    pub status: String,
    pub data: T,
}

/// `{"status":"success"}` alone (reservation delete) or with any `data` (cancel).
#[derive(Debug, Deserialize)]
pub struct StatusOnly {
    pub status: String,
}

/// `GET /v2/slots` data: local day (in the requested `timeZone`) → slots.
pub type SlotsData = BTreeMap<String, Vec<SlotItem>>;

/// One slot; `end` only with `format=range`. Offsets are those of the requested zone.
#[derive(Debug, Deserialize)]
pub struct SlotItem {
    pub start: String,
    #[serde(default)]
    pub end: Option<String>,
}

/// `POST /v2/slots/reservations`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveBody {
    pub event_type_id: u64,
    /// UTC, `Z`.
    pub slot_start: String,
}

/// `ReserveSlotOutput_2024_09_04` (the fields we use).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationOut {
    pub reservation_uid: String,
    pub reservation_until: String,
}

/// `POST /v2/bookings` (2024-08-13).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    /// UTC, `Z`.
    pub start: String,
    pub event_type_id: u64,
    pub attendee: AttendeeBody,
    pub metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reserved_slot_uid: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttendeeBody {
    pub name: String,
    pub time_zone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// `POST /v2/bookings/{uid}/cancel`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelBody {
    pub cancellation_reason: String,
}

/// `POST /v2/bookings/{uid}/reschedule`; `reschedulingReason` is Cal.com's spelling.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RescheduleBody {
    /// UTC, `Z`.
    pub start: String,
    pub rescheduling_reason: String,
}

/// `BookingOutput_2024_08_13`, the fields the adapter reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingOut {
    pub uid: String,
    pub status: String,
    pub start: String,
    pub end: String,
    #[serde(default)]
    pub event_type_id: Option<u64>,
    #[serde(default)]
    pub attendees: Vec<AttendeeOut>,
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub rescheduled_from_uid: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttendeeOut {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
}

/// `{"status":"error","timestamp","path","error":{"code","message","details"}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub details: Option<Value>,
}

/// An instant as Cal.com wants it in bodies and queries: UTC with `Z`, whole seconds.
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Any RFC 3339 instant (Cal.com prints milliseconds and, for slots, the zone's offset).
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw).ok().map(|at| at.with_timezone(&Utc))
}

/// Cal.com's `attendee.language` enum (~44 locale codes).
const LANGUAGES: &[&str] = &[
    "ar", "ca", "de", "es", "eu", "he", "id", "ja", "lv", "pl", "ro", "sr", "th", "vi", "az", "cs", "el", "es-419",
    "fi", "hr", "it", "km", "nl", "pt", "ru", "sv", "tr", "zh-CN", "bg", "da", "en", "et", "fr", "hu", "iw", "ko",
    "no", "pt-BR", "sk", "ta", "uk", "zh-TW", "bn", "sl",
];

/// A BCP 47 tag as one of Cal.com's locale codes: the tag itself (`pt-BR`), else its language
/// (`de-DE` → `de`); `None` (Cal.com's default, `en`) for anything else.
pub fn language(tag: &str) -> Option<String> {
    let tag = tag.trim().replace('_', "-");
    let exact = LANGUAGES.iter().find(|l| l.eq_ignore_ascii_case(&tag));
    let primary = || {
        let lang = tag.split('-').next().unwrap_or_default();
        LANGUAGES.iter().find(|l| l.eq_ignore_ascii_case(lang))
    };
    exact.or_else(primary).map(|l| (*l).to_string())
}

/// Cal.com's metadata limits (create-booking.input.ts): ≤ 50 keys, key ≤ 40 chars, string values
/// ≤ 500 chars. Our own map is far inside them; this keeps it so whatever is added later (keys in
/// order, the rest dropped, long values cut at a character boundary) instead of failing a booking.
pub fn metadata(map: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    map.iter()
        .filter(|(k, _)| !k.is_empty() && k.chars().count() <= 40)
        .take(50)
        .map(|(k, v)| (k.clone(), v.chars().take(500).collect()))
        .collect()
}

/// E.164 as Cal.com validates it (libphonenumber there; the shape here): `+`, 8–15 digits, no
/// leading zero. Spaces and dashes are dropped first.
pub fn e164(raw: &str) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '/'))
        .collect();
    let digits = cleaned.strip_prefix('+')?;
    let ok = (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
    ok.then_some(cleaned)
}

/// Metadata values as text (Cal.com also stores numbers and booleans).
pub fn metadata_strings(map: Option<serde_json::Map<String, Value>>) -> BTreeMap<String, String> {
    map.unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k, s)),
            Value::Number(n) => Some((k, n.to_string())),
            Value::Bool(b) => Some((k, b.to_string())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_map_to_cal_com_codes() {
        assert_eq!(language("de").as_deref(), Some("de"));
        assert_eq!(language("de-DE").as_deref(), Some("de"));
        assert_eq!(language("pt-br").as_deref(), Some("pt-BR"));
        assert_eq!(language("xx"), None);
    }

    #[test]
    fn metadata_stays_inside_the_limits() {
        let mut map: BTreeMap<String, String> = (0..60).map(|i| (format!("k{i:02}"), "v".repeat(600))).collect();
        map.insert("k".repeat(41), "x".into());
        let out = metadata(&map);
        assert_eq!(out.len(), 50);
        assert!(out.keys().all(|k| k.len() <= 40));
        assert!(out.values().all(|v| v.chars().count() == 500));
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert_eq!(e164("+49 151 1234-5678").as_deref(), Some("+4915112345678"));
        assert_eq!(e164("015112345678"), None);
        assert_eq!(e164("+0151"), None);
    }

    #[test]
    fn instants() {
        let at = parse_instant("2026-03-02T09:00:00.000+01:00").unwrap();
        assert_eq!(utc(at), "2026-03-02T08:00:00Z");
    }
}
