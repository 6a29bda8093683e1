//! Request-body validation in the spirit of Cal.com's class-validator DTOs: all field errors are collected
//! and answered as one 400 `Bad Request Exception` with `details.errors[]`. Unknown fields are ignored
//! (`whitelist: true`). Constraint texts are class-validator's defaults where known, else our wording.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::BookingVersion;
use crate::auth::Caller;
use crate::errors::{ApiError, field_error, nested_error};
use crate::model::Attendee;
use crate::ops::{EventTypeRef, NewBooking, NewReservation};
use crate::time;

/// Locale codes accepted for `attendee.language` (Cal.com's enum, ~44 values).
const LANGUAGES: &[&str] = &[
    "ar", "ca", "de", "es", "eu", "he", "id", "ja", "lv", "pl", "ro", "sr", "th", "vi", "az", "cs", "el", "es-419",
    "fi", "hr", "it", "km", "nl", "pt", "ru", "sv", "tr", "zh-CN", "bg", "da", "en", "et", "fr", "hu", "iw", "ko",
    "no", "pt-BR", "sk", "ta", "uk", "zh-TW", "bn", "sl",
];

const METADATA_LIMITS: &str =
    "Metadata must have at most 50 keys, each key up to 40 characters, and string values up to 500 characters.";

type Errors = Vec<Value>;

fn object(body: &Value) -> Map<String, Value> {
    body.as_object().cloned().unwrap_or_default()
}

fn finish<T>(errors: Errors, value: Option<T>) -> Result<T, ApiError> {
    match value {
        Some(value) if errors.is_empty() => Ok(value),
        _ => Err(ApiError::validation(errors)),
    }
}

fn absent(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

/// Booking times must be UTC instants.
fn utc_instant(obj: &Map<String, Value>, key: &str, errors: &mut Errors) -> Option<DateTime<Utc>> {
    let raw = obj.get(key).and_then(Value::as_str);
    match raw.map(|r| (time::parse_instant(r), time::parse_utc_instant(r))) {
        Some((_, Some(at))) => Some(at),
        Some((Some(_), None)) => {
            errors.push(field_error(
                key,
                "isUtc",
                format!("{key} must be in UTC, e.g. 2024-08-13T09:00:00Z"),
            ));
            None
        }
        _ => {
            errors.push(field_error(
                key,
                "isISO8601",
                format!("{key} must be a valid ISO 8601 date string"),
            ));
            None
        }
    }
}

fn opt_string(obj: &Map<String, Value>, key: &str, errors: &mut Errors) -> Option<String> {
    match obj.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(field_error(key, "isString", format!("{key} must be a string")));
            None
        }
    }
}

fn opt_positive(obj: &Map<String, Value>, key: &str, errors: &mut Errors) -> Option<u32> {
    let value = obj.get(key)?;
    if value.is_null() {
        return None;
    }
    let parsed = value.as_u64().filter(|n| *n >= 1).and_then(|n| u32::try_from(n).ok());
    if parsed.is_none() {
        errors.push(field_error(
            key,
            "isInt",
            format!("{key} must be a positive integer number"),
        ));
    }
    parsed
}

fn opt_bool(obj: &Map<String, Value>, key: &str, errors: &mut Errors) -> bool {
    match obj.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errors.push(field_error(key, "isBoolean", format!("{key} must be a boolean value")));
            false
        }
    }
}

pub fn looks_like_email(s: &str) -> bool {
    let mut parts = s.split('@');
    let shape_ok = match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
        }
        _ => false,
    };
    shape_ok && !s.contains(char::is_whitespace)
}

/// E.164 without libphonenumber: `+`, no leading zero, 8–15 digits (see FIDELITY.md).
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

fn attendee(value: Option<&Value>, errors: &mut Errors) -> Option<Attendee> {
    let Some(Value::Object(a)) = value else {
        errors.push(field_error("attendee", "isObject", "attendee must be an object"));
        return None;
    };
    let mut children = Vec::new();
    let name = a.get("name").and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    if name.is_none() {
        children.push(field_error("name", "isNotEmpty", "name should not be empty"));
    }
    let zone = a
        .get("timeZone")
        .and_then(Value::as_str)
        .filter(|z| time::parse_zone(z).is_some());
    if zone.is_none() {
        children.push(field_error(
            "timeZone",
            "isTimeZone",
            "timeZone must be a valid IANA time zone",
        ));
    }
    let email = match a.get("email") {
        None | Some(Value::Null) => None,
        Some(Value::String(e)) if looks_like_email(e) => Some(e.clone()),
        _ => {
            children.push(field_error("email", "isEmail", "email must be an email"));
            None
        }
    };
    let phone = match a.get("phoneNumber") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if is_e164(p) => Some(p.clone()),
        _ => {
            children.push(field_error(
                "phoneNumber",
                "isPhoneNumber",
                "phoneNumber must be a valid phone number",
            ));
            None
        }
    };
    if absent(a.get("email")) && absent(a.get("phoneNumber")) {
        children.push(field_error(
            "email",
            "requireEmailOrPhone",
            "Either email or phoneNumber must be provided",
        ));
    }
    let language = match a.get("language") {
        None | Some(Value::Null) => Some("en".to_string()),
        Some(Value::String(l)) if LANGUAGES.contains(&l.as_str()) => Some(l.clone()),
        _ => {
            let message = format!("language must be one of the following values: {}", LANGUAGES.join(", "));
            children.push(field_error("language", "isEnum", message));
            None
        }
    };
    if !children.is_empty() {
        errors.push(nested_error("attendee", children));
        return None;
    }
    Some(Attendee {
        name: name?.to_string(),
        email,
        phone_number: phone,
        time_zone: zone?.to_string(),
        language: language?,
    })
}

