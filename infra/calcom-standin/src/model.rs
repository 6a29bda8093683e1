//! What the stand-in stores: event types (with the owner's schedule), bookings and slot reservations.

use chrono::{DateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time;

/// The host (Cal.com user) who owns an event type; busy time is per host, across all their event types.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Host {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub username: String,
    pub time_zone: String,
}

impl Default for Host {
    fn default() -> Self {
        Self {
            id: 1,
            name: "Jane Owner".into(),
            email: "owner@example.com".into(),
            username: "owner".into(),
            time_zone: "Europe/Berlin".into(),
        }
    }
}

/// One availability rule of the host's schedule, like Cal.com's `{days, startTime, endTime}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkingHours {
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl WorkingHours {
    pub fn new(days: &[Weekday], start: (u32, u32), end: (u32, u32)) -> Self {
        Self {
            days: days.to_vec(),
            start: hm(start),
            end: hm(end),
        }
    }
}

fn hm((h, m): (u32, u32)) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

pub const WEEKDAYS: [Weekday; 5] = [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri];

/// An event type plus the booking rules Cal.com applies to it. Defaults mirror a fresh Cal.com account:
/// Mon–Fri 09:00–17:00 in the schedule's zone, no notice, no horizon, slot interval = length, no buffers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventType {
    pub id: i64,
    pub slug: String,
    #[serde(default)]
    pub title: String,
    pub length_in_minutes: u32,
    /// Non-empty = multi-length event type (`lengthInMinutes`/`duration` allowed, must be one of these).
    #[serde(default)]
    pub length_options: Vec<u32>,
    #[serde(default)]
    pub host: Host,
    /// IANA zone of the availability schedule.
    #[serde(default = "default_zone")]
    pub time_zone: String,
    #[serde(default = "default_hours")]
    pub working_hours: Vec<WorkingHours>,
    #[serde(default)]
    pub minimum_notice_minutes: u32,
    /// Rolling window: bookable up to the end of (today + N days) in the schedule's zone.
    #[serde(default)]
    pub booking_horizon_days: Option<u32>,
    #[serde(default)]
    pub slot_interval_minutes: Option<u32>,
    #[serde(default)]
    pub before_buffer_minutes: u32,
    #[serde(default)]
    pub after_buffer_minutes: u32,
    /// Bookings start as `pending` (and the webhook is `BOOKING_REQUESTED`).
    #[serde(default)]
    pub requires_confirmation: bool,
    #[serde(default)]
    pub location: Option<String>,
    /// Non-empty = a managed *parent*: it has no hosts of its own; clients must use these per-host child ids.
    #[serde(default)]
    pub managed_children: Vec<i64>,
}

fn default_zone() -> String {
    "Europe/Berlin".into()
}

fn default_hours() -> Vec<WorkingHours> {
    vec![WorkingHours::new(&WEEKDAYS, (9, 0), (17, 0))]
}

impl EventType {
    pub fn new(id: i64, slug: &str, length_in_minutes: u32) -> Self {
        Self {
            id,
            slug: slug.into(),
            title: format!("{length_in_minutes} Min Meeting"),
            length_in_minutes,
            length_options: Vec::new(),
            host: Host::default(),
            time_zone: default_zone(),
            working_hours: default_hours(),
            minimum_notice_minutes: 0,
            booking_horizon_days: None,
            slot_interval_minutes: None,
            before_buffer_minutes: 0,
            after_buffer_minutes: 0,
            requires_confirmation: false,
            location: None,
            managed_children: Vec::new(),
        }
    }

    pub fn titled(mut self, title: &str) -> Self {
        self.title = title.into();
        self
    }

    pub fn in_zone(mut self, zone: &str) -> Self {
        self.time_zone = zone.into();
        self
    }

    /// Replaces the whole schedule with one rule.
    pub fn with_hours(mut self, days: &[Weekday], start: (u32, u32), end: (u32, u32)) -> Self {
        self.working_hours = vec![WorkingHours::new(days, start, end)];
        self
    }

