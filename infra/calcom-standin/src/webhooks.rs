//! Outgoing webhooks (§1.7): `{"triggerEvent","createdAt","payload"}` POSTed as JSON with
//! `X-Cal-Signature-256` = lower-case hex HMAC-SHA256(secret, exact body), or the literal
//! `no-secret-provided`. No timestamp in the signature, no redirects followed.
//! Deliveries go out one at a time from a worker task, in the order the events happened, and the
//! request that caused one answers only after it was delivered: Cal.com awaits its webhooks
//! (`handleCancelBooking` awaits `Promise.all` of `sendPayload` before it even marks the booking
//! cancelled; new and rescheduled bookings await `handleWebhookTrigger`), so the receiver hears of
//! a change before the API client that made it gets its answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot};

use crate::model::{Booking, BookingStatus};
use crate::state::lock;
use crate::time;

pub const SIGNATURE_HEADER: &str = "X-Cal-Signature-256";
pub const NO_SECRET: &str = "no-secret-provided";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    pub url: String,
    #[serde(default)]
    pub secret: Option<String>,
}

/// One attempted delivery, as sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub trigger: String,
    pub url: String,
    pub body: String,
    pub signature: String,
    pub status: Option<u16>,
    pub error: Option<String>,
}

pub enum Event<'a> {
    /// `BOOKING_CREATED`, or `BOOKING_REQUESTED` for a pending booking.
    Created(&'a Booking),
    Rescheduled {
        new: &'a Booking,
        old: &'a Booking,
    },
    Cancelled(&'a Booking),
}

impl Event<'_> {
    pub fn trigger(&self) -> &'static str {
        match self {
            Self::Created(b) if b.status == BookingStatus::Pending => "BOOKING_REQUESTED",
            Self::Created(_) => "BOOKING_CREATED",
            Self::Rescheduled { .. } => "BOOKING_RESCHEDULED",
            Self::Cancelled(_) => "BOOKING_CANCELLED",
        }
    }
}

