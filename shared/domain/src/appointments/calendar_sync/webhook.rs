//! A Cal.com webhook as it arrives (`shared/reference/appointments.md` §1.7):
//! `{"triggerEvent","createdAt","payload":{…}}`. Trigger names are Cal.com's, upper case with
//! underscores (`BOOKING_CREATED`). The original accepted only dotted names (`BOOKING.CREATED`)
//! that Cal.com never sends, so every real delivery failed its validation; here a dotted name is
//! just another trigger we do not act on. Anything that is not a booking change (`PING`,
//! meetings, payments, forms, out-of-office, …) is acknowledged and ignored, its payload unread.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ids::{AppointmentId, CallId, CompanyId};

/// What a webhook is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// `BOOKING_CREATED`; also sent when the host confirms a requested booking.
    Created,
    /// `BOOKING_REQUESTED`: booked, waiting for the host's confirmation.
    Requested,
    /// `BOOKING_RESCHEDULED`: a new booking (new uid) replaced `rescheduleUid`.
    Rescheduled,
    Cancelled,
    /// `BOOKING_REJECTED`: the host declined a requested booking.
    Rejected,
    /// Not a booking change (`PING`, `MEETING_ENDED`, …): acknowledged, ignored.
    Other(String),
}

impl Trigger {
    pub fn parse(name: &str) -> Self {
        match name {
            "BOOKING_CREATED" => Trigger::Created,
            "BOOKING_REQUESTED" => Trigger::Requested,
            "BOOKING_RESCHEDULED" => Trigger::Rescheduled,
            "BOOKING_CANCELLED" => Trigger::Cancelled,
            "BOOKING_REJECTED" => Trigger::Rejected,
            other => Trigger::Other(other.to_string()),
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Trigger::Created => "BOOKING_CREATED",
            Trigger::Requested => "BOOKING_REQUESTED",
            Trigger::Rescheduled => "BOOKING_RESCHEDULED",
            Trigger::Cancelled => "BOOKING_CANCELLED",
            Trigger::Rejected => "BOOKING_REJECTED",
            Trigger::Other(name) => name,
        }
    }

    /// Whether it may change a booking we keep (or the free slots).
    pub fn is_booking_change(&self) -> bool {
        !matches!(self, Trigger::Other(_))
    }
}

/// A booking's state as Cal.com reports it (`payload.status`, upper case in webhooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalcomStatus {
    Accepted,
    Pending,
    Cancelled,
    Rejected,
    /// A state we do not act on (`AWAITING_HOST`, …).
    Other,
}

impl CalcomStatus {
    fn parse(text: &str) -> Self {
        match text.to_ascii_uppercase().as_str() {
            "ACCEPTED" => CalcomStatus::Accepted,
            "PENDING" => CalcomStatus::Pending,
            "CANCELLED" => CalcomStatus::Cancelled,
            "REJECTED" => CalcomStatus::Rejected,
            _ => CalcomStatus::Other,
        }
    }
}

/// Our ids in a booking's `metadata`: it was booked through the gateway (by `company_id`'s call).
/// Cal.com copies metadata to the new booking of a reschedule, so a staff move of one of our
/// bookings carries them too: they say who booked it, not who changed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurIds {
    pub company_id: CompanyId,
    pub appointment_id: AppointmentId,
    pub call_id: Option<CallId>,
}

/// What a booking webhook says about one booking.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingChange {
    pub uid: String,
    /// `rescheduleUid`: the booking a reschedule replaced (whose uid we may still hold).
    pub previous_uid: Option<String>,
    pub event_type_id: Option<u64>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub status: Option<CalcomStatus>,
    /// `cancellationReason` (cancelled) or `rejectionReason` (rejected), as staff wrote it.
    pub reason: Option<String>,
    pub ours: Option<OurIds>,
}

/// A parsed webhook. `booking` is there exactly for the booking triggers.
#[derive(Debug, Clone, PartialEq)]
pub struct CalcomWebhook {
    pub trigger: Trigger,
    /// `createdAt` as sent (part of the dedupe key, so kept as text).
    pub created_at: Option<String>,
    pub booking: Option<BookingChange>,
    /// Hex SHA-256 of the raw body: the dedupe key when `createdAt` is missing.
    body_sha256: String,
}

