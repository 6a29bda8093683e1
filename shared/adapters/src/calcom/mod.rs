//! The Cal.com API v2 adapter of the `CalendarBackend` port (`shared/reference/appointments.md` §1).
//!
//! - One request per port call (slots for a whole range in one `GET /v2/slots?format=range`), no
//!   retries and no sleeps here: the engine decides what to do with an error.
//! - Every request is capped by the call's [`Deadline`] and by its endpoint's budget
//!   ([`SLOTS_BUDGET`], [`RESERVATIONS_BUDGET`], [`BOOKINGS_BUDGET`]).
//! - A company's base URL is tenant data: the SSRF-guarded client and [`check_url`] apply to it.
//! - The API key is sent as `Authorization: Bearer …` (marked sensitive) and never appears in an
//!   error, a log line or `Debug`.
//! - Times go out as UTC instants (`…Z`); slot bounds are explicit instants, never dates (a date
//!   means a UTC day to Cal.com, wrong edges for Berlin).
//! - A created booking is trusted only if it is for the attendee we sent (name, and phone/e-mail
//!   where given), at the start we asked, not carrying another call's ids: Cal.com's own
//!   idempotency returns an existing booking (another caller's) for the same start and host.
//! - A timeout on a write means "outcome unknown" (the booking may exist): `Timeout`, never
//!   success or `Taken`; the engine reconciles.

pub mod errors;
pub mod versions;
pub mod wire;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::TimeDelta;
use gateway_domain::appointments::backend::{
    Attendee, BackendBooking, BackendError, BackendStatus, BookingRequest, CalendarBackend, CalendarRef, Reservation,
    SlotQuery,
};
use gateway_domain::appointments::calendar::slots::Slot;
use gateway_domain::appointments::setup::CalComAccount;
use gateway_domain::deadline::Deadline;
use gateway_domain::ssrf::{UrlPolicy, check_url};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::http::{Budget, ClientBuildError, blocked_address, guarded_client};
use errors::Op;
use versions::EndpointGroup;
use wire::{BookingOut, Envelope};

/// `GET /v2/slots`: the caller waits while the agent looks for times.
pub const SLOTS_BUDGET: Duration = Duration::from_secs(2);
/// Reserving and releasing a slot: on the same hot path as the slot search.
pub const RESERVATIONS_BUDGET: Duration = Duration::from_secs(2);
/// Create, get, cancel, reschedule.
pub const BOOKINGS_BUDGET: Duration = Duration::from_secs(6);

/// The client's own limits; each request is capped further by its budget and the deadline.
const CLIENT_BUDGET: Budget = Budget {
    connect: Duration::from_secs(2),
    read: BOOKINGS_BUDGET,
    total: BOOKINGS_BUDGET,
};

/// Below this much time left a request is not started: it could not finish.
const MIN_REQUEST_TIME: Duration = Duration::from_millis(100);

/// One endpoint: how its answers are read, its pinned version, its method and budget.
struct Endpoint {
    op: Op,
    method: Method,
    group: EndpointGroup,
    budget: Duration,
}

const SLOTS: Endpoint = Endpoint {
    op: Op::Slots,
    method: Method::GET,
    group: EndpointGroup::Slots,
    budget: SLOTS_BUDGET,
};
const RESERVE: Endpoint = Endpoint {
    op: Op::Reserve,
    method: Method::POST,
    group: EndpointGroup::Reservations,
    budget: RESERVATIONS_BUDGET,
};
const RELEASE: Endpoint = Endpoint {
    op: Op::Release,
    method: Method::DELETE,
    group: EndpointGroup::Reservations,
    budget: RESERVATIONS_BUDGET,
};
const CREATE: Endpoint = Endpoint {
    op: Op::Create,
    method: Method::POST,
    group: EndpointGroup::CreateBooking,
    budget: BOOKINGS_BUDGET,
};
const GET: Endpoint = Endpoint {
    op: Op::Get,
    method: Method::GET,
    group: EndpointGroup::GetBooking,
    budget: BOOKINGS_BUDGET,
};
const CANCEL: Endpoint = Endpoint {
    op: Op::Cancel,
    method: Method::POST,
    group: EndpointGroup::CancelBooking,
    budget: BOOKINGS_BUDGET,
};
const RESCHEDULE: Endpoint = Endpoint {
    op: Op::Reschedule,
    method: Method::POST,
    group: EndpointGroup::RescheduleBooking,
    budget: BOOKINGS_BUDGET,
};

