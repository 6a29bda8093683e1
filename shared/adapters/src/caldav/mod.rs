//! The CalDAV adapter of the `CalendarBackend` port (RFC 4791): companies on Nextcloud, iCloud,
//! Radicale and the like (`shared/reference/appointments.md` §4).
//!
//! A CalDAV server stores events and answers time-range queries; it knows no services, opening
//! hours or booking rules, and it does not stop two events at the same time. So:
//! - Slots are ours: one `REPORT calendar-query` reads the busy time over the query's range
//!   (widened by the appointment's length and buffers, and by 14 h on the wire for floating
//!   times the server compares as UTC), and the domain's
//!   [`free_slots`](gateway_domain::appointments::calendar::slots::free_slots) lays the grid over
//!   the branch's hours ([`ical`] says what counts as busy: TZID, all-day, cancelled, free).
//! - There are no reservations (`reserve` → `None`, `release` → nothing): the engine's DynamoDB
//!   hold is what guards a slot between offer and booking.
//! - `book` re-reads the slot's span (one REPORT; anything there → `Taken`), then writes the
//!   event with `PUT <calendar>/<uid>.ics` and `If-None-Match: *`. The REPORT and the PUT are not
//!   atomic: two bookers racing past the re-check are kept apart by the engine's hold.
//! - `cancel` does not delete: it marks the event `STATUS:CANCELLED`, `TRANSP:TRANSPARENT` and
//!   prefixes its title ("Abgesagt: …"), by GET and `PUT` with `If-Match`. Staff keep seeing what
//!   was booked and why it was cancelled (the reason is stored), `get` still answers with status
//!   `Cancelled`, a second cancel is `AlreadyCancelled`, and the time is free again for us, for
//!   free-busy and for other clients.
//! - `reschedule` keeps the UID (calendar apps update the same entry): GET and a REPORT of the
//!   new span (concurrently), `Taken` if anything but the event itself is there, then `PUT` with
//!   `If-Match`.
//!
//! Requests per call: `free_slots` 1 (none when notice/horizon leave nothing of the range),
//! `book` 2, `get` 1, `cancel` 2, `reschedule` 3. No retries, no sleeps. Every call has a budget
//! ([`SLOTS_BUDGET`], [`BOOKINGS_BUDGET`]) for all its requests together, capped by the deadline.
//!
//! The server URL is tenant data: the SSRF-guarded client, [`check_url`], no redirects. The
//! password goes out as HTTP Basic (marked sensitive) and never into an error, a log or `Debug`.
//! A timeout on a write means "outcome unknown": `Timeout`, never success or `Taken`.
//!
//! Status codes: 401/403 → `Rejected` (credentials or rights), 404/405/409 on the collection →
//! `UnknownCalendar`, 404/410 on an event → `NotFound`, 412 on create → `Taken`, 412 on an
//! update → `Rejected` (changed by someone else meanwhile; read again), 429 → `RateLimited`,
//! 5xx → `Unavailable`, other refusals → `Rejected`, an unreadable 2xx → `Untrusted`.

pub mod ical;
pub mod xml;

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use gateway_domain::appointments::backend::{
    BackendBooking, BackendError, BackendStatus, BookingRequest, CalendarBackend, CalendarRef, Reservation, SlotQuery,
};
use gateway_domain::appointments::calendar::local_time::{Span, to_instant_or_after_gap};
use gateway_domain::appointments::calendar::slots::{Slot, free_slots};
use gateway_domain::appointments::setup::CalDavAccount;
use gateway_domain::deadline::Deadline;
use gateway_domain::ssrf::{UrlPolicy, check_url};
use reqwest::header::{CONTENT_TYPE, ETAG, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};

use crate::http::{Budget, ClientBuildError, blocked_address, guarded_client};

/// A slot search, all its requests together: the caller waits while the agent looks.
pub const SLOTS_BUDGET: Duration = Duration::from_secs(2);
/// Book, get, cancel, reschedule, all the requests of one call together.
pub const BOOKINGS_BUDGET: Duration = Duration::from_secs(6);

const CLIENT_BUDGET: Budget = Budget {
    connect: Duration::from_secs(2),
    read: BOOKINGS_BUDGET,
    total: BOOKINGS_BUDGET,
};