    /// Adds a rule (e.g. a second block after a lunch break).
    pub fn add_hours(mut self, days: &[Weekday], start: (u32, u32), end: (u32, u32)) -> Self {
        self.working_hours.push(WorkingHours::new(days, start, end));
        self
    }

    pub fn with_host(mut self, host: Host) -> Self {
        self.host = host;
        self
    }

    pub fn with_notice(mut self, minutes: u32) -> Self {
        self.minimum_notice_minutes = minutes;
        self
    }

    pub fn with_horizon_days(mut self, days: u32) -> Self {
        self.booking_horizon_days = Some(days);
        self
    }

    pub fn with_interval(mut self, minutes: u32) -> Self {
        self.slot_interval_minutes = Some(minutes);
        self
    }

    pub fn with_buffers(mut self, before: u32, after: u32) -> Self {
        self.before_buffer_minutes = before;
        self.after_buffer_minutes = after;
        self
    }

    pub fn with_lengths(mut self, options: &[u32]) -> Self {
        self.length_options = options.to_vec();
        self
    }

    pub fn requiring_confirmation(mut self) -> Self {
        self.requires_confirmation = true;
        self
    }

    pub fn with_location(mut self, location: &str) -> Self {
        self.location = Some(location.into());
        self
    }

    pub fn managed_parent_of(mut self, children: &[i64]) -> Self {
        self.managed_children = children.to_vec();
        self
    }

    pub fn zone(&self) -> Tz {
        time::parse_zone(&self.time_zone).unwrap_or(Tz::UTC)
    }

    pub fn is_multi_length(&self) -> bool {
        !self.length_options.is_empty()
    }

