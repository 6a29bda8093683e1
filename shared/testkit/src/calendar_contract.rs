//! The contract every `CalendarBackend` keeps, whatever it talks to (Cal.com's API v2, a CalDAV
//! server): run by each adapter's tests against its own stand-in or server, so the engine can
//! rely on the port and never on one backend's quirks. It uses only the port and a
//! [`CalendarFixture`], the calendar the backend under test must be set up as:
//!
//! - zone Europe/Berlin, open Monday to Friday 09:00–17:00, no closures;
//! - one 30-minute service on a 15-minute grid, 60 minutes minimum notice, 60 days ahead;
//! - a fixed `now`: Thursday 2026-03-26 09:00 UTC (10:00 in Berlin), three days before the
//!   switch to summer time (Sunday 2026-03-29), so one query can span both offsets.
//!
//! Each check works on its own days (listed on the check), so the checks are independent of each
//! other and of their order, and deterministic on a fresh calendar. Queries carry `rules` and
//! `opening`, so a backend without its own availability engine (CalDAV) produces the same slots.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike, Utc, Weekday};
use gateway_domain::appointments::backend::{
    Attendee, BackendBooking, BackendError, BackendStatus, BookingMetadata, BookingRequest, CalendarBackend,
    CalendarRef, SlotQuery,
};
use gateway_domain::appointments::calendar::hours::{BranchCalendar, OpenInterval, WeeklyHours};
use gateway_domain::appointments::calendar::local_time::Span;
use gateway_domain::appointments::calendar::slots::{ServiceRules, Slot};
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};
use gateway_domain::locale::TimeZone as Zone;

/// The calendar the suite expects the backend to be configured as (see the module docs).
#[derive(Debug, Clone)]
pub struct CalendarFixture {
    /// Europe/Berlin, Monday–Friday 09:00–17:00.
    pub opening: BranchCalendar,
    /// 30 minutes, 15-minute grid, 60 minutes notice, 60 days horizon, no buffers.
    pub rules: ServiceRules,
    /// Thursday 2026-03-26 09:00 UTC; a backend with its own clock must be frozen at it.
    pub now: DateTime<Utc>,
    /// The service's name, used as the booking title.
    pub title: String,
}