/// Below this much time left a request is not started: it could not finish.
const MIN_REQUEST_TIME: Duration = Duration::from_millis(100);

/// Answers are read up to this size (a busy calendar over weeks stays far below).
const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The largest distance between a local time and UTC (UTC+14), by which a query is widened.
const FLOATING_MARGIN: TimeDelta = TimeDelta::hours(14);

const CALENDAR_TYPE: &str = "text/calendar; charset=utf-8";
const XML_TYPE: &str = "application/xml; charset=utf-8";

/// A company's CalDAV calendar server as a [`CalendarBackend`].
#[derive(Clone)]
pub struct CalDav {
    client: reqwest::Client,
    /// The account's base URL, parsed; `None` when refused (see `refused`).
    base: Option<Url>,
    /// Why the base URL may not be called, checked once; every call is then `Rejected`.
    refused: Option<String>,
    username: String,
    password: String,
}

impl fmt::Debug for CalDav {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CalDav")
            .field("base", &self.base.as_ref().map(Url::as_str))
            .field("refused", &self.refused)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// One HTTP answer.
struct Answer {
    status: StatusCode,
    etag: Option<String>,
    retry_after: Option<Duration>,
    body: String,
}

/// What a calendar-query found: the events' busy time, and the resources we could not read
/// (the server says they are at or near the range, we cannot tell where: they block a booking).
#[derive(Debug, Default)]
struct Found {
    busy: Vec<ical::Busy>,
    unreadable: Vec<String>,
}

impl Found {
    /// Whether anything but `except` (a UID) occupies part of `span`.
    fn blocks(&self, span: &Span, except: Option<&str>) -> bool {
        !self.unreadable.is_empty()
            || self
                .busy
                .iter()
                .any(|b| b.span.overlaps(span) && except.is_none_or(|uid| b.uid != uid))
    }
}

/// The raw items of a calendar-query, read later (the zone may come from another request).
struct Report {
    items: Vec<xml::Item>,
}

impl Report {
    fn read(&self, zone: Tz) -> Found {
        let mut found = Found::default();
        for item in &self.items {
            let Some(data) = &item.calendar_data else {
                found.unreadable.push(item.href.clone());
                continue;
            };
            match ical::busy(data, zone) {
                Ok(busy) => found.busy.extend(busy),
                Err(why) => {
                    tracing::warn!(href = %item.href, %why, "unreadable event in a CalDAV calendar");
                    found.unreadable.push(item.href.clone());
                }
            }
        }
        found
    }
}

/// The deadline of one port call: its budget from now, or the caller's deadline if sooner.
fn call_deadline(deadline: Deadline, budget: Duration) -> Deadline {
    Deadline::at(deadline.instant().min(Instant::now() + budget))
}

fn calendar_path(calendar: &CalendarRef) -> Result<&str, BackendError> {
    match calendar {
        CalendarRef::CalDav { calendar_path } if !calendar_path.trim().is_empty() => Ok(calendar_path),
        other => Err(BackendError::UnknownCalendar(format!(
            "{} is not a CalDAV calendar",
            other.key()
        ))),
    }
}

/// The path of a calendar collection under the base URL, with a trailing slash. A calendar path
/// that already starts with the base URL's path (copied whole from the server) is taken as is.
fn collection_path(base: &Url, calendar_path: &str) -> String {
    let base_path = base.path().trim_end_matches('/');
    let cal = calendar_path.trim();
    let mut path = if !base_path.is_empty() && (cal == base_path || cal.starts_with(&format!("{base_path}/"))) {
        cal.to_string()
    } else {
        format!("{base_path}/{}", cal.trim_start_matches('/'))
    };
    if !path.ends_with('/') {
        path.push('/');
    }
    path
}

/// A UID we could have written (ours are `sg-<ulid>`), so it can name a resource safely; other
/// UIDs cannot be our bookings.
fn valid_uid(uid: &str) -> bool {
    (1..=200).contains(&uid.len())
        && !uid.starts_with('.')
        && uid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
}

/// A request error by kind; the URL is left out of the text.
fn transport_error(e: reqwest::Error) -> BackendError {
    if let Some(blocked) = blocked_address(&e) {
        return BackendError::Rejected(blocked.to_string());
    }
    if e.is_timeout() {
        return BackendError::Timeout;
    }
    BackendError::Unavailable(gateway_domain::error::chain(&e.without_url()))
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// What a request is about, for reading its error statuses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Collection,
    Event,
}

/// An answer that is not the success the caller expected.
fn refusal(answer: &Answer, target: Target, calendar: &str) -> BackendError {
    let status = answer.status.as_u16();
    match (status, target) {
        (401 | 403, _) => BackendError::Rejected(format!(
            "the CalDAV server refused the credentials or the rights (HTTP {status})"
        )),
        (404 | 405 | 409, Target::Collection) => {
            BackendError::UnknownCalendar(format!("{calendar} (HTTP {status} from the CalDAV server)"))
        }
        (404 | 410, Target::Event) => BackendError::NotFound,
        (429, _) => BackendError::RateLimited {
            retry_after: answer.retry_after,
        },
        (500..=599, _) => BackendError::Unavailable(format!("the CalDAV server answered HTTP {status}")),
        (300..=399, _) => BackendError::Rejected(format!(
            "the CalDAV server redirects (HTTP {status}): configure the URL it redirects to"
        )),
        (200..=299, _) => BackendError::Untrusted(format!("unexpected HTTP {status} from the CalDAV server")),
        _ => BackendError::Rejected(format!("the CalDAV server answered HTTP {status}")),
    }
}

impl CalDav {
    /// No redirects, every DNS answer checked; fails closed when the guarded client cannot be
    /// built. A base URL the policy refuses makes every call `Rejected` (without a request).
    pub fn new(account: &CalDavAccount, policy: UrlPolicy) -> Result<Self, ClientBuildError> {
        let client = guarded_client(&policy, CLIENT_BUDGET)?;
        let (base, refused) = match check_url(account.base_url.trim(), &policy) {
            Ok(url) => (Some(url), None),
            Err(why) => (None, Some(format!("the CalDAV server URL is not allowed: {why}"))),
        };
        Ok(Self {
            client,
            base,
            refused,
            username: account.username.clone(),
            password: account.password.clone(),
        })
    }

