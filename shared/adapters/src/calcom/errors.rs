//! Cal.com's answers that are not a success, as [`BackendError`]s: by HTTP status first, then by
//! the error text where one status means several things (400 is "taken", "too soon", "in the
//! past" and "already cancelled" alike). Texts: `shared/reference/appointments.md` §1.3–1.5, and
//! the stand-in's FIDELITY.md for the few the reference does not quote. Matching is on short,
//! case-insensitive fragments, so a reworded tail does not change the meaning.
//!
//! | HTTP | text (fragment) | error |
//! |---|---|---|
//! | 400 | `already has booking` (user, or "One of the hosts …") | `Taken` |
//! | 400 | `Someone else reserved this booking time slot` | `Taken` |
//! | 400/409 | `booking_conflict_error`, any 409 | `Taken` |
//! | 422 | `already booked` (reserving a booked slot) | `Taken` |
//! | 400 | `in the past` | `InPast` |
//! | 400 | `can't be booked at the "start" time`, `booking_time_out_of_bounds` | `OutOfBounds` |
//! | 400 | `already been cancelled`, `already cancelled`, `reschedule a cancelled booking` | `AlreadyCancelled` |
//! | 400/422 | anything else (validation, `Cannot cancel a booking that has already ended`) | `Rejected` |
//! | 401/403 | credentials refused | `Rejected` (never with the key) |
//! | 404 | `Cannot GET …` (no such route: version drift) | `Unavailable` |
//! | 404 | slots/create/reserve: event type | `UnknownCalendar` |
//! | 404 | get/cancel/reschedule/release: booking, reservation | `NotFound` |
//! | 429 | `Retry-After`, else `X-RateLimit-Reset-Default` (seconds) | `RateLimited` |
//! | 5xx, 408, other | plain text or JSON | `Unavailable` |

use std::time::Duration;

use gateway_domain::appointments::backend::BackendError;
use reqwest::header::HeaderMap;

use super::wire::ErrorEnvelope;

/// Which call the answer belongs to: a 404 without a known text means "no event type" for the
/// calendar calls and "no booking" for the booking calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Slots,
    Reserve,
    Release,
    Create,
    Get,
    Cancel,
    Reschedule,
}

/// Longest error text carried in a `BackendError` (texts end up in logs and tickets).
const MAX_TEXT: usize = 300;

/// The error of a non-success answer.
pub fn from_response(op: Op, status: u16, headers: &HeaderMap, body: &[u8]) -> BackendError {
    let text = message(body);
    classify(op, status, &text, retry_after(headers))
}

/// The decision table above, on an already extracted text.
pub fn classify(op: Op, status: u16, text: &str, retry_after: Option<Duration>) -> BackendError {
    let lower = text.to_lowercase();
    let has = |fragment: &str| lower.contains(fragment);
    match status {
        429 => BackendError::RateLimited { retry_after },
        401 | 403 => BackendError::Rejected(format!("Cal.com refused the credentials (HTTP {status}): {text}")),
        409 => BackendError::Taken,
        404 if lower.starts_with("cannot ") => {
            BackendError::Unavailable(format!("Cal.com has no such route (cal-api-version drift?): {text}"))
        }
        404 if has("booking with uid") || has("reserved slot") => BackendError::NotFound,
        404 if has("event type") => BackendError::UnknownCalendar(text.to_string()),
        404 => match op {
            Op::Slots | Op::Reserve | Op::Create => BackendError::UnknownCalendar(text.to_string()),
            Op::Release | Op::Get | Op::Cancel | Op::Reschedule => BackendError::NotFound,
        },
        400 | 422 => {
            if has("already has booking")
                || has("someone else reserved")
                || has("booking_conflict_error")
                || has("no_available_users_found")
                || has("already booked")
            {
                BackendError::Taken
            } else if has("in the past") {
                BackendError::InPast
            } else if has("can't be booked at the") || has("booking_time_out_of_bounds") {
                BackendError::OutOfBounds(text.to_string())
            } else if has("already been cancelled") || has("already cancelled") || has("reschedule a cancelled") {
                BackendError::AlreadyCancelled
            } else {
                BackendError::Rejected(format!("HTTP {status}: {text}"))
            }
        }
        500..=599 => BackendError::Unavailable(format!("HTTP {status}: {text}")),
        _ => BackendError::Unavailable(format!("unexpected HTTP {status}: {text}")),
    }
}