impl Default for CalendarFixture {
    fn default() -> Self {
        Self::standard()
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// A date of the suite (all valid, written as literals).
pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl CalendarFixture {
    pub fn standard() -> Self {
        let mut hours = WeeklyHours::closed();
        for day in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
            let open = OpenInterval::new(hm(9, 0), hm(17, 0)).into_iter().collect();
            hours = hours
                .with_day(day, open)
                .unwrap_or_else(|e| panic!("fixture hours: {e}"));
        }
        let tz = "Europe/Berlin"
            .parse::<Zone>()
            .unwrap_or_else(|e| panic!("fixture zone: {e}"))
            .tz();
        let mut rules = ServiceRules::new(TimeDelta::minutes(30));
        rules.grid_step = TimeDelta::minutes(15);
        rules.min_notice = TimeDelta::minutes(60);
        rules.horizon_days = 60;
        Self {
            opening: BranchCalendar {
                tz,
                hours,
                closures: Vec::new(),
            },
            rules,
            now: Utc.with_ymd_and_hms(2026, 3, 26, 9, 0, 0).single().unwrap_or_default(),
            title: "Beratung".into(),
        }
    }

    /// Opening time and closing time of the fixture's days (09:00, 17:00).
    pub fn hours(&self) -> (NaiveTime, NaiveTime) {
        (hm(9, 0), hm(17, 0))
    }

    /// The service's length in minutes (30).
    pub fn duration_minutes(&self) -> i64 {
        self.rules.duration.num_minutes()
    }

    /// The instant of a local wall-clock time on `day` (never in a DST gap in this suite).
    pub fn local(&self, day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
        self.opening
            .tz
            .from_local_datetime(&day.and_time(hm(h, m)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| panic!("{day} {h:02}:{m:02} does not exist in Berlin"))
    }

    /// Local days `[first, last]` as instants: local midnight to the local midnight after `last`.
    pub fn days(&self, first: NaiveDate, last: NaiveDate) -> Span {
        let start = self.local(first, 0, 0);
        let end = self.local(last.succ_opt().unwrap_or(last), 0, 0);
        Span::new(start, end).unwrap_or_else(|| panic!("empty range {first}..{last}"))
    }

    /// The slot query for local days `[first, last]`, rules and hours included.
    pub fn query(&self, calendar: &CalendarRef, first: NaiveDate, last: NaiveDate) -> SlotQuery {
        SlotQuery {
            calendar: calendar.clone(),
            range: self.days(first, last),
            time_zone: self.opening.tz,
            duration: self.rules.duration,
            rules: Some(self.rules.clone()),
            opening: Some(self.opening.clone()),
            now: self.now,
        }
    }

    /// The slot query for one local day.
    pub fn day_query(&self, calendar: &CalendarRef, day: NaiveDate) -> SlotQuery {
        self.query(calendar, day, day)
    }

    /// A booking of `slot` for `attendee`, with the check's own ids.
    pub fn booking(&self, calendar: &CalendarRef, slot: &Slot, attendee: Attendee, check: &str) -> BookingRequest {
        BookingRequest {
            calendar: calendar.clone(),
            slot: slot.clone(),
            time_zone: self.opening.tz,
            attendee,
            title: self.title.clone(),
            reservation: None,
            metadata: metadata(check),
        }
    }
}

/// Our ids for one check's booking.
pub fn metadata(check: &str) -> BookingMetadata {
    BookingMetadata {
        company_id: CompanyId::new("contract-co"),
        call_id: CallId::new(format!("call_contract_{check}")),
        appointment_id: AppointmentId::new(format!("01CONTRACT{}", check.to_uppercase())),
    }
}

/// A caller with a German mobile number (E.164), no e-mail.
pub fn caller(name: &str, number: u32) -> Attendee {
    Attendee {
        name: name.into(),
        phone: Some(format!("+49151{number:08}")),
        email: None,
        language: "de".into(),
    }
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(10))
}

async fn slots(backend: &dyn CalendarBackend, query: &SlotQuery, check: &str) -> Vec<Slot> {
    backend
        .free_slots(query, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: free_slots failed: {e:?}"))
}

async fn day_slots(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
    day: NaiveDate,
    check: &str,
) -> Vec<Slot> {
    slots(backend, &fixture.day_query(calendar, day), check).await
}

fn offered(slots: &[Slot], start: DateTime<Utc>) -> bool {
    slots.iter().any(|s| s.start == start)
}

/// The offered slot of `day` starting at local `h:m`; panics when it is not offered.
pub async fn slot_at(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
    day: NaiveDate,
    (h, m): (u32, u32),
    check: &str,
) -> Slot {
    let start = fixture.local(day, h, m);
    day_slots(backend, calendar, fixture, day, check)
        .await
        .into_iter()
        .find(|s| s.start == start)
        .unwrap_or_else(|| panic!("{check}: {day} {h:02}:{m:02} (= {start}) is not offered"))
}

async fn book(backend: &dyn CalendarBackend, request: &BookingRequest, check: &str) -> BackendBooking {
    backend
        .book(request, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: booking {} failed: {e:?}", request.slot.start))
}

fn assert_is_booking_of(booking: &BackendBooking, request: &BookingRequest, check: &str) {
    assert!(!booking.uid.is_empty(), "{check}: a booking needs a uid");
    assert_eq!(booking.start, request.slot.start, "{check}: start");
    assert_eq!(booking.end, request.slot.end, "{check}: end");
    assert_ne!(booking.status, BackendStatus::Cancelled, "{check}: status");
    if let Some(attendee) = &booking.attendee {
        assert_eq!(attendee.name, request.attendee.name, "{check}: attendee");
    }
}

/// Every check, each on its own days.
pub async fn run_all(backend: &dyn CalendarBackend, calendar: &CalendarRef, fixture: &CalendarFixture) {
    finds_slots_on_both_sides_of_the_dst_switch(backend, calendar, fixture).await;
    respects_notice_and_horizon(backend, calendar, fixture).await;
    books_across_the_dst_switch(backend, calendar, fixture).await;
    reserves_and_releases(backend, calendar, fixture).await;
    a_booked_slot_is_no_longer_offered(backend, calendar, fixture).await;
    a_second_booking_of_the_slot_is_refused(backend, calendar, fixture).await;
    gets_a_booking(backend, calendar, fixture).await;
    cancels_and_frees_the_slot(backend, calendar, fixture).await;
    reschedules_and_frees_the_old_slot(backend, calendar, fixture).await;
}

/// Friday 2026-03-27 (winter time), Saturday 03-28, Monday 03-30 (summer time): 09:00 local is
/// 08:00Z before the switch and 07:00Z after it; slots only inside 09:00–17:00 on the 15-minute
/// grid, each 30 minutes; nothing on the weekend; one query over all four days says the same.
pub async fn finds_slots_on_both_sides_of_the_dst_switch(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
) {
    let check = "finds_slots";
    let (friday, saturday, monday) = (date(2026, 3, 27), date(2026, 3, 28), date(2026, 3, 30));
    let tz = fixture.opening.tz;
    let (open, close) = fixture.hours();
    let length = fixture.rules.duration;

    let fri = day_slots(backend, calendar, fixture, friday, check).await;
    let first = fri
        .first()
        .unwrap_or_else(|| panic!("{check}: nothing offered on {friday}"));
    assert_eq!(first.start, utc("2026-03-27T08:00:00Z"), "{check}: 09:00 CET is 08:00Z");
    assert_eq!(
        fri.last().map(|s| s.start),
        Some(utc("2026-03-27T15:30:00Z")),
        "{check}: last 16:30 CET"
    );
    assert_eq!(fri.len(), 31, "{check}: 09:00..16:30 every 15 minutes");

    let mon = day_slots(backend, calendar, fixture, monday, check).await;
    assert_eq!(
        mon.first().map(|s| s.start),
        Some(utc("2026-03-30T07:00:00Z")),
        "{check}: 09:00 CEST is 07:00Z"
    );
    assert_eq!(
        mon.last().map(|s| s.start),
        Some(utc("2026-03-30T14:30:00Z")),
        "{check}: last 16:30 CEST"
    );
    assert_eq!(mon.len(), 31, "{check}: Monday after the switch");

    let sat = day_slots(backend, calendar, fixture, saturday, check).await;
    assert!(sat.is_empty(), "{check}: Saturday is closed, got {sat:?}");

    for slot in fri.iter().chain(&mon) {
        let start = slot.start.with_timezone(&tz);
        let end = slot.end.with_timezone(&tz);
        assert_eq!(
            slot.end - slot.start,
            length,
            "{check}: {slot:?} lasts the service's length"
        );
        assert!(
            start.time() >= open && end.time() <= close,
            "{check}: {slot:?} outside 09:00–17:00"
        );
        assert!(
            start.minute() % 15 == 0 && start.second() == 0,
            "{check}: {slot:?} off the grid"
        );
    }

    let all = slots(backend, &fixture.query(calendar, friday, monday), check).await;
    let days: Vec<NaiveDate> = all.iter().map(|s| s.start.with_timezone(&tz).date_naive()).collect();
    assert!(
        days.iter().all(|d| *d == friday || *d == monday),
        "{check}: only Friday and Monday are open"
    );
    assert_eq!(all.len(), 62, "{check}: one query across the switch finds both days");
    assert!(
        all.windows(2).all(|w| w[0].start < w[1].start),
        "{check}: slots come sorted and unique"
    );
    assert!(offered(&all, utc("2026-03-27T08:00:00Z")) && offered(&all, utc("2026-03-30T07:00:00Z")));
}

/// Today (Thursday 2026-03-26, 10:00 local): nothing before now + 60 minutes (11:00 local =
/// 10:00Z). Monday 2026-05-25 is the last bookable day (today + 60), Tuesday 05-26 is beyond.
pub async fn respects_notice_and_horizon(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
) {
    let check = "notice_and_horizon";
    let today = day_slots(backend, calendar, fixture, date(2026, 3, 26), check).await;
    let earliest = fixture.now + fixture.rules.min_notice;
    assert_eq!(
        today.first().map(|s| s.start),
        Some(earliest),
        "{check}: first slot today"
    );
    assert!(today.iter().all(|s| s.start >= earliest), "{check}: minimum notice");

    let last_day = day_slots(backend, calendar, fixture, date(2026, 5, 25), check).await;
    assert_eq!(last_day.len(), 31, "{check}: the horizon's last day is bookable");
    let beyond = day_slots(backend, calendar, fixture, date(2026, 5, 26), check).await;
    assert!(beyond.is_empty(), "{check}: beyond the horizon, got {beyond:?}");
}

/// Booked on Thursday 2026-03-26 (winter time) for Tuesday 03-31 09:00 (summer time): the
/// booking starts at 07:00Z, reads back so, and that day's first offer becomes 09:30 (07:30Z).
pub async fn books_across_the_dst_switch(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
) {
    let check = "dst_booking";
    let day = date(2026, 3, 31);
    let slot = slot_at(backend, calendar, fixture, day, (9, 0), check).await;
    assert_eq!(slot.start, utc("2026-03-31T07:00:00Z"), "{check}: 09:00 CEST");
    let request = fixture.booking(calendar, &slot, caller("Dora Sommer", 1), check);
    let booking = book(backend, &request, check).await;
    assert_is_booking_of(&booking, &request, check);
    let read = backend
        .get(calendar, &booking.uid, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: get failed: {e:?}"));
    assert_eq!(read.start, utc("2026-03-31T07:00:00Z"), "{check}: read back");
    assert_eq!(read.end, utc("2026-03-31T07:30:00Z"), "{check}: read back");
    let after = day_slots(backend, calendar, fixture, day, check).await;
    assert_eq!(
        after.first().map(|s| s.start),
        Some(utc("2026-03-31T07:30:00Z")),
        "{check}"
    );
}

/// Wednesday 2026-04-01 10:00: a backend reservation (`Some`) or none (`None`) are both fine;
/// after `release` the slot is offered again.
pub async fn reserves_and_releases(backend: &dyn CalendarBackend, calendar: &CalendarRef, fixture: &CalendarFixture) {
    let check = "reserve";
    let day = date(2026, 4, 1);
    let slot = slot_at(backend, calendar, fixture, day, (10, 0), check).await;
    let reservation = backend
        .reserve(calendar, &slot, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: reserve failed: {e:?}"));
    if let Some(reservation) = reservation {
        assert!(!reservation.uid.is_empty(), "{check}: a reservation needs a uid");
        backend
            .release(&reservation, deadline())
            .await
            .unwrap_or_else(|e| panic!("{check}: release failed: {e:?}"));
    }
    let after = day_slots(backend, calendar, fixture, day, check).await;
    assert!(offered(&after, slot.start), "{check}: released slot is offered again");
}

/// Thursday 2026-04-02 10:00, reserved first where the backend can: the booking holds the slot,
/// which is no longer offered, while its neighbours still are.
pub async fn a_booked_slot_is_no_longer_offered(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
) {
    let check = "book";
    let day = date(2026, 4, 2);
    let slot = slot_at(backend, calendar, fixture, day, (10, 0), check).await;
    let reservation = backend
        .reserve(calendar, &slot, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: reserve failed: {e:?}"));
    let mut request = fixture.booking(calendar, &slot, caller("Emil Winter", 2), check);
    request.reservation = reservation;
    let booking = book(backend, &request, check).await;
    assert_is_booking_of(&booking, &request, check);
    let after = day_slots(backend, calendar, fixture, day, check).await;
    assert!(!offered(&after, slot.start), "{check}: booked slot still offered");
    assert!(
        !offered(&after, slot.start + TimeDelta::minutes(15)),
        "{check}: an overlapping start is still offered"
    );
    assert!(offered(&after, slot.end), "{check}: the slot right after is free");
    assert!(
        offered(&after, slot.start - fixture.rules.duration),
        "{check}: the slot right before is free"
    );
}

/// Friday 2026-04-03 11:00: a second booking of the same slot by ANOTHER attendee is `Taken` (or
/// `Untrusted`, when the backend answers with the first booking); never a second booking, and the
/// first one is unchanged.
pub async fn a_second_booking_of_the_slot_is_refused(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
) {
    let check = "double";
    let day = date(2026, 4, 3);
    let slot = slot_at(backend, calendar, fixture, day, (11, 0), check).await;
    let first_request = fixture.booking(calendar, &slot, caller("Frieda Erst", 3), check);
    let first = book(backend, &first_request, check).await;
    let mut second_request = fixture.booking(calendar, &slot, caller("Gustav Zweit", 4), "double_second");
    second_request.attendee.email = Some("gustav.zweit@example.de".into());
    match backend.book(&second_request, deadline()).await {
        Err(BackendError::Taken | BackendError::Untrusted(_)) => {}
        other => panic!(
            "{check}: a second booking of {} must be refused, got {other:?}",
            slot.start
        ),
    }
    let read = backend
        .get(calendar, &first.uid, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: get failed: {e:?}"));
    assert_is_booking_of(&read, &first_request, check);
    let after = day_slots(backend, calendar, fixture, day, check).await;
    assert!(
        !offered(&after, slot.start),
        "{check}: slot offered after the refused booking"
    );
}

/// Monday 2026-04-06 12:00: a booking reads back with its uid, times, status, attendee and our
/// ids; an unknown uid is `NotFound`.
pub async fn gets_a_booking(backend: &dyn CalendarBackend, calendar: &CalendarRef, fixture: &CalendarFixture) {
    let check = "get";
    let day = date(2026, 4, 6);
    let slot = slot_at(backend, calendar, fixture, day, (12, 0), check).await;
    let mut attendee = caller("Hanna Lesen", 5);
    attendee.email = Some("hanna.lesen@example.de".into());
    let request = fixture.booking(calendar, &slot, attendee, check);
    let booking = book(backend, &request, check).await;
    let read = backend
        .get(calendar, &booking.uid, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: get failed: {e:?}"));
    assert_eq!(read.uid, booking.uid, "{check}: uid");
    assert_is_booking_of(&read, &request, check);
    assert!(
        matches!(read.status, BackendStatus::Accepted | BackendStatus::Pending),
        "{check}: status {:?}",
        read.status
    );
    let ours = request.metadata.to_map();
    for key in ["call_id", "appointment_id"] {
        assert_eq!(read.metadata.get(key), ours.get(key), "{check}: metadata {key} is kept");
    }
    match backend.get(calendar, "contract-unknown-uid-000001", deadline()).await {
        Err(BackendError::NotFound) => {}
        other => panic!("{check}: an unknown uid must be NotFound, got {other:?}"),
    }
}

/// Tuesday 2026-04-07 13:00: cancelling frees the slot; the booking then reads as cancelled (or is
/// gone); cancelling again is `AlreadyCancelled` or `NotFound`.
pub async fn cancels_and_frees_the_slot(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
) {
    let check = "cancel";
    let day = date(2026, 4, 7);
    let slot = slot_at(backend, calendar, fixture, day, (13, 0), check).await;
    let request = fixture.booking(calendar, &slot, caller("Ida Absage", 6), check);
    let booking = book(backend, &request, check).await;
    let hidden = day_slots(backend, calendar, fixture, day, check).await;
    assert!(!offered(&hidden, slot.start), "{check}: booked slot still offered");

    backend
        .cancel(calendar, &booking.uid, "Kunde verhindert", deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: cancel failed: {e:?}"));
    let after = day_slots(backend, calendar, fixture, day, check).await;
    assert!(offered(&after, slot.start), "{check}: cancelled slot is offered again");
    match backend.get(calendar, &booking.uid, deadline()).await {
        Ok(read) => assert_eq!(read.status, BackendStatus::Cancelled, "{check}: reads as cancelled"),
        Err(BackendError::NotFound) => {}
        Err(e) => panic!("{check}: get after cancel failed: {e:?}"),
    }
    match backend.cancel(calendar, &booking.uid, "nochmal", deadline()).await {
        Err(BackendError::AlreadyCancelled | BackendError::NotFound) => {}
        other => panic!("{check}: a second cancel must be AlreadyCancelled or NotFound, got {other:?}"),
    }
}

/// Wednesday 2026-04-08 14:00 moved to Thursday 04-09 15:00: the answer is at the new time (a new
/// uid names the old one in `rescheduled_from`), reads back so, the old slot is offered again and
/// the new one is not.
pub async fn reschedules_and_frees_the_old_slot(
    backend: &dyn CalendarBackend,
    calendar: &CalendarRef,
    fixture: &CalendarFixture,
) {
    let check = "reschedule";
    let (old_day, new_day) = (date(2026, 4, 8), date(2026, 4, 9));
    let old_slot = slot_at(backend, calendar, fixture, old_day, (14, 0), check).await;
    let new_slot = slot_at(backend, calendar, fixture, new_day, (15, 0), check).await;
    let request = fixture.booking(calendar, &old_slot, caller("Jonas Verlegt", 7), check);
    let booking = book(backend, &request, check).await;

    let moved = backend
        .reschedule(calendar, &booking.uid, &new_slot, "Terminwunsch geaendert", deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: reschedule failed: {e:?}"));
    assert_eq!(moved.start, new_slot.start, "{check}: new start");
    assert_eq!(moved.end, new_slot.end, "{check}: new end");
    assert_ne!(moved.status, BackendStatus::Cancelled, "{check}: status");
    if moved.uid != booking.uid {
        assert_eq!(
            moved.rescheduled_from.as_deref(),
            Some(booking.uid.as_str()),
            "{check}: a new uid names the old one"
        );
    }
    let read = backend
        .get(calendar, &moved.uid, deadline())
        .await
        .unwrap_or_else(|e| panic!("{check}: get failed: {e:?}"));
    assert_eq!(
        (read.start, read.end),
        (new_slot.start, new_slot.end),
        "{check}: read back"
    );

    let old_after = day_slots(backend, calendar, fixture, old_day, check).await;
    assert!(
        offered(&old_after, old_slot.start),
        "{check}: the old slot is free again"
    );
    let new_after = day_slots(backend, calendar, fixture, new_day, check).await;
    assert!(!offered(&new_after, new_slot.start), "{check}: the new slot is taken");
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("instant {s}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_domain::appointments::calendar::slots::free_slots;

    /// The fixture's own numbers, computed with the domain's slot engine (what a CalDAV backend
    /// uses): if these drift, the suite's expectations are wrong, not the backend.
    #[test]
    fn the_domain_engine_agrees_with_the_suite() {
        let f = CalendarFixture::standard();
        let cal = CalendarRef::CalDav {
            calendar_path: "/x/".into(),
        };
        let count = |first, last| {
            let q = f.query(&cal, first, last);
            free_slots(q.range, &f.opening, &f.rules, &[], f.now).unwrap()
        };
        let fri = count(date(2026, 3, 27), date(2026, 3, 27));
        assert_eq!(fri.len(), 31);
        assert_eq!(fri[0].start, utc("2026-03-27T08:00:00Z"));
        let mon = count(date(2026, 3, 30), date(2026, 3, 30));
        assert_eq!(mon[0].start, utc("2026-03-30T07:00:00Z"));
        assert_eq!(count(date(2026, 3, 27), date(2026, 3, 30)).len(), 62);
        assert!(count(date(2026, 3, 28), date(2026, 3, 28)).is_empty());
        let today = count(date(2026, 3, 26), date(2026, 3, 26));
        assert_eq!(today[0].start, utc("2026-03-26T10:00:00Z"));
        assert_eq!(count(date(2026, 5, 25), date(2026, 5, 25)).len(), 31);
        assert!(count(date(2026, 5, 26), date(2026, 5, 26)).is_empty());
        assert_eq!(
            f.day_query(&cal, date(2026, 3, 29)).range.end - f.days(date(2026, 3, 29), date(2026, 3, 29)).start,
            TimeDelta::hours(23)
        );
    }
}