    fn url(&self, path: &str) -> Result<Url, BackendError> {
        if let Some(why) = &self.refused {
            return Err(BackendError::Rejected(why.clone()));
        }
        let mut url = self
            .base
            .clone()
            .ok_or_else(|| BackendError::Rejected("no CalDAV server URL".into()))?;
        url.set_query(None);
        url.set_fragment(None);
        url.set_path(path);
        Ok(url)
    }

    fn collection_url(&self, calendar: &str) -> Result<Url, BackendError> {
        let base = self.url("/")?;
        self.url(&collection_path(&base, calendar))
    }

    fn event_url(&self, calendar: &str, uid: &str) -> Result<Url, BackendError> {
        if !valid_uid(uid) {
            return Err(BackendError::NotFound);
        }
        let base = self.url("/")?;
        self.url(&format!("{}{uid}.ics", collection_path(&base, calendar)))
    }

    /// One request, capped by `until`; any HTTP answer comes back (statuses are the caller's).
    async fn send(
        &self,
        method: Method,
        url: Url,
        headers: &[(&'static str, String)],
        body: Option<String>,
        until: Deadline,
    ) -> Result<Answer, BackendError> {
        let time = until.remaining();
        if time < MIN_REQUEST_TIME {
            return Err(BackendError::Timeout);
        }
        let path = url.path().to_string();
        let started = Instant::now();
        let mut request = self
            .client
            .request(method.clone(), url)
            .timeout(time)
            .basic_auth(&self.username, Some(&self.password));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let exchange = async {
            let mut response = request.send().await.map_err(transport_error)?;
            let status = response.status();
            let etag = response
                .headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let retry_after = retry_after(response.headers());
            let mut bytes = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > MAX_RESPONSE_BYTES {
                    return Err(BackendError::Untrusted(format!(
                        "answer larger than {MAX_RESPONSE_BYTES} bytes"
                    )));
                }
            }
            Ok(Answer {
                status,
                etag,
                retry_after,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            })
        };
        // reqwest's own timeout covers connect to the end of the body; this one is the backstop.
        let result = tokio::time::timeout(time, exchange)
            .await
            .unwrap_or(Err(BackendError::Timeout));
        let ms = started.elapsed().as_millis();
        match &result {
            Ok(a) => tracing::debug!(%method, path, status = a.status.as_u16(), ms, "CalDAV request"),
            Err(e) => tracing::debug!(%method, path, error = %e, ms, "CalDAV request failed"),
        }
        result
    }

    /// One `REPORT calendar-query` for the events that may overlap `span`. The server compares
    /// floating times and all-day dates in UTC (RFC 4791 §9.9, no calendar-timezone set), we read
    /// them in the branch's zone: the query reaches [`FLOATING_MARGIN`] further on both sides, and
    /// what overlaps is decided here, from the events' own times.
    async fn report(&self, calendar: &str, span: Span, until: Deadline) -> Result<Report, BackendError> {
        let url = self.collection_url(calendar)?;
        let report = Method::from_bytes(b"REPORT").map_err(|e| BackendError::Rejected(e.to_string()))?;
        let headers = [
            ("Depth", "1".to_string()),
            (CONTENT_TYPE.as_str(), XML_TYPE.to_string()),
        ];
        let body = xml::calendar_query(span.start - FLOATING_MARGIN, span.end + FLOATING_MARGIN);
        let answer = self.send(report, url, &headers, Some(body), until).await?;
        if !matches!(answer.status.as_u16(), 207 | 200) {
            return Err(refusal(&answer, Target::Collection, calendar));
        }
        let items = xml::parse_multistatus(&answer.body)
            .map_err(|why| BackendError::Untrusted(format!("unreadable calendar-query answer: {why}")))?;
        Ok(Report { items })
    }

    /// GET an event: its ETag and calendar data.
    async fn fetch(
        &self,
        calendar: &str,
        uid: &str,
        until: Deadline,
    ) -> Result<(Option<String>, String), BackendError> {
        let url = self.event_url(calendar, uid)?;
        let answer = self.send(Method::GET, url, &[], None, until).await?;
        if answer.status != StatusCode::OK {
            return Err(refusal(&answer, Target::Event, calendar));
        }
        Ok((answer.etag, answer.body))
    }

    /// PUT a changed event with `If-Match` (unconditionally only when the server sent no ETag).
    async fn update(
        &self,
        calendar: &str,
        uid: &str,
        etag: Option<String>,
        data: String,
        until: Deadline,
    ) -> Result<(), BackendError> {
        let url = self.event_url(calendar, uid)?;
        let mut headers = vec![(CONTENT_TYPE.as_str(), CALENDAR_TYPE.to_string())];
        match etag {
            Some(etag) => headers.push(("If-Match", etag)),
            None => tracing::warn!(uid, "the CalDAV server sent no ETag: updating without If-Match"),
        }
        let answer = self.send(Method::PUT, url, &headers, Some(data), until).await?;
        match answer.status.as_u16() {
            200..=299 => Ok(()),
            412 => Err(BackendError::Rejected(
                "the event was changed by someone else meanwhile; read it again".into(),
            )),
            _ => Err(refusal(&answer, Target::Event, calendar)),
        }
    }
}

/// The UTC instant at which the horizon ends: the end of local day `today + horizon_days`.
fn horizon_end(query: &SlotQuery, tz: Tz, horizon_days: u32) -> Option<chrono::DateTime<Utc>> {
    let opening = query.opening.as_ref()?;
    let last = opening.today(query.now) + TimeDelta::days(i64::from(horizon_days) + 1);
    to_instant_or_after_gap(tz, last.and_time(NaiveTime::MIN))
}

#[async_trait]
impl CalendarBackend for CalDav {
    async fn free_slots(&self, query: &SlotQuery, deadline: Deadline) -> Result<Vec<Slot>, BackendError> {
        let calendar = calendar_path(&query.calendar)?;
        let (Some(rules), Some(opening)) = (&query.rules, &query.opening) else {
            return Err(BackendError::Rejected(
                "a CalDAV slot search needs the service's rules and the branch's opening hours".into(),
            ));
        };
        rules
            .validate()
            .map_err(|e| BackendError::Rejected(format!("the service's rules: {e}")))?;
        let until = call_deadline(deadline, SLOTS_BUDGET);
        // Only the part of the range a slot may start in (notice, horizon) needs busy time, plus
        // what a slot starting there occupies with its buffers.
        let first = query.range.start.max(query.now + rules.min_notice);
        let last =
            horizon_end(query, opening.tz, rules.horizon_days).map_or(query.range.end, |h| h.min(query.range.end));
        if first >= last {
            return Ok(Vec::new());
        }
        let window = Span::new(first - rules.buffer_before, last + rules.duration + rules.buffer_after)
            .ok_or_else(|| BackendError::Rejected("empty search window".into()))?;
        let report = self.report(calendar, window, until).await?;
        let found = report.read(opening.tz);
        let busy: Vec<Span> = found.busy.iter().map(|b| b.span).collect();
        free_slots(query.range, opening, rules, &busy, query.now)
            .map_err(|e| BackendError::Rejected(format!("the service's rules: {e}")))
    }