/// Why a body is not a Cal.com webhook we can read; `field` names the place (`payload.uid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct WebhookError {
    pub field: String,
    pub message: String,
}

impl WebhookError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    trigger_event: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    payload: Option<Value>,
}

/// The payload fields we read (`metadata` is read apart: its values may be of any type). Cal.com
/// sends many more (organizer, attendees, responses, …); personal data is never read here.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    reschedule_uid: Option<String>,
    #[serde(default)]
    event_type_id: Option<u64>,
    #[serde(default)]
    start_time: Option<String>,
    #[serde(default)]
    end_time: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    cancellation_reason: Option<String>,
    #[serde(default)]
    rejection_reason: Option<String>,
}

/// Deserializes with the failing field's path in the error (`payload.eventTypeId`).
fn typed<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, WebhookError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = match (prefix, path.as_str()) {
            (p, ".") => p.trim_end_matches('.').to_string(),
            (p, path) => format!("{p}{path}"),
        };
        WebhookError::new(
            if field.is_empty() { "body".into() } else { field },
            e.into_inner().to_string(),
        )
    })
}

fn instant(field: &str, text: Option<String>) -> Result<Option<DateTime<Utc>>, WebhookError> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| WebhookError::new(field, format!("'{t}' is not an ISO 8601 instant")))
    })
    .transpose()
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

