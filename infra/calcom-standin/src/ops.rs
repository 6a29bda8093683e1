//! The stateful operations: create, cancel, reschedule, reserve. Each runs under the store lock, checks
//! in Cal.com's order and writes, so the answer and the state always agree.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::availability;
use crate::errors::{ApiError, texts};
use crate::model::{Attendee, Booking, BookingStatus, EventType, Origin, Reservation};
use crate::state::{Idempotency, Store, new_booking_uid, new_uuid};

/// How the request names its event type.
#[derive(Clone, Debug)]
pub enum EventTypeRef {
    Id(i64),
    Slug { slug: String, username: String },
}

#[derive(Clone, Debug)]
pub struct NewBooking {
    pub event_type: EventTypeRef,
    pub start: DateTime<Utc>,
    pub length_in_minutes: Option<u32>,
    pub attendee: Attendee,
    pub guests: Vec<String>,
    pub location: Option<String>,
    pub metadata: Map<String, Value>,
    pub booking_fields_responses: Map<String, Value>,
    pub reserved_slot_uid: Option<String>,
    /// 2026 owner flags; the route only sets them for an authenticated (owner) key.
    pub allow_conflicts: bool,
    pub allow_out_of_bounds: bool,
}

pub enum Created {
    New(Booking),
    /// Cal.com's own dedupe answered with a booking that already existed.
    Existing(Booking),
}

#[derive(Clone, Debug)]
pub struct NewReservation {
    pub event_type_id: i64,
    pub slot_start: DateTime<Utc>,
    pub slot_duration: Option<u32>,
    pub reservation_minutes: u32,
}

/// A booking put in place before the test (seed file or `Running::seed_booking`), checks skipped.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedBooking {
    #[serde(default)]
    pub uid: Option<String>,
    pub event_type_id: i64,
    pub start: DateTime<Utc>,
    #[serde(default)]
    pub length_in_minutes: Option<u32>,
    pub attendee: Attendee,
    #[serde(default)]
    pub status: Option<BookingStatus>,
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