    async fn reserve(
        &self,
        _calendar: &CalendarRef,
        _slot: &Slot,
        _deadline: Deadline,
    ) -> Result<Option<Reservation>, BackendError> {
        Ok(None)
    }

    async fn release(&self, _reservation: &Reservation, _deadline: Deadline) -> Result<(), BackendError> {
        Ok(())
    }

    async fn book(&self, request: &BookingRequest, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        let calendar = calendar_path(&request.calendar)?;
        let span = Span::new(request.slot.start, request.slot.end)
            .ok_or_else(|| BackendError::Rejected("the slot ends before it starts".into()))?;
        let until = call_deadline(deadline, BOOKINGS_BUDGET);
        let found = self.report(calendar, span, until).await?.read(request.time_zone);
        if found.blocks(&span, None) {
            return Err(BackendError::Taken);
        }
        let uid = format!("sg-{}", ulid::Ulid::new().to_string().to_ascii_lowercase());
        let data = ical::new_event(&ical::NewEvent {
            uid: &uid,
            start: span.start,
            end: span.end,
            title: &request.title,
            attendee: &request.attendee,
            metadata: &request.metadata,
            time_zone: request.time_zone,
            now: Utc::now(),
        });
        let url = self.event_url(calendar, &uid)?;
        let headers = [
            (CONTENT_TYPE.as_str(), CALENDAR_TYPE.to_string()),
            ("If-None-Match", "*".to_string()),
        ];
        let answer = self.send(Method::PUT, url, &headers, Some(data), until).await?;
        match answer.status.as_u16() {
            200..=299 => Ok(BackendBooking {
                uid,
                start: span.start,
                end: span.end,
                status: BackendStatus::Accepted,
                attendee: Some(request.attendee.clone()),
                metadata: request.metadata.to_map(),
                rescheduled_from: None,
            }),
            412 => Err(BackendError::Taken),
            409 if answer.body.contains("no-uid-conflict") => Err(BackendError::Rejected(
                "the CalDAV server holds an event with this UID already".into(),
            )),
            _ => Err(refusal(&answer, Target::Collection, calendar)),
        }
    }