fn metadata(value: Option<&Value>, errors: &mut Errors) -> Map<String, Value> {
    let within_limits = |m: &Map<String, Value>| {
        m.len() <= 50
            && m.iter().all(|(k, v)| {
                k.chars().count() <= 40
                    && match v {
                        Value::String(s) => s.chars().count() <= 500,
                        Value::Number(_) | Value::Bool(_) => true,
                        _ => false,
                    }
            })
    };
    match value {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) if within_limits(m) => m.clone(),
        _ => {
            errors.push(field_error("metadata", "validateMetadata", METADATA_LIMITS));
            Map::new()
        }
    }
}

/// `location` as string, or the object forms reduced to their address/link/phone/integration.
fn location(value: Option<&Value>, errors: &mut Errors) -> Option<String> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => {
            let pick = ["address", "link", "phone", "attendeeAddress", "attendeePhoneNumber"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_string));
            let integration = o
                .get("integration")
                .and_then(Value::as_str)
                .map(|name| format!("integrations:{name}"));
            pick.or(integration)
                .or_else(|| Some(Value::Object(o.clone()).to_string()))
        }
        Some(_) => {
            errors.push(field_error(
                "location",
                "isLocation",
                "location must be a string or a location object",
            ));
            None
        }
    }
}

fn guests(value: Option<&Value>, errors: &mut Errors) -> Vec<String> {
    let list: Option<Vec<String>> = match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| g.as_str().filter(|s| looks_like_email(s)).map(str::to_string))
            .collect(),
        Some(_) => None,
    };
    list.unwrap_or_else(|| {
        errors.push(field_error(
            "guests",
            "isEmail",
            "each value in guests must be an email",
        ));
        Vec::new()
    })
}

pub fn create(body: &Value, version: BookingVersion, caller: &Caller) -> Result<NewBooking, ApiError> {
    let obj = object(body);
    let mut errors = Vec::new();
    let start = utc_instant(&obj, "start", &mut errors);
    let slug = obj.get("eventTypeSlug").and_then(Value::as_str);
    let username = obj.get("username").and_then(Value::as_str);
    let event_type = match (obj.get("eventTypeId"), slug, username) {
        (Some(v), _, _) if !v.is_null() => {
            let id = v.as_i64();
            if id.is_none() {
                errors.push(field_error(
                    "eventTypeId",
                    "isInt",
                    "eventTypeId must be an integer number",
                ));
            }
            id.map(EventTypeRef::Id)
        }
        (_, Some(slug), Some(username)) => Some(EventTypeRef::Slug {
            slug: slug.to_string(),
            username: username.to_string(),
        }),
        _ => {
            errors.push(field_error(
                "eventTypeId",
                "isInt",
                "Either eventTypeId or eventTypeSlug + username must be provided",
            ));
            None
        }
    };
    let attendee = attendee(obj.get("attendee"), &mut errors);
    let guests = guests(obj.get("guests"), &mut errors);
    let location = location(obj.get("location"), &mut errors);
    let metadata = metadata(obj.get("metadata"), &mut errors);
    let responses = match obj.get("bookingFieldsResponses") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            errors.push(field_error(
                "bookingFieldsResponses",
                "isObject",
                "bookingFieldsResponses must be an object",
            ));
            Map::new()
        }
    };
    let length = opt_positive(&obj, "lengthInMinutes", &mut errors);
    let reserved_slot_uid = opt_string(&obj, "reservedSlotUid", &mut errors);
    // Owner flags are silently ignored unless a 2026 version is used with the owner's key.
    let owner = version.has_owner_flags() && caller.is_authenticated();
    let allow_conflicts = opt_bool(&obj, "allowConflicts", &mut errors) && owner;
    let allow_out_of_bounds = opt_bool(&obj, "allowBookingOutOfBounds", &mut errors) && owner;
    opt_bool(&obj, "skipBookingLimits", &mut errors);

    let built = (|| {
        Some(NewBooking {
            event_type: event_type?,
            start: start?,
            length_in_minutes: length,
            attendee: attendee?,
            guests,
            location,
            metadata,
            booking_fields_responses: responses,
            reserved_slot_uid,
            allow_conflicts,
            allow_out_of_bounds,
        })
    })();
    finish(errors, built)
}