/// Answers are read up to this size (60 days of 15-minute slots stay far below).
const MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;

/// A company's Cal.com account as a [`CalendarBackend`].
#[derive(Clone)]
pub struct CalCom {
    client: reqwest::Client,
    /// `https://api.cal.com/v2` or the account's own, without a trailing slash.
    base: String,
    /// Why the base URL may not be called (SSRF policy), checked once.
    refused: Option<String>,
    /// `Bearer cal_…`, sensitive; `None` when the key cannot be a header value.
    authorization: Option<HeaderValue>,
}

impl fmt::Debug for CalCom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalCom")
            .field("base", &self.base)
            .field("refused", &self.refused)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl CalCom {
    /// No redirects, every DNS answer checked; fails closed when the guarded client cannot be
    /// built. A base URL the policy refuses makes every call `Rejected` (without a request).
    pub fn new(account: &CalComAccount, policy: UrlPolicy) -> Result<Self, ClientBuildError> {
        let client = guarded_client(&policy, CLIENT_BUDGET)?;
        let base = account.base_url().trim_end_matches('/').to_string();
        let refused = check_url(&format!("{base}/slots"), &policy)
            .err()
            .map(|why| format!("the Cal.com base URL is not allowed: {why}"));
        let authorization = HeaderValue::from_str(&format!("Bearer {}", account.api_key.trim()))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        Ok(Self {
            client,
            base,
            refused,
            authorization,
        })
    }

    /// One request: the group's pinned version, the key, a JSON body if any, capped by `budget`
    /// and the deadline. Returns the status, headers and body of any HTTP answer.
    async fn send<B: Serialize + ?Sized>(
        &self,
        endpoint: &Endpoint,
        path: &str,
        body: Option<&B>,
        deadline: Deadline,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), BackendError> {
        if let Some(why) = &self.refused {
            return Err(BackendError::Rejected(why.clone()));
        }
        let Some(authorization) = &self.authorization else {
            return Err(BackendError::Rejected(
                "the Cal.com API key contains characters that cannot be sent in a header".into(),
            ));
        };
        let time = deadline.cap(endpoint.budget);
        if time < MIN_REQUEST_TIME {
            return Err(BackendError::Timeout);
        }
        let mut request = self
            .client
            .request(endpoint.method.clone(), format!("{}{path}", self.base))
            .timeout(time)
            .header(AUTHORIZATION, authorization.clone())
            .header("cal-api-version", versions::version(endpoint.group))
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(transport_error)?;
            let status = response.status();
            let headers = response.headers().clone();
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_RESPONSE_BYTES {
                    return Err(BackendError::Untrusted(format!(
                        "answer larger than {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
            }
            Ok((status, headers, bytes))
        };
        // reqwest's own timeout covers connect to the end of the body; this one is the backstop.
        tokio::time::timeout(time, exchange)
            .await
            .unwrap_or(Err(BackendError::Timeout))
    }

    /// `send`, then the success body as `T` (a malformed success is `Untrusted`), or the error.
    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        endpoint: &Endpoint,
        path: &str,
        body: Option<&B>,
        deadline: Deadline,
    ) -> Result<T, BackendError> {
        let (status, headers, bytes) = self.send(endpoint, path, body, deadline).await?;
        let op = endpoint.op;
        if !status.is_success() {
            return Err(errors::from_response(op, status.as_u16(), &headers, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| BackendError::Untrusted(format!("malformed {op:?} answer (HTTP {}): {e}", status.as_u16())))
    }
}

/// A request error by kind; the URL (tenant data) is left out of the text.
fn transport_error(e: reqwest::Error) -> BackendError {
    if let Some(blocked) = blocked_address(&e) {
        return BackendError::Rejected(blocked.to_string());
    }
    if e.is_timeout() {
        return BackendError::Timeout;
    }
    let cut_off = e.is_decode() || e.is_body();
    let text = gateway_domain::error::chain(&e.without_url());
    if cut_off {
        return BackendError::Unavailable(format!("answer cut off: {text}"));
    }
    BackendError::Unavailable(text)
}

fn event_type(calendar: &CalendarRef) -> Result<u64, BackendError> {
    match calendar {
        CalendarRef::CalCom { event_type_id } => Ok(*event_type_id),
        other => Err(BackendError::UnknownCalendar(format!(
            "{} is not a Cal.com event type",
            other.key()
        ))),
    }
}

/// A booking uid as one path segment (uids come from storage: never let one add a path).
fn segment(uid: &str) -> Result<String, BackendError> {
    if uid.is_empty() {
        return Err(BackendError::NotFound);
    }
    Ok(uid
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect())
}

/// A query value: unreserved characters and `:`/`/` as they are (instants, zone names), the rest
/// percent-encoded (`Etc/GMT+1` must not turn into a space).
fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The `GET /v2/slots` path and query for a search: explicit UTC instants for both bounds (Cal.com
/// includes a slot starting at `end`, so `end` is the last second before the range's end), the
/// zone for day keys and offsets, `format=range` for ends. `None` for an empty range.
pub fn slots_path(event_type_id: u64, query: &SlotQuery) -> Option<String> {
    let last = query.range.end - TimeDelta::seconds(1);
    if last < query.range.start {
        return None;
    }
    let params = [
        ("eventTypeId", event_type_id.to_string()),
        ("start", wire::utc(query.range.start)),
        ("end", wire::utc(last)),
        ("timeZone", query.time_zone.name().to_string()),
        ("format", "range".to_string()),
    ];
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", query_value(v))).collect();
    Some(format!("/slots?{}", query.join("&")))
}

/// The slots of a `GET /v2/slots` answer whose start lies in the query's range, in UTC, sorted.
/// An item without `end` (the `time` format) lasts the query's duration.
pub fn parse_slots(data: wire::SlotsData, query: &SlotQuery) -> Result<Vec<Slot>, BackendError> {
    let mut slots = Vec::new();
    for (day, items) in data {
        for item in items {
            let bad = || BackendError::Untrusted(format!("malformed slot on {day}: {item:?}"));
            let start = wire::parse_instant(&item.start).ok_or_else(bad)?;
            let end = match &item.end {
                Some(end) => wire::parse_instant(end).ok_or_else(bad)?,
                None => start + query.duration,
            };
            if end <= start {
                return Err(bad());
            }
            if query.range.contains(start) {
                slots.push(Slot::new(start, end));
            }
        }
    }
    slots.sort_by_key(|s| s.start);
    slots.dedup_by_key(|s| s.start);
    Ok(slots)
}

/// The create body for a request; `Rejected` (before any request) when Cal.com could not take
/// the attendee: it needs a phone number (E.164) or an e-mail.
pub fn create_body(request: &BookingRequest) -> Result<wire::CreateBody, BackendError> {
    let event_type_id = event_type(&request.calendar)?;
    let attendee = &request.attendee;
    let name = attendee.name.trim();
    if name.is_empty() {
        return Err(BackendError::Rejected("the attendee has no name".into()));
    }
    let phone = match attendee.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        Some(raw) => Some(
            wire::e164(raw)
                .ok_or_else(|| BackendError::Rejected("the attendee's phone number is not in E.164 form".into()))?,
        ),
        None => None,
    };
    let email = attendee
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string);
    if phone.is_none() && email.is_none() {
        return Err(BackendError::Rejected(
            "Cal.com needs the attendee's phone number or e-mail".into(),
        ));
    }
    Ok(wire::CreateBody {
        start: wire::utc(request.slot.start),
        event_type_id,
        attendee: wire::AttendeeBody {
            name: name.to_string(),
            time_zone: request.time_zone.name().to_string(),
            phone_number: phone,
            email,
            language: wire::language(&attendee.language),
        },
        metadata: wire::metadata(&request.metadata.to_map()),
        reserved_slot_uid: request.reservation.as_ref().map(|r| r.uid.clone()),
    })
}

fn normalise_name(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A booking answer as the port's [`BackendBooking`]; a shape we cannot read is `Untrusted`.
pub fn to_booking(out: BookingOut) -> Result<BackendBooking, BackendError> {
    let untrusted = |what: &str| BackendError::Untrusted(format!("booking {}: {what}", out.uid));
    if out.uid.trim().is_empty() {
        return Err(BackendError::Untrusted("booking without uid".into()));
    }
    let start = wire::parse_instant(&out.start).ok_or_else(|| untrusted("unreadable start"))?;
    let end = wire::parse_instant(&out.end).ok_or_else(|| untrusted("unreadable end"))?;
    if end <= start {
        return Err(untrusted("ends before it starts"));
    }
    let status = match out.status.to_ascii_lowercase().as_str() {
        "accepted" => BackendStatus::Accepted,
        "pending" => BackendStatus::Pending,
        "cancelled" | "rejected" => BackendStatus::Cancelled,
        other => return Err(untrusted(&format!("unknown status '{other}'"))),
    };
    let attendee = out.attendees.into_iter().next().map(|a| Attendee {
        name: a.name,
        phone: a.phone_number,
        email: a.email,
        language: a.language.unwrap_or_default(),
    });
    Ok(BackendBooking {
        uid: out.uid,
        start,
        end,
        status,
        attendee,
        metadata: wire::metadata_strings(out.metadata),
        rescheduled_from: out.rescheduled_from_uid,
    })
}

/// Whether a create answer is the booking we asked for. Cal.com's idempotency key is
/// `start.end.hostUserId`: a second create for the same host and time can come back `201` with the
/// EXISTING booking (old uid, the earlier caller's data). Such an answer is never a success.
pub fn verify_created(request: &BookingRequest, booking: &BackendBooking) -> Result<(), BackendError> {
    let ghost = |why: String| {
        tracing::warn!(uid = %booking.uid, %why, "Cal.com answered a create with a booking that is not ours");
        Err(BackendError::Untrusted(format!("booking {} {why}", booking.uid)))
    };
    if booking.start != request.slot.start {
        return ghost(format!("starts at {} instead of {}", booking.start, request.slot.start));
    }
    if booking.status == BackendStatus::Cancelled {
        return ghost("is cancelled".into());
    }
    let Some(attendee) = &booking.attendee else {
        return ghost("has no attendee".into());
    };
    if normalise_name(&attendee.name) != normalise_name(&request.attendee.name) {
        return ghost("is for another attendee (name differs)".into());
    }
    if let Some(asked) = request
        .attendee
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        match attendee.email.as_deref() {
            Some(got) if got.trim().eq_ignore_ascii_case(asked) => {}
            _ => return ghost("is for another attendee (e-mail differs)".into()),
        }
    }
    if let Some(asked) = request.attendee.phone.as_deref().and_then(wire::e164) {
        // Cal.com's output may leave the phone out; a different one is another person.
        if let Some(got) = attendee
            .phone
            .as_deref()
            .map(|p| wire::e164(p).unwrap_or_else(|| p.to_string()))
            && got != asked
        {
            return ghost("is for another attendee (phone differs)".into());
        }
    }
    let ours = request.metadata.to_map();
    for key in ["company_id", "call_id", "appointment_id"] {
        if let (Some(theirs), Some(mine)) = (booking.metadata.get(key), ours.get(key))
            && theirs != mine
        {
            return ghost(format!("was made for another {key}"));
        }
    }
    Ok(())
}

#[async_trait]
impl CalendarBackend for CalCom {
    async fn free_slots(&self, query: &SlotQuery, deadline: Deadline) -> Result<Vec<Slot>, BackendError> {
        let event_type_id = event_type(&query.calendar)?;
        let Some(path) = slots_path(event_type_id, query) else {
            return Ok(Vec::new());
        };
        let envelope: Envelope<wire::SlotsData> = self.call::<(), _>(&SLOTS, &path, None, deadline).await?;
        success(&envelope.status)?;
        parse_slots(envelope.data, query)
    }

    async fn reserve(
        &self,
        calendar: &CalendarRef,
        slot: &Slot,
        deadline: Deadline,
    ) -> Result<Option<Reservation>, BackendError> {
        let body = wire::ReserveBody {
            event_type_id: event_type(calendar)?,
            slot_start: wire::utc(slot.start),
        };
        let envelope: Envelope<wire::ReservationOut> = self
            .call(&RESERVE, "/slots/reservations", Some(&body), deadline)
            .await?;
        success(&envelope.status)?;
        let until = wire::parse_instant(&envelope.data.reservation_until)
            .ok_or_else(|| BackendError::Untrusted("reservation with an unreadable reservationUntil".into()))?;
        if envelope.data.reservation_uid.trim().is_empty() {
            return Err(BackendError::Untrusted("reservation without uid".into()));
        }
        Ok(Some(Reservation {
            uid: envelope.data.reservation_uid,
            until,
        }))
    }

    async fn release(&self, reservation: &Reservation, deadline: Deadline) -> Result<(), BackendError> {
        let path = format!("/slots/reservations/{}", segment(&reservation.uid)?);
        let result: Result<wire::StatusOnly, _> = self.call::<(), _>(&RELEASE, &path, None, deadline).await;
        match result {
            Ok(answer) => success(&answer.status),
            // Expired or consumed by the booking: what release wanted.
            Err(BackendError::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn book(&self, request: &BookingRequest, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        let body = create_body(request)?;
        let envelope: Envelope<BookingOut> = self.call(&CREATE, "/bookings", Some(&body), deadline).await?;
        success(&envelope.status)?;
        let booking = to_booking(envelope.data)?;
        verify_created(request, &booking)?;
        Ok(booking)
    }

    async fn get(&self, calendar: &CalendarRef, uid: &str, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        event_type(calendar)?;
        let path = format!("/bookings/{}", segment(uid)?);
        let envelope: Envelope<BookingOut> = self.call::<(), _>(&GET, &path, None, deadline).await?;
        success(&envelope.status)?;
        let booking = to_booking(envelope.data)?;
        if booking.uid != uid {
            return Err(BackendError::Untrusted(format!(
                "asked for booking {uid}, got {}",
                booking.uid
            )));
        }
        Ok(booking)
    }

    async fn cancel(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        reason: &str,
        deadline: Deadline,
    ) -> Result<(), BackendError> {
        event_type(calendar)?;
        let path = format!("/bookings/{}/cancel", segment(uid)?);
        let body = wire::CancelBody {
            cancellation_reason: reason.to_string(),
        };
        let answer: wire::StatusOnly = self.call(&CANCEL, &path, Some(&body), deadline).await?;
        success(&answer.status)
    }

    async fn reschedule(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        to: &Slot,
        reason: &str,
        deadline: Deadline,
    ) -> Result<BackendBooking, BackendError> {
        event_type(calendar)?;
        let path = format!("/bookings/{}/reschedule", segment(uid)?);
        let body = wire::RescheduleBody {
            start: wire::utc(to.start),
            rescheduling_reason: reason.to_string(),
        };
        let envelope: Envelope<BookingOut> = self.call(&RESCHEDULE, &path, Some(&body), deadline).await?;
        success(&envelope.status)?;
        let mut booking = to_booking(envelope.data)?;
        verify_rescheduled(uid, to, &mut booking)?;
        Ok(booking)
    }
}

/// A reschedule answer must be the new booking at the new start, made from `uid`.
fn verify_rescheduled(uid: &str, to: &Slot, booking: &mut BackendBooking) -> Result<(), BackendError> {
    if booking.start != to.start {
        return Err(BackendError::Untrusted(format!(
            "rescheduled booking {} starts at {} instead of {}",
            booking.uid, booking.start, to.start
        )));
    }
    if booking.status == BackendStatus::Cancelled {
        return Err(BackendError::Untrusted(format!(
            "rescheduled booking {} is cancelled",
            booking.uid
        )));
    }
    match booking.rescheduled_from.as_deref() {
        Some(from) if from != uid => Err(BackendError::Untrusted(format!(
            "booking {} was rescheduled from {from}, not from {uid}",
            booking.uid
        ))),
        Some(_) => Ok(()),
        None => {
            if booking.uid != uid {
                booking.rescheduled_from = Some(uid.to_string());
            }
            Ok(())
        }
    }
}

/// The envelope's `status` must say success even on a 2xx.
fn success(status: &str) -> Result<(), BackendError> {
    if status.eq_ignore_ascii_case("success") {
        Ok(())
    } else {
        Err(BackendError::Untrusted(format!("2xx answer with status '{status}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use gateway_domain::appointments::backend::BookingMetadata;
    use gateway_domain::appointments::calendar::local_time::Span;
    use gateway_domain::ids::{AppointmentId, CallId, CompanyId};
    use gateway_domain::locale::TimeZone;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn query(zone: &str, from: &str, to: &str) -> SlotQuery {
        SlotQuery {
            calendar: CalendarRef::CalCom { event_type_id: 7 },
            range: Span::new(utc(from), utc(to)).unwrap(),
            time_zone: zone.parse::<TimeZone>().unwrap().tz(),
            duration: TimeDelta::minutes(30),
            rules: None,
            opening: None,
            now: utc(from),
        }
    }

    fn request() -> BookingRequest {
        let start = utc("2026-03-27T09:00:00Z");
        BookingRequest {
            calendar: CalendarRef::CalCom { event_type_id: 7 },
            slot: Slot::new(start, start + TimeDelta::minutes(30)),
            time_zone: "Europe/Berlin".parse::<TimeZone>().unwrap().tz(),
            attendee: Attendee {
                name: "Max  Mustermann".into(),
                phone: Some("+49 151 12345678".into()),
                email: None,
                language: "de-DE".into(),
            },
            title: "Beratung".into(),
            reservation: None,
            metadata: BookingMetadata {
                company_id: CompanyId::new("co"),
                call_id: CallId::new("call_1"),
                appointment_id: AppointmentId::new("01A"),
            },
        }
    }

    fn answer(request: &BookingRequest) -> BackendBooking {
        BackendBooking {
            uid: "u1".into(),
            start: request.slot.start,
            end: request.slot.end,
            status: BackendStatus::Accepted,
            attendee: Some(Attendee {
                name: "max mustermann".into(),
                phone: Some("+4915112345678".into()),
                email: Some("4915112345678@sms.cal.com".into()),
                language: "de".into(),
            }),
            metadata: request.metadata.to_map(),
            rescheduled_from: None,
        }
    }

    #[test]
    fn slot_queries_use_explicit_instants_and_encode_the_zone() {
        let path = slots_path(7, &query("Etc/GMT+1", "2026-03-26T23:00:00Z", "2026-03-27T23:00:00Z")).unwrap();
        assert_eq!(
            path,
            "/slots?eventTypeId=7&start=2026-03-26T23:00:00Z&end=2026-03-27T22:59:59Z&timeZone=Etc/GMT%2B1&format=range"
        );
        assert_eq!(
            slots_path(7, &query("UTC", "2026-03-26T23:00:00Z", "2026-03-26T23:00:01Z")).as_deref(),
            Some("/slots?eventTypeId=7&start=2026-03-26T23:00:00Z&end=2026-03-26T23:00:00Z&timeZone=UTC&format=range")
        );
    }

    #[test]
    fn slots_are_converted_to_utc_and_kept_inside_the_range() {
        let data: wire::SlotsData = serde_json::from_value(serde_json::json!({
            "2026-03-27": [
                {"start": "2026-03-27T09:00:00.000+01:00", "end": "2026-03-27T09:30:00.000+01:00"},
                {"start": "2026-03-27T09:15:00.000+01:00"}
            ],
            "2026-03-30": [{"start": "2026-03-30T09:00:00.000+02:00", "end": "2026-03-30T09:30:00.000+02:00"}]
        }))
        .unwrap();
        let q = query("Europe/Berlin", "2026-03-27T08:00:00Z", "2026-03-30T07:00:00Z");
        let slots = parse_slots(data, &q).unwrap();
        let starts: Vec<_> = slots.iter().map(|s| (s.start, s.end)).collect();
        assert_eq!(
            starts,
            [
                (utc("2026-03-27T08:00:00Z"), utc("2026-03-27T08:30:00Z")),
                (utc("2026-03-27T08:15:00Z"), utc("2026-03-27T08:45:00Z")),
            ],
            "the Monday slot starts at the range's end"
        );
        let bad: wire::SlotsData = serde_json::from_value(serde_json::json!({"d": [{"start": "tomorrow"}]})).unwrap();
        assert!(matches!(parse_slots(bad, &q), Err(BackendError::Untrusted(_))));
    }

    #[test]
    fn uids_stay_one_path_segment() {
        assert_eq!(segment("FxBooked01").unwrap(), "FxBooked01");
        assert_eq!(segment("../admin?x").unwrap(), "%2E%2E%2Fadmin%3Fx");
        assert_eq!(segment(""), Err(BackendError::NotFound));
    }

    #[test]
    fn create_bodies() {
        let body = serde_json::to_value(create_body(&request()).unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "start": "2026-03-27T09:00:00Z", "eventTypeId": 7,
                "attendee": {"name": "Max  Mustermann", "timeZone": "Europe/Berlin", "phoneNumber": "+4915112345678", "language": "de"},
                "metadata": {"company_id": "co", "call_id": "call_1", "appointment_id": "01A", "booked_via": "service-gateway"}
            })
        );
    }

    #[test]
    fn only_our_own_booking_is_trusted() {
        let req = request();
        assert_eq!(
            verify_created(&req, &answer(&req)),
            Ok(()),
            "case and spacing of the name do not matter"
        );
        type Change = fn(&mut BackendBooking);
        let cases: [(&str, Change); 6] = [
            ("name", |b| b.attendee.as_mut().unwrap().name = "Erika Muster".into()),
            ("phone", |b| {
                b.attendee.as_mut().unwrap().phone = Some("+4915199999999".into())
            }),
            ("start", |b| b.start += TimeDelta::minutes(15)),
            ("status", |b| b.status = BackendStatus::Cancelled),
            ("attendee", |b| b.attendee = None),
            ("call", |b| {
                b.metadata.insert("call_id".into(), "call_other".into());
            }),
        ];
        for (what, change) in cases {
            let mut got = answer(&req);
            change(&mut got);
            assert!(
                matches!(verify_created(&req, &got), Err(BackendError::Untrusted(_))),
                "{what}"
            );
        }
        let mut with_email = request();
        with_email.attendee.email = Some("max@example.de".into());
        assert!(
            verify_created(&with_email, &answer(&with_email)).is_err(),
            "e-mail differs"
        );
        let mut no_phone_back = answer(&req);
        no_phone_back.attendee.as_mut().unwrap().phone = None;
        assert_eq!(
            verify_created(&req, &no_phone_back),
            Ok(()),
            "an answer without the phone is not another person"
        );
    }

    #[test]
    fn a_reschedule_answer_names_the_old_booking() {
        let to = Slot::new(utc("2026-03-27T10:00:00Z"), utc("2026-03-27T10:30:00Z"));
        let mut moved = BackendBooking {
            uid: "new".into(),
            start: to.start,
            end: to.end,
            status: BackendStatus::Accepted,
            attendee: None,
            metadata: Default::default(),
            rescheduled_from: None,
        };
        verify_rescheduled("old", &to, &mut moved).unwrap();
        assert_eq!(moved.rescheduled_from.as_deref(), Some("old"));
        moved.rescheduled_from = Some("someone-else".into());
        assert!(verify_rescheduled("old", &to, &mut moved).is_err());
    }
}