    async fn get(&self, calendar: &CalendarRef, uid: &str, deadline: Deadline) -> Result<BackendBooking, BackendError> {
        let path = calendar_path(calendar)?;
        let until = call_deadline(deadline, BOOKINGS_BUDGET);
        let (_, data) = self.fetch(path, uid, until).await?;
        let booking = ical::booking(&data).map_err(|why| BackendError::Untrusted(format!("event {uid}: {why}")))?;
        if booking.uid != uid {
            return Err(BackendError::Untrusted(format!(
                "the resource of {uid} holds the event {}",
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
        let path = calendar_path(calendar)?;
        let until = call_deadline(deadline, BOOKINGS_BUDGET);
        let (etag, data) = self.fetch(path, uid, until).await?;
        let current = ical::booking(&data).map_err(|why| BackendError::Untrusted(format!("event {uid}: {why}")))?;
        if current.status == BackendStatus::Cancelled {
            return Err(BackendError::AlreadyCancelled);
        }
        let changed = ical::cancelled(&data, reason, Utc::now())
            .map_err(|why| BackendError::Rejected(format!("event {uid} cannot be cancelled here: {why}")))?;
        self.update(path, uid, etag, changed, until).await
    }

    async fn reschedule(
        &self,
        calendar: &CalendarRef,
        uid: &str,
        to: &Slot,
        reason: &str,
        deadline: Deadline,
    ) -> Result<BackendBooking, BackendError> {
        let path = calendar_path(calendar)?;
        let span = Span::new(to.start, to.end)
            .ok_or_else(|| BackendError::Rejected("the slot ends before it starts".into()))?;
        let until = call_deadline(deadline, BOOKINGS_BUDGET);
        // Both are reads: at the same time, so the caller waits for one round trip, not two.
        let (fetched, report) = tokio::join!(self.fetch(path, uid, until), self.report(path, span, until));
        let (etag, data) = fetched?;
        let report = report?;
        let current = ical::booking(&data).map_err(|why| BackendError::Untrusted(format!("event {uid}: {why}")))?;
        if current.status == BackendStatus::Cancelled {
            return Err(BackendError::AlreadyCancelled);
        }
        let recurring =
            ical::is_recurring(&data).map_err(|why| BackendError::Untrusted(format!("event {uid}: {why}")))?;
        if recurring {
            return Err(BackendError::Rejected(format!("event {uid} is a recurring series")));
        }
        let zone = ical::time_zone(&data).unwrap_or(chrono_tz::UTC);
        if report.read(zone).blocks(&span, Some(uid)) {
            return Err(BackendError::Taken);
        }
        let changed = ical::moved(&data, span.start, span.end, reason, Utc::now())
            .map_err(|why| BackendError::Rejected(format!("event {uid} cannot be moved here: {why}")))?;
        self.update(path, uid, etag, changed.clone(), until).await?;
        ical::booking(&changed).map_err(|why| BackendError::Untrusted(format!("event {uid}: {why}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(url: &str) -> Url {
        url.parse().unwrap()
    }

    #[test]
    fn calendar_paths_join_the_base_url_once() {
        let nextcloud = base("https://cloud.example/remote.php/dav");
        assert_eq!(
            collection_path(&nextcloud, "/calendars/praxis/termine/"),
            "/remote.php/dav/calendars/praxis/termine/"
        );
        assert_eq!(
            collection_path(&nextcloud, "/remote.php/dav/calendars/praxis/termine"),
            "/remote.php/dav/calendars/praxis/termine/"
        );
        assert_eq!(
            collection_path(&base("http://127.0.0.1:5232/"), "/alice/work/"),
            "/alice/work/"
        );
        assert_eq!(
            collection_path(&base("http://127.0.0.1:5232"), "alice/work"),
            "/alice/work/"
        );
    }

    #[test]
    fn only_uids_we_could_have_written_name_a_resource() {
        assert!(valid_uid("sg-01jq0000000000000000000000"));
        assert!(valid_uid("abc@example.org"));
        for bad in ["", "../other/x", "a/b", ".hidden", "a b", "x?y", "%2e%2e"] {
            assert!(!valid_uid(bad), "{bad}");
        }
    }

    #[test]
    fn the_password_never_shows_in_debug() {
        let account = CalDavAccount {
            base_url: "https://cloud.example/remote.php/dav".into(),
            username: "praxis".into(),
            password: "s3cret-pass".into(),
        };
        let dav = CalDav::new(&account, UrlPolicy::strict()).unwrap();
        let text = format!("{dav:?}");
        assert!(!text.contains("s3cret-pass") && text.contains("<redacted>"), "{text}");
    }

    #[tokio::test]
    async fn a_refused_server_url_is_rejected_without_a_request() {
        let account = CalDavAccount {
            base_url: "http://10.0.0.1/dav".into(),
            username: "u".into(),
            password: "p".into(),
        };
        let dav = CalDav::new(&account, UrlPolicy::strict()).unwrap();
        let calendar = CalendarRef::CalDav {
            calendar_path: "/u/c/".into(),
        };
        let err = dav.get(&calendar, "sg-1", Deadline::none()).await.unwrap_err();
        assert!(
            matches!(err, BackendError::Rejected(ref why) if why.contains("not allowed")),
            "{err:?}"
        );
    }
}