pub struct RescheduleInput {
    pub start: DateTime<Utc>,
    pub rescheduled_by: Option<String>,
    pub reason: Option<String>,
}

pub fn reschedule(body: &Value) -> Result<RescheduleInput, ApiError> {
    let obj = object(body);
    let mut errors = Vec::new();
    let start = utc_instant(&obj, "start", &mut errors);
    let rescheduled_by = opt_string(&obj, "rescheduledBy", &mut errors);
    if rescheduled_by.as_deref().is_some_and(|e| !looks_like_email(e)) {
        errors.push(field_error(
            "rescheduledBy",
            "isEmail",
            "rescheduledBy must be an email",
        ));
    }
    let reason = opt_string(&obj, "reschedulingReason", &mut errors);
    finish(
        errors,
        start.map(|start| RescheduleInput {
            start,
            rescheduled_by,
            reason,
        }),
    )
}

pub fn cancel(body: &Value) -> Result<Option<String>, ApiError> {
    let obj = object(body);
    let mut errors = Vec::new();
    let reason = opt_string(&obj, "cancellationReason", &mut errors);
    finish(errors, Some(reason))
}

pub fn reservation(body: &Value, caller: &Caller) -> Result<NewReservation, ApiError> {
    let obj = object(body);
    let mut errors = Vec::new();
    let event_type_id = obj.get("eventTypeId").and_then(Value::as_i64);
    if event_type_id.is_none() {
        errors.push(field_error(
            "eventTypeId",
            "isInt",
            "eventTypeId must be an integer number",
        ));
    }
    let slot_start = utc_instant(&obj, "slotStart", &mut errors);
    let slot_duration = opt_positive(&obj, "slotDuration", &mut errors);
    let reservation_minutes = opt_positive(&obj, "reservationDuration", &mut errors);
    if reservation_minutes.is_some() && !caller.is_authenticated() {
        return Err(ApiError::unauthorized(crate::errors::texts::RESERVE_DURATION_AUTH));
    }
    let built = (|| {
        Some(NewReservation {
            event_type_id: event_type_id?,
            slot_start: slot_start?,
            slot_duration,
            reservation_minutes: reservation_minutes.unwrap_or(5),
        })
    })();
    finish(errors, built)
}

/// `take`/`skip` and friends from a query string.
pub fn query_number(
    query: &std::collections::HashMap<String, String>,
    key: &str,
    max: Option<u64>,
    errors: &mut Errors,
) -> Option<u64> {
    let raw = query.get(key)?;
    match raw.parse::<u64>() {
        Ok(n) if max.is_none_or(|max| n <= max) => Some(n),
        Ok(_) => {
            let max = max.unwrap_or_default();
            errors.push(field_error(key, "max", format!("{key} must not be greater than {max}")));
            None
        }
        Err(_) => {
            errors.push(field_error(
                key,
                "isNumber",
                format!("{key} must be a number conforming to the specified constraints"),
            ));
            None
        }
    }
}

pub fn query_instant(
    query: &std::collections::HashMap<String, String>,
    key: &str,
    errors: &mut Errors,
) -> Option<DateTime<Utc>> {
    let raw = query.get(key)?;
    let parsed = time::parse_bound(raw, time::Bound::Start);
    if parsed.is_none() {
        errors.push(field_error(
            key,
            "isISO8601",
            format!("{key} must be a valid ISO 8601 date string"),
        ));
    }
    parsed
}

pub fn into_result(errors: Errors) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn e164_and_email() {
        assert!(is_e164("+4915112345678"));
        assert!(!is_e164("015112345678"));
        assert!(!is_e164("+49 151 1234"));
        assert!(!is_e164("+1234567"));
        assert!(looks_like_email("max@example.de"));
        assert!(!looks_like_email("max@localhost"));
        assert!(!looks_like_email("a b@example.de"));
    }

    #[test]
    fn metadata_limits() {
        let mut errors = Vec::new();
        let too_long = json!({ "k": "x".repeat(501) });
        metadata(Some(&too_long), &mut errors);
        let nested = json!({ "k": { "a": 1 } });
        metadata(Some(&nested), &mut errors);
        let long_key = json!({ "k".repeat(41): "v" });
        metadata(Some(&long_key), &mut errors);
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        metadata(Some(&Value::Object(many)), &mut errors);
        assert_eq!(errors.len(), 4);
        let fine = json!({ "call_id": "c1", "n": 3, "ok": true });
        assert_eq!(metadata(Some(&fine), &mut errors).len(), 3);
        assert_eq!(errors.len(), 4);
    }
}