/// A reservation put in place before the test.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedReservation {
    pub uid: String,
    pub event_type_id: i64,
    pub slot_start: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl Store {
    fn resolve(&self, reference: &EventTypeRef) -> Result<EventType, ApiError> {
        match reference {
            EventTypeRef::Id(id) => self
                .event_type(*id)
                .cloned()
                .ok_or_else(|| ApiError::not_found(texts::event_type_not_found(*id))),
            EventTypeRef::Slug { slug, username } => self
                .event_type_by_slug(slug, username)
                .cloned()
                .ok_or_else(|| ApiError::not_found(format!("Event type with slug {slug} not found."))),
        }
    }

    /// "First in line" wins: the oldest active reservation overlapping the slot must be the caller's.
    fn check_reservation(
        &self,
        et: &EventType,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        own: Option<&str>,
    ) -> Result<(), ApiError> {
        match availability::reservations_overlapping(self, et, start, end).next() {
            Some(first) if Some(first.uid.as_str()) != own => {
                let millis = (first.until - self.now()).num_milliseconds().max(0);
                Err(ApiError::bad_request(texts::someone_else_reserved(
                    (millis + 999) / 1000,
                )))
            }
            _ => Ok(()),
        }
    }

    fn check_time(&self, et: &EventType, start: DateTime<Utc>, allow_out_of_bounds: bool) -> Result<(), ApiError> {
        let now = self.now();
        if start < now {
            return Err(ApiError::bad_request(texts::IN_PAST));
        }
        if !allow_out_of_bounds && !availability::in_bounds(et, start, now) {
            return Err(ApiError::bad_request(texts::OUT_OF_BOUNDS));
        }
        Ok(())
    }

    fn check_free(
        &self,
        et: &EventType,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        ignore: Option<&str>,
        allow_conflicts: bool,
    ) -> Result<(), ApiError> {
        if !et.managed_children.is_empty() {
            // A managed parent has no hosts of its own (seed-system RCA 2025-11-24: parent id → 400).
            return Err(ApiError::bad_request(texts::SLOT_TAKEN));
        }
        if allow_conflicts {
            return Ok(());
        }
        if !availability::within_hours(et, start, end) || availability::host_busy(self, et, start, end, ignore) {
            return Err(ApiError::bad_request(texts::SLOT_TAKEN));
        }
        Ok(())
    }

    fn replay_candidate(&self, et: &EventType, start: DateTime<Utc>, attendee: &Attendee) -> Option<&Booking> {
        let same_person = |b: &Booking| match (&attendee.email, &attendee.phone_number) {
            (Some(email), _) if b.attendee.email.as_ref().is_some_and(|e| e.eq_ignore_ascii_case(email)) => true,
            (_, Some(phone)) => b.attendee.phone_number.as_ref() == Some(phone),
            _ => false,
        };
        let active_here = |b: &&Booking| b.status.is_active() && b.start == start;
        match self.idempotency {
            Idempotency::Off => None,
            Idempotency::SameAttendee => self
                .bookings
                .iter()
                .filter(active_here)
                .find(|b| b.event_type_id == et.id && same_person(b)),
            Idempotency::SameSlot => self
                .bookings
                .iter()
                .filter(active_here)
                .find(|b| b.host.id == et.host.id),
        }
    }

    pub fn create_booking(&mut self, input: NewBooking) -> Result<Created, ApiError> {
        self.purge_expired_reservations();
        let et = self.resolve(&input.event_type)?;
        let length = match input.length_in_minutes {
            None => et.length_in_minutes,
            Some(_) if !et.is_multi_length() => return Err(ApiError::bad_request(texts::LENGTH_NOT_ALLOWED)),
            Some(length) if et.length_options.contains(&length) => length,
            Some(length) => {
                return Err(ApiError::bad_request(format!(
                    "Provided 'lengthInMinutes' {length} is not one of the possible lengths {:?} of the event type.",
                    et.length_options
                )));
            }
        };
        let start = input.start;
        let end = start + Duration::minutes(i64::from(length));

        self.check_reservation(&et, start, end, input.reserved_slot_uid.as_deref())?;
        self.check_time(&et, start, input.allow_out_of_bounds)?;
        // Cal.com looks for an existing booking of the same attendee before the availability check.
        if let Some(existing) = self.replay_candidate(&et, start, &input.attendee) {
            return Ok(Created::Existing(existing.clone()));
        }
        self.check_free(&et, start, end, None, input.allow_conflicts)?;

        if let Some(own) = input.reserved_slot_uid.as_deref() {
            self.reservations.retain(|r| r.uid != own);
        }
        let booking = self.new_booking(&et, (start, end), input.attendee, |b| {
            b.guests = input.guests;
            b.location = input.location.or_else(|| et.location.clone());
            b.metadata = input.metadata;
            b.booking_fields_responses.extend(input.booking_fields_responses);
        });
        Ok(Created::New(booking))
    }

    /// Builds, stores and returns a booking with Cal.com's defaults (title, ics uid, field responses);
    /// `customise` sets whatever differs (status, origin, reschedule links…).
    fn new_booking(
        &mut self,
        et: &EventType,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        attendee: Attendee,
        customise: impl FnOnce(&mut Booking),
    ) -> Booking {
        let now = self.now();
        let mut responses = Map::new();
        responses.insert("name".into(), json!(attendee.name));
        if let Some(email) = &attendee.email {
            responses.insert("email".into(), json!(email));
        }
        if let Some(phone) = &attendee.phone_number {
            responses.insert("attendeePhoneNumber".into(), json!(phone));
        }
        let mut booking = Booking {
            id: self.next_booking_id(),
            uid: new_booking_uid(),
            event_type_id: et.id,
            event_type_slug: et.slug.clone(),
            host: et.host.clone(),
            title: format!("{} between {} and {}", et.title, et.host.name, attendee.name),
            description: None,
            status: if et.requires_confirmation {
                BookingStatus::Pending
            } else {
                BookingStatus::Accepted
            },
            start,
            end,
            attendee,
            guests: Vec::new(),
            location: et.location.clone(),
            metadata: Map::new(),
            booking_fields_responses: responses,
            ics_uid: format!("{}@Cal.com", new_uuid()),
            cancellation_reason: None,
            cancelled_by_email: None,
            rescheduling_reason: None,
            rescheduled_by_email: None,
            rescheduled_from_uid: None,
            rescheduled_to_uid: None,
            created_at: now,
            updated_at: now,
            before_buffer_minutes: et.before_buffer_minutes,
            after_buffer_minutes: et.after_buffer_minutes,
            origin: Origin::Api,
        };
        customise(&mut booking);
        let guests = json!(booking.guests);
        booking.booking_fields_responses.entry("guests").or_insert(guests);
        self.bookings.push(booking.clone());
        booking
    }

    pub fn cancel_booking(
        &mut self,
        uid: &str,
        reason: Option<String>,
        cancelled_by: Option<String>,
    ) -> Result<Booking, ApiError> {
        let now = self.now();
        let booking = self
            .booking_mut(uid)
            .ok_or_else(|| ApiError::not_found(texts::booking_not_found(uid)))?;
        if !booking.status.is_active() {
            return Err(ApiError::bad_request(texts::ALREADY_CANCELLED));
        }
        if booking.end <= now {
            return Err(ApiError::bad_request(texts::CANCEL_ENDED));
        }
        booking.status = BookingStatus::Cancelled;
        booking.cancellation_reason = reason;
        booking.cancelled_by_email = cancelled_by;
        booking.updated_at = now;
        Ok(booking.clone())
    }

    /// New booking with a new uid at `start`; the old one is cancelled and points to it.
    /// Returns `(new, old)`.
    pub fn reschedule_booking(
        &mut self,
        uid: &str,
        start: DateTime<Utc>,
        rescheduled_by: Option<String>,
        reason: Option<String>,
    ) -> Result<(Booking, Booking), ApiError> {
        self.purge_expired_reservations();
        let old = self
            .booking(uid)
            .cloned()
            .ok_or_else(|| ApiError::not_found(texts::reschedule_not_found(uid)))?;
        if !old.status.is_active() {
            return Err(ApiError::bad_request(texts::RESCHEDULE_CANCELLED));
        }
        let et = self.resolve(&EventTypeRef::Id(old.event_type_id))?;
        let end = start + (old.end - old.start);
        self.check_reservation(&et, start, end, None)?;
        self.check_time(&et, start, false)?;
        self.check_free(&et, start, end, Some(uid), false)?;

        let by_owner = rescheduled_by
            .as_deref()
            .is_some_and(|by| by.eq_ignore_ascii_case(&et.host.email));
        let status = if et.requires_confirmation && !by_owner {
            BookingStatus::Pending
        } else {
            BookingStatus::Accepted
        };
        let new = self.new_booking(&et, (start, end), old.attendee.clone(), |b| {
            b.status = status;
            b.guests = old.guests.clone();
            b.location = old.location.clone();
            b.metadata = old.metadata.clone();
            b.booking_fields_responses = old.booking_fields_responses.clone();
            b.rescheduled_from_uid = Some(old.uid.clone());
            b.rescheduling_reason = reason.clone();
            b.rescheduled_by_email = rescheduled_by.clone();
        });
        let now = self.now();
        let old = match self.booking_mut(uid) {
            Some(old) => {
                old.status = BookingStatus::Cancelled;
                old.rescheduled_to_uid = Some(new.uid.clone());
                old.rescheduling_reason = reason;
                old.rescheduled_by_email = rescheduled_by;
                old.updated_at = now;
                old.clone()
            }
            None => old,
        };
        Ok((new, old))
    }

    /// "Someone else" books `start` first (the slot-taken-after-offer fault). `None` if already busy.
    pub fn insert_foreign_booking(&mut self, event_type_id: i64, start: DateTime<Utc>) -> Option<Booking> {
        let et = self.event_type(event_type_id)?.clone();
        let end = start + Duration::minutes(i64::from(et.length_in_minutes));
        if availability::host_busy(self, &et, start, end, None) {
            return None;
        }
        let attendee = Attendee {
            name: "Someone Else".into(),
            email: Some("someone.else@example.net".into()),
            phone_number: None,
            time_zone: et.time_zone.clone(),
            language: "en".into(),
        };
        Some(self.new_booking(&et, (start, end), attendee, |b| b.origin = Origin::Foreign))
    }

    pub fn seed_booking(&mut self, seed: SeedBooking) -> Result<Booking, String> {
        let et = self
            .event_type(seed.event_type_id)
            .cloned()
            .ok_or(format!("unknown event type {}", seed.event_type_id))?;
        if let Some(uid) = &seed.uid
            && self.booking(uid).is_some()
        {
            return Err(format!("duplicate booking uid {uid}"));
        }
        let length = seed.length_in_minutes.unwrap_or(et.length_in_minutes);
        let end = seed.start + Duration::minutes(i64::from(length));
        Ok(self.new_booking(&et, (seed.start, end), seed.attendee, |b| {
            b.status = seed.status.unwrap_or(BookingStatus::Accepted);
            b.origin = Origin::Seed;
            if let Some(uid) = seed.uid {
                b.uid = uid;
            }
            if let Some(created) = seed.created_at {
                b.created_at = created;
                b.updated_at = created;
            }
            b.cancellation_reason = seed.cancellation_reason;
            b.metadata = seed.metadata;
        }))
    }

    pub fn seed_reservation(&mut self, seed: SeedReservation) -> Result<Reservation, String> {
        let et = self
            .event_type(seed.event_type_id)
            .cloned()
            .ok_or(format!("unknown event type {}", seed.event_type_id))?;
        let reservation = Reservation {
            uid: seed.uid,
            event_type_id: et.id,
            host_id: et.host.id,
            slot_start: seed.slot_start,
            slot_end: seed.slot_start + Duration::minutes(i64::from(et.length_in_minutes)),
            reservation_duration_minutes: ((seed.until - self.now()).num_minutes().max(0)) as u32,
            until: seed.until,
        };
        self.reservations.push(reservation.clone());
        Ok(reservation)
    }

    fn reservation_slot(&self, input: &NewReservation) -> Result<(EventType, DateTime<Utc>), ApiError> {
        let et = self
            .event_type(input.event_type_id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(texts::reserve_event_type_not_found(input.event_type_id)))?;
        let length = match input.slot_duration {
            Some(length) if et.is_multi_length() && et.length_options.contains(&length) => length,
            Some(length) if et.is_multi_length() => {
                return Err(ApiError::bad_request(format!(
                    "Provided slotDuration {length} is not one of the possible lengths {:?} of the event type.",
                    et.length_options
                )));
            }
            _ => et.length_in_minutes,
        };
        let end = input.slot_start + Duration::minutes(i64::from(length));
        if availability::host_busy(self, &et, input.slot_start, end, None) {
            return Err(ApiError::unprocessable(texts::RESERVE_BOOKED));
        }
        Ok((et, end))
    }

    pub fn reserve(&mut self, input: NewReservation) -> Result<Reservation, ApiError> {
        self.purge_expired_reservations();
        let (et, end) = self.reservation_slot(&input)?;
        let reservation = Reservation {
            uid: new_uuid(),
            event_type_id: et.id,
            host_id: et.host.id,
            slot_start: input.slot_start,
            slot_end: end,
            reservation_duration_minutes: input.reservation_minutes,
            until: self.now() + Duration::minutes(i64::from(input.reservation_minutes)),
        };
        self.reservations.push(reservation.clone());
        Ok(reservation)
    }

    pub fn reservation(&mut self, uid: &str) -> Result<Reservation, ApiError> {
        self.purge_expired_reservations();
        self.reservations
            .iter()
            .find(|r| r.uid == uid)
            .cloned()
            .ok_or_else(|| ApiError::not_found(texts::reservation_not_found(uid)))
    }

    pub fn update_reservation(&mut self, uid: &str, input: NewReservation) -> Result<Reservation, ApiError> {
        self.reservation(uid)?;
        let (et, end) = self.reservation_slot(&input)?;
        let until = self.now() + Duration::minutes(i64::from(input.reservation_minutes));
        let reservation = self
            .reservations
            .iter_mut()
            .find(|r| r.uid == uid)
            .ok_or_else(|| ApiError::not_found(texts::reservation_not_found(uid)))?;
        reservation.event_type_id = et.id;
        reservation.host_id = et.host.id;
        reservation.slot_start = input.slot_start;
        reservation.slot_end = end;
        reservation.reservation_duration_minutes = input.reservation_minutes;
        reservation.until = until;
        Ok(reservation.clone())
    }

    pub fn delete_reservation(&mut self, uid: &str) -> Result<(), ApiError> {
        self.reservation(uid)?;
        self.reservations.retain(|r| r.uid != uid);
        Ok(())
    }
}