/// `X-Cal-Signature-256` for a body.
pub fn sign(secret: Option<&str>, body: &[u8]) -> String {
    let Some(secret) = secret else {
        return NO_SECRET.into();
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a received signature (what a correct receiver does).
pub fn verify(secret: &str, body: &[u8], signature: &str) -> bool {
    let Ok(expected) = hex::decode(signature) else {
        return false;
    };
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Envelope<'a> {
    trigger_event: &'a str,
    created_at: String,
    payload: Value,
}

/// Webhook times are dayjs `.utc().format()`: seconds, no milliseconds.
fn webhook_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The exact body Cal.com would send for `event` (payload keys in alphabetical order).
pub fn body(event: &Event<'_>, created_at: DateTime<Utc>) -> String {
    let mut payload = match event {
        Event::Created(b) | Event::Cancelled(b) => payload(b),
        Event::Rescheduled { new, .. } => payload(new),
    };
    match event {
        Event::Rescheduled { old, new } => {
            payload.insert("rescheduleId".into(), json!(old.id));
            payload.insert("rescheduleUid".into(), json!(old.uid));
            payload.insert("rescheduleStartTime".into(), json!(webhook_time(old.start)));
            payload.insert("rescheduleEndTime".into(), json!(webhook_time(old.end)));
            payload.insert("rescheduledBy".into(), json!(new.rescheduled_by_email));
        }
        Event::Cancelled(b) => {
            payload.insert("cancellationReason".into(), json!(b.cancellation_reason));
            payload.insert("cancelledBy".into(), json!(b.cancelled_by_email));
        }
        Event::Created(_) => {}
    }
    let envelope = Envelope {
        trigger_event: event.trigger(),
        created_at: time::fmt_utc(created_at),
        payload: Value::Object(payload),
    };
    serde_json::to_string(&envelope).unwrap_or_default()
}

fn payload(b: &Booking) -> Map<String, Value> {
    let host_zone = time::parse_zone(&b.host.time_zone).unwrap_or(chrono_tz::UTC);
    let attendee_zone = time::parse_zone(&b.attendee.time_zone).unwrap_or(chrono_tz::UTC);
    let mut responses = Map::new();
    responses.insert("name".into(), json!({ "label": "your_name", "value": b.attendee.name }));
    if let Some(email) = &b.attendee.email {
        responses.insert("email".into(), json!({ "label": "email_address", "value": email }));
    }
    if let Some(phone) = &b.attendee.phone_number {
        responses.insert(
            "attendeePhoneNumber".into(),
            json!({ "label": "phone_number", "value": phone }),
        );
    }
    let mut attendee = json!({
        "name": b.attendee.name,
        "email": b.attendee.email.clone().unwrap_or_default(),
        "timeZone": b.attendee.time_zone,
        "language": { "locale": b.attendee.language },
        "utcOffset": time::utc_offset_minutes(attendee_zone, b.start),
    });
    if let (Some(phone), Some(map)) = (&b.attendee.phone_number, attendee.as_object_mut()) {
        map.insert("phoneNumber".into(), json!(phone));
    }
    let payload = json!({
        "type": b.event_type_slug,
        "title": b.title,
        "description": b.description.clone().unwrap_or_default(),
        "additionalNotes": "",
        "customInputs": {},
        "startTime": webhook_time(b.start),
        "endTime": webhook_time(b.end),
        "organizer": {
            "id": b.host.id,
            "name": b.host.name,
            "email": b.host.email,
            "username": b.host.username,
            "timeZone": b.host.time_zone,
            "language": { "locale": "en" },
            "timeFormat": "h:mma",
            "utcOffset": time::utc_offset_minutes(host_zone, b.start),
        },
        "responses": responses,
        "userFieldsResponses": {},
        "attendees": [attendee],
        "location": b.location,
        "eventTypeId": b.event_type_id,
        "uid": b.uid,
        "bookingId": b.id,
        "iCalUID": b.ics_uid,
        "metadata": b.metadata,
        "status": b.status.upper(),
        "requiresConfirmation": b.status == BookingStatus::Pending,
        "smsReminderNumber": Value::Null,
    });
    match payload {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

struct Job {
    url: String,
    trigger: &'static str,
    body: String,
    signature: String,
    /// Told when the delivery was attempted.
    done: oneshot::Sender<()>,
}

pub struct WebhookHub {
    config: Mutex<Option<WebhookConfig>>,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    sender: mpsc::UnboundedSender<Job>,
}

impl WebhookHub {
    /// The hub plus the worker future that performs deliveries (spawn it on the server's runtime).
    pub fn new() -> (Self, impl Future<Output = ()> + Send + 'static) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let deliveries = Arc::new(Mutex::new(Vec::new()));
        let hub = Self {
            config: Mutex::new(None),
            deliveries: deliveries.clone(),
            sender,
        };
        (hub, worker(receiver, deliveries))
    }

    pub fn configure(&self, config: Option<WebhookConfig>) {
        *lock(&self.config) = config;
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.deliveries).clone()
    }

    /// Queues the event if a subscriber is configured; the future ends once it was delivered
    /// (or failed). Await it before answering, as Cal.com does; it holds no lock.
    #[must_use = "Cal.com answers only after its webhooks were delivered: await it"]
    pub fn emit(&self, event: &Event<'_>, now: DateTime<Utc>) -> impl Future<Output = ()> + Send + 'static {
        let config = lock(&self.config).clone();
        let delivered = config.map(|config| {
            let body = body(event, now);
            let signature = sign(config.secret.as_deref(), body.as_bytes());
            let (done, delivered) = oneshot::channel();
            let _ = self.sender.send(Job {
                url: config.url,
                trigger: event.trigger(),
                body,
                signature,
                done,
            });
            delivered
        });
        async move {
            if let Some(delivered) = delivered {
                let _ = delivered.await;
            }
        }
    }
}

async fn worker(mut receiver: mpsc::UnboundedReceiver<Job>, deliveries: Arc<Mutex<Vec<Delivery>>>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build();
    while let Some(job) = receiver.recv().await {
        let outcome = match &client {
            Ok(client) => client
                .post(&job.url)
                .header("Content-Type", "application/json")
                .header(SIGNATURE_HEADER, &job.signature)
                .body(job.body.clone())
                .send()
                .await
                .map(|r| r.status().as_u16())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        lock(&deliveries).push(Delivery {
            trigger: job.trigger.into(),
            url: job.url,
            body: job.body,
            signature: job.signature,
            status: outcome.as_ref().ok().copied(),
            error: outcome.err(),
        });
        let _ = job.done.send(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_lower_hex_hmac_of_the_body() {
        let signature = sign(Some("whsec"), b"{\"a\":1}");
        assert_eq!(signature.len(), 64);
        assert!(signature.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert!(verify("whsec", b"{\"a\":1}", &signature));
        assert!(!verify("whsec", b"{\"a\":2}", &signature));
        assert_eq!(sign(None, b"x"), NO_SECRET);
    }
}