    pub fn interval_minutes(&self, length: u32) -> u32 {
        self.slot_interval_minutes.unwrap_or(length).max(1)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BookingStatus {
    Accepted,
    Pending,
    Cancelled,
    Rejected,
}

impl BookingStatus {
    /// Accepted and pending bookings block the host's time.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Accepted | Self::Pending)
    }

    /// Webhook payloads use the database enum spelling.
    pub fn upper(self) -> &'static str {
        match self {
            Self::Accepted => "ACCEPTED",
            Self::Pending => "PENDING",
            Self::Cancelled => "CANCELLED",
            Self::Rejected => "REJECTED",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attendee {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    pub time_zone: String,
    #[serde(default = "default_language")]
    pub language: String,
}

fn default_language() -> String {
    "en".into()
}

/// Who wrote a booking: through the API, the seed, or the stand-in itself playing "someone else".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    Api,
    Seed,
    Foreign,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub id: u64,
    pub uid: String,
    pub event_type_id: i64,
    pub event_type_slug: String,
    pub host: Host,
    pub title: String,
    pub description: Option<String>,
    pub status: BookingStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub attendee: Attendee,
    pub guests: Vec<String>,
    pub location: Option<String>,
    pub metadata: Map<String, Value>,
    pub booking_fields_responses: Map<String, Value>,
    pub ics_uid: String,
    pub cancellation_reason: Option<String>,
    pub cancelled_by_email: Option<String>,
    pub rescheduling_reason: Option<String>,
    pub rescheduled_by_email: Option<String>,
    pub rescheduled_from_uid: Option<String>,
    pub rescheduled_to_uid: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Buffers of the event type at booking time; they widen the busy block.
    pub before_buffer_minutes: u32,
    pub after_buffer_minutes: u32,
    pub origin: Origin,
}

impl Booking {
    pub fn duration_minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    /// `BookingOutput_2024_08_13` in Cal.com's field order (serialised directly: a `Value` would sort keys);
    /// optional fields are left out when unset, as class-transformer drops undefined.
    pub fn to_output(&self) -> BookingOutput<'_> {
        BookingOutput {
            id: self.id,
            uid: &self.uid,
            title: &self.title,
            description: self.description.as_deref().unwrap_or(""),
            hosts: vec![HostOutput {
                id: self.host.id,
                name: &self.host.name,
                email: &self.host.email,
                username: &self.host.username,
                time_zone: &self.host.time_zone,
            }],
            status: self.status,
            cancellation_reason: self.cancellation_reason.as_deref(),
            cancelled_by_email: self.cancelled_by_email.as_deref(),
            rescheduling_reason: self.rescheduling_reason.as_deref(),
            rescheduled_by_email: self.rescheduled_by_email.as_deref(),
            rescheduled_from_uid: self.rescheduled_from_uid.as_deref(),
            rescheduled_to_uid: self.rescheduled_to_uid.as_deref(),
            start: time::fmt_utc(self.start),
            end: time::fmt_utc(self.end),
            duration: self.duration_minutes(),
            event_type_id: self.event_type_id,
            event_type: EventTypeRef {
                id: self.event_type_id,
                slug: &self.event_type_slug,
            },
            // Deprecated field; Cal.com fills it for video/link locations only (our reading).
            meeting_url: self.location.as_deref().filter(|l| l.starts_with("http")),
            location: self.location.as_deref(),
            absent_host: false,
            created_at: time::fmt_utc(self.created_at),
            updated_at: time::fmt_utc(self.updated_at),
            metadata: &self.metadata,
            ics_uid: &self.ics_uid,
            attendees: vec![AttendeeOutput {
                name: &self.attendee.name,
                email: self.attendee.email.as_deref(),
                phone_number: self.attendee.phone_number.as_deref(),
                time_zone: &self.attendee.time_zone,
                language: &self.attendee.language,
                absent: false,
            }],
            guests: &self.guests,
            booking_fields_responses: &self.booking_fields_responses,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BookingOutput<'a> {
    id: u64,
    uid: &'a str,
    title: &'a str,
    description: &'a str,
    hosts: Vec<HostOutput<'a>>,
    status: BookingStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancellation_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancelled_by_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rescheduling_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rescheduled_by_email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rescheduled_from_uid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rescheduled_to_uid: Option<&'a str>,
    start: String,
    end: String,
    duration: i64,
    event_type_id: i64,
    event_type: EventTypeRef<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meeting_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    absent_host: bool,
    created_at: String,
    updated_at: String,
    metadata: &'a Map<String, Value>,
    ics_uid: &'a str,
    attendees: Vec<AttendeeOutput<'a>>,
    guests: &'a [String],
    booking_fields_responses: &'a Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HostOutput<'a> {
    id: i64,
    name: &'a str,
    email: &'a str,
    username: &'a str,
    time_zone: &'a str,
}

#[derive(Serialize)]
struct EventTypeRef<'a> {
    id: i64,
    slug: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AttendeeOutput<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    phone_number: Option<&'a str>,
    time_zone: &'a str,
    language: &'a str,
    absent: bool,
}

/// A slot hold from `POST /v2/slots/reservations`; blocks the host's time for everybody until `until`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub uid: String,
    pub event_type_id: i64,
    pub host_id: i64,
    pub slot_start: DateTime<Utc>,
    pub slot_end: DateTime<Utc>,
    pub reservation_duration_minutes: u32,
    pub until: DateTime<Utc>,
}

impl Reservation {
    /// `ReserveSlotOutput_2024_09_04`, fields in Cal.com's order.
    pub fn to_output(&self) -> ReservationOutput<'_> {
        ReservationOutput {
            event_type_id: self.event_type_id,
            slot_start: time::fmt_utc(self.slot_start),
            slot_end: time::fmt_utc(self.slot_end),
            slot_duration: (self.slot_end - self.slot_start).num_minutes(),
            reservation_uid: &self.uid,
            reservation_duration: self.reservation_duration_minutes,
            reservation_until: time::fmt_utc(self.until),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationOutput<'a> {
    event_type_id: i64,
    slot_start: String,
    slot_end: String,
    slot_duration: i64,
    reservation_uid: &'a str,
    reservation_duration: u32,
    reservation_until: String,
}