/// Our ids, when the metadata carries them as strings (other values are ignored).
fn our_ids(metadata: Option<&Map<String, Value>>) -> Option<OurIds> {
    let metadata = metadata?;
    let text = |key: &str| {
        metadata
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    Some(OurIds {
        company_id: CompanyId::new(text("company_id")?),
        appointment_id: AppointmentId::new(text("appointment_id")?),
        call_id: text("call_id").map(CallId::new),
    })
}

impl CalcomWebhook {
    /// Reads a raw body. A booking trigger needs `payload.uid`; a reschedule also needs
    /// `rescheduleUid`, `startTime` and `endTime`. Other triggers need only `triggerEvent`.
    pub fn parse(body: &[u8]) -> Result<Self, WebhookError> {
        let json: Value = serde_json::from_slice(body)
            .map_err(|e| WebhookError::new("body", format!("not JSON ({e}); Cal.com sends application/json")))?;
        if !json.is_object() {
            return Err(WebhookError::new("body", "must be a JSON object"));
        }
        let envelope: Envelope = typed(json, "")?;
        let trigger = Trigger::parse(envelope.trigger_event.trim());
        let body_sha256 = hex::encode(Sha256::digest(body));
        let booking = match trigger.is_booking_change() {
            true => Some(Self::booking(&trigger, envelope.payload)?),
            false => None,
        };
        Ok(Self {
            trigger,
            created_at: non_empty(envelope.created_at),
            booking,
            body_sha256,
        })
    }

    fn booking(trigger: &Trigger, payload: Option<Value>) -> Result<BookingChange, WebhookError> {
        let payload = match payload {
            Some(p @ Value::Object(_)) => p,
            Some(_) => return Err(WebhookError::new("payload", "must be an object")),
            None => {
                return Err(WebhookError::new(
                    "payload",
                    format!("is required for {}", trigger.name()),
                ));
            }
        };
        let metadata = payload.get("metadata").and_then(Value::as_object).cloned();
        let p: Payload = typed(payload, "payload.")?;
        let required = |field: &str, value: Option<String>| {
            non_empty(value).ok_or_else(|| {
                WebhookError::new(
                    format!("payload.{field}"),
                    format!("is required for {}", trigger.name()),
                )
            })
        };
        let uid = required("uid", p.uid)?;
        let (previous_uid, start, end) = if *trigger == Trigger::Rescheduled {
            (
                Some(required("rescheduleUid", p.reschedule_uid)?),
                Some(required("startTime", p.start_time)?),
                Some(required("endTime", p.end_time)?),
            )
        } else {
            (
                non_empty(p.reschedule_uid),
                non_empty(p.start_time),
                non_empty(p.end_time),
            )
        };
        let start = instant("payload.startTime", start)?;
        let end = instant("payload.endTime", end)?;
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            return Err(WebhookError::new("payload.endTime", "must be after startTime"));
        }
        let reason = match trigger {
            Trigger::Rejected => non_empty(p.rejection_reason),
            _ => non_empty(p.cancellation_reason),
        };
        Ok(BookingChange {
            uid,
            previous_uid,
            event_type_id: p.event_type_id,
            start,
            end,
            status: p.status.as_deref().map(CalcomStatus::parse),
            reason,
            ours: our_ids(metadata.as_ref()),
        })
    }

    /// The dedupe key of a delivery: trigger, booking uid and `createdAt` (the same delivery sent
    /// again has all three; another change of the same booking has another `createdAt`), or the
    /// body's hash when `createdAt` is missing. `None` for triggers that change nothing.
    pub fn dedupe_key(&self) -> Option<String> {
        let booking = self.booking.as_ref()?;
        let when = self.created_at.as_deref().unwrap_or(&self.body_sha256);
        Some(format!("{}#{}#{when}", self.trigger.name(), booking.uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in fixture's raw webhook body (the shapes Cal.com sends, see its FIDELITY.md).
    fn fixture(name: &str) -> String {
        let text = match name {
            "created" => include_str!("../../../../../infra/calcom-standin/fixtures/webhook_booking_created.json"),
            "rescheduled" => {
                include_str!("../../../../../infra/calcom-standin/fixtures/webhook_booking_rescheduled.json")
            }
            _ => include_str!("../../../../../infra/calcom-standin/fixtures/webhook_booking_cancelled.json"),
        };
        let json: Value = serde_json::from_str(text).expect("fixture JSON");
        json["webhook"]["rawBody"].as_str().expect("rawBody").to_string()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("instant").with_timezone(&Utc)
    }

    #[test]
    fn the_stand_ins_reschedule_names_old_and_new_booking() {
        let hook = CalcomWebhook::parse(fixture("rescheduled").as_bytes()).expect("parses");
        assert_eq!(hook.trigger, Trigger::Rescheduled);
        assert_eq!(hook.created_at.as_deref(), Some("2026-03-01T12:00:00.000Z"));
        let b = hook.booking.as_ref().expect("a booking change");
        assert_eq!(b.uid, "rEorNSYoQxzKL7DnWCvBUW");
        assert_eq!(b.previous_uid.as_deref(), Some("FxBookedMon10h0000001a"));
        assert_eq!(b.event_type_id, Some(1001));
        assert_eq!(b.start, Some(utc("2026-03-03T13:00:00Z")));
        assert_eq!(b.end, Some(utc("2026-03-03T13:30:00Z")));
        assert_eq!(b.status, Some(CalcomStatus::Accepted));
        // The fixture's metadata has a call id only: not booked through the gateway.
        assert_eq!(b.ours, None);
        assert_eq!(
            hook.dedupe_key().as_deref(),
            Some("BOOKING_RESCHEDULED#rEorNSYoQxzKL7DnWCvBUW#2026-03-01T12:00:00.000Z")
        );
    }

    #[test]
    fn the_stand_ins_created_and_cancelled_parse() {
        let created = CalcomWebhook::parse(fixture("created").as_bytes()).expect("parses");
        assert_eq!(created.trigger, Trigger::Created);
        assert!(created.booking.as_ref().is_some_and(|b| !b.uid.is_empty()));
        let cancelled = CalcomWebhook::parse(fixture("cancelled").as_bytes()).expect("parses");
        assert_eq!(cancelled.trigger, Trigger::Cancelled);
        let b = cancelled.booking.expect("a booking change");
        assert_eq!(b.status, Some(CalcomStatus::Cancelled));
        assert!(b.reason.is_some(), "the cancellation reason is read");
    }

    /// The shape of §1.7 as Cal.com's own servers send it (offsets in times, our metadata, extra
    /// fields, a cancellation with reason and canceller).
    #[test]
    fn a_reference_cancellation_with_our_metadata() {
        let body = r#"{"triggerEvent":"BOOKING_CANCELLED","createdAt":"2026-12-02T08:15:03.120Z","payload":{
            "type":"beratung","title":"Beratung","startTime":"2026-12-03T10:00:00+01:00","endTime":"2026-12-03T10:30:00+01:00",
            "uid":"bK9x2mQ4nR7tV1wY3zA5cD","bookingId":4711,"eventTypeId":1001,"status":"CANCELLED",
            "organizer":{"name":"Dr. Weiss","email":"praxis@example.de"},"attendees":[{"name":"Jonas Weber","email":"jw@example.de"}],
            "metadata":{"company_id":"praxis","call_id":"call_1","appointment_id":"01J0APPT","booked_via":"service-gateway","videoCallUrl":"https://x"},
            "cancellationReason":"Praxis geschlossen","cancelledBy":"praxis@example.de"}}"#;
        let hook = CalcomWebhook::parse(body.as_bytes()).expect("parses");
        let b = hook.booking.expect("booking");
        assert_eq!(
            b.start,
            Some(utc("2026-12-03T09:00:00Z")),
            "offsets become UTC instants"
        );
        assert_eq!(b.reason.as_deref(), Some("Praxis geschlossen"));
        assert_eq!(
            b.ours,
            Some(OurIds {
                company_id: CompanyId::new("praxis"),
                appointment_id: AppointmentId::new("01J0APPT"),
                call_id: Some(CallId::new("call_1")),
            })
        );
    }

    #[test]
    fn ping_other_triggers_and_dotted_names_are_acknowledged_unread() {
        for body in [
            r#"{"triggerEvent":"PING","createdAt":"2026-12-02T08:00:00.000Z","payload":{"type":"Test","title":"Test trigger event"}}"#,
            r#"{"triggerEvent":"MEETING_ENDED","createdAt":"x","payload":{"uid":42}}"#,
            r#"{"triggerEvent":"BOOKING.CREATED","payload":"whatever"}"#,
        ] {
            let hook = CalcomWebhook::parse(body.as_bytes()).expect("parses");
            assert!(matches!(hook.trigger, Trigger::Other(_)), "{body}");
            assert_eq!(hook.booking, None);
            assert_eq!(hook.dedupe_key(), None);
        }
    }

    #[test]
    fn problems_name_their_field() {
        let cases = [
            ("not json", "body"),
            ("[1]", "body"),
            (r#"{"createdAt":"x"}"#, "body"),
            (r#"{"triggerEvent":"BOOKING_CANCELLED"}"#, "payload"),
            (
                r#"{"triggerEvent":"BOOKING_CANCELLED","payload":{"uid":" "}}"#,
                "payload.uid",
            ),
            (
                r#"{"triggerEvent":"BOOKING_CANCELLED","payload":{"uid":7}}"#,
                "payload.uid",
            ),
            (
                r#"{"triggerEvent":"BOOKING_CANCELLED","payload":{"uid":"u","eventTypeId":"abc"}}"#,
                "payload.eventTypeId",
            ),
            (
                r#"{"triggerEvent":"BOOKING_RESCHEDULED","payload":{"uid":"new","startTime":"2026-12-03T09:00:00Z","endTime":"2026-12-03T09:30:00Z"}}"#,
                "payload.rescheduleUid",
            ),
            (
                r#"{"triggerEvent":"BOOKING_RESCHEDULED","payload":{"uid":"new","rescheduleUid":"old","startTime":"morgen","endTime":"2026-12-03T09:30:00Z"}}"#,
                "payload.startTime",
            ),
            (
                r#"{"triggerEvent":"BOOKING_RESCHEDULED","payload":{"uid":"new","rescheduleUid":"old","startTime":"2026-12-03T09:30:00Z","endTime":"2026-12-03T09:00:00Z"}}"#,
                "payload.endTime",
            ),
        ];
        for (body, field) in cases {
            let err = CalcomWebhook::parse(body.as_bytes()).expect_err(body);
            assert_eq!(err.field, field, "{body}: {err}");
        }
        let missing = CalcomWebhook::parse(br#"{"createdAt":"x"}"#).expect_err("no trigger");
        assert!(missing.message.contains("triggerEvent"), "{missing}");
    }

    #[test]
    fn without_created_at_the_body_hash_dedupes() {
        let a = CalcomWebhook::parse(br#"{"triggerEvent":"BOOKING_CANCELLED","payload":{"uid":"u1"}}"#).unwrap();
        let b = CalcomWebhook::parse(br#"{"triggerEvent":"BOOKING_CANCELLED","payload":{"uid":"u1","x":1}}"#).unwrap();
        let (ka, kb) = (a.dedupe_key().unwrap(), b.dedupe_key().unwrap());
        assert!(ka.starts_with("BOOKING_CANCELLED#u1#") && ka.len() > 40, "{ka}");
        assert_ne!(ka, kb);
    }
}