/// The error text of a body: Cal.com's `error.message` (with the field messages of a validation
/// failure), else the body itself as text, shortened.
pub fn message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<ErrorEnvelope>(body) {
        Ok(envelope) => {
            let mut text = envelope.error.message.or(envelope.error.code).unwrap_or_default();
            let fields = envelope
                .error
                .details
                .as_ref()
                .and_then(|d| d.get("errors"))
                .map(validation_messages)
                .unwrap_or_default();
            if !fields.is_empty() {
                text = format!("{text}: {}", fields.join("; "));
            }
            text
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    shorten(text.trim())
}

/// class-validator's `errors[]`, nested via `children`, as `path: message` lines.
fn validation_messages(errors: &serde_json::Value) -> Vec<String> {
    fn walk(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        let Some(items) = value.as_array() else { return };
        for item in items {
            let property = item.get("property").and_then(|p| p.as_str()).unwrap_or("?");
            let path = if prefix.is_empty() {
                property.to_string()
            } else {
                format!("{prefix}.{property}")
            };
            if let Some(constraints) = item.get("constraints").and_then(|c| c.as_object()) {
                for message in constraints.values().filter_map(|m| m.as_str()) {
                    out.push(format!("{path}: {message}"));
                }
            }
            if let Some(children) = item.get("children") {
                walk(children, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(errors, "", &mut out);
    out
}

fn shorten(text: &str) -> String {
    let one_line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if one_line.chars().count() <= MAX_TEXT {
        return one_line;
    }
    let cut: String = one_line.chars().take(MAX_TEXT).collect();
    format!("{cut}…")
}

/// `Retry-After` (seconds), else Cal.com's `X-RateLimit-Reset-Default` (seconds until the window
/// resets; a Unix time is taken as such).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(s) = seconds("retry-after") {
        return Some(Duration::from_secs(s));
    }
    let reset = seconds("x-ratelimit-reset-default")?;
    const UNIX_TIME: u64 = 1_000_000_000;
    if reset >= UNIX_TIME {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        return Some(Duration::from_secs(reset.saturating_sub(now)));
    }
    Some(Duration::from_secs(reset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn envelope(message: &str) -> Vec<u8> {
        serde_json::json!({
            "status": "error", "timestamp": "2026-03-01T12:00:00.000Z", "path": "/v2/bookings",
            "error": {"code": "BadRequestException", "message": message, "details": {}}
        })
        .to_string()
        .into_bytes()
    }

    fn create(status: u16, message: &str) -> BackendError {
        from_response(Op::Create, status, &HeaderMap::new(), &envelope(message))
    }

    #[test]
    fn taken_texts() {
        for text in [
            "User either already has booking at this time or is not available",
            "One of the hosts either already has booking at this time or is not available",
            "Someone else reserved this booking time slot before you. This time slot will be freed up in 300 seconds.",
            "booking_conflict_error",
        ] {
            assert_eq!(create(400, text), BackendError::Taken, "{text}");
        }
        assert_eq!(create(409, "booking_conflict_error"), BackendError::Taken);
        assert_eq!(
            from_response(
                Op::Reserve,
                422,
                &HeaderMap::new(),
                &envelope("Can't reserve a slot if the event is already booked.")
            ),
            BackendError::Taken
        );
    }

    #[test]
    fn time_texts() {
        assert_eq!(
            create(400, "Attempting to book a meeting in the past."),
            BackendError::InPast
        );
        let bounds = create(
            400,
            "The event type can't be booked at the \"start\" time provided. This could be …",
        );
        assert!(matches!(bounds, BackendError::OutOfBounds(_)), "{bounds:?}");
    }

    #[test]
    fn cancel_texts() {
        let cancel = |status, text| from_response(Op::Cancel, status, &HeaderMap::new(), &envelope(text));
        assert_eq!(
            cancel(400, "This booking has already been cancelled."),
            BackendError::AlreadyCancelled
        );
        assert_eq!(cancel(404, "Booking with uid=x not found"), BackendError::NotFound);
        assert!(matches!(
            cancel(400, "Cannot cancel a booking that has already ended"),
            BackendError::Rejected(_)
        ));
    }

    #[test]
    fn not_found_depends_on_the_call() {
        assert!(matches!(
            create(404, "Event type with id 4242 not found."),
            BackendError::UnknownCalendar(_)
        ));
        let slots = from_response(Op::Slots, 404, &HeaderMap::new(), &envelope("Event Type not found"));
        assert!(matches!(slots, BackendError::UnknownCalendar(_)));
        let route = from_response(Op::Slots, 404, &HeaderMap::new(), &envelope("Cannot GET /v2/slots?x=1"));
        assert!(matches!(route, BackendError::Unavailable(_)), "{route:?}");
        let get = from_response(Op::Get, 404, &HeaderMap::new(), b"");
        assert_eq!(get, BackendError::NotFound);
    }

    #[test]
    fn server_trouble_and_rate_limits() {
        let cloudflare = from_response(Op::Slots, 502, &HeaderMap::new(), b"error code: 502");
        assert_eq!(
            cloudflare,
            BackendError::Unavailable("HTTP 502: error code: 502".into())
        );
        assert!(cloudflare.counts_against_backend());
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-reset-default", HeaderValue::from_static("42"));
        assert_eq!(
            from_response(Op::Slots, 429, &headers, b"{}"),
            BackendError::RateLimited {
                retry_after: Some(Duration::from_secs(42))
            }
        );
        headers.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
    }

    #[test]
    fn validation_details_are_kept_short() {
        let body = serde_json::json!({"status": "error", "error": {"code": "BadRequestException",
            "message": "Bad Request Exception", "details": {"errors": [{"property": "attendee", "children": [
                {"property": "timeZone", "children": [], "constraints": {"isTimeZone": "timeZone must be a valid IANA time zone"}}]}]}}});
        let text = message(body.to_string().as_bytes());
        assert_eq!(
            text,
            "Bad Request Exception: attendee.timeZone: timeZone must be a valid IANA time zone"
        );
        assert!(message("x".repeat(1000).as_bytes()).chars().count() <= MAX_TEXT + 1);
    }
}
