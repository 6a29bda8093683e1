//! The slot rules shared by `GET /v2/slots` and the create/reschedule checks, so an offered slot and a
//! booking attempt are judged the same way (a re-check that ignores buffers is a classic bug, see §5).
//!
//! A simplified working-hours engine: weekly rules in the schedule's zone, a grid from each rule's start
//! stepping by the slot interval, minimum notice, a rolling horizon, buffers, bookings and reservations.
//! No date overrides, limits per day/week, seats or travel schedules.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};

use crate::model::{EventType, Reservation};
use crate::state::Store;
use crate::time;

/// Longest `start`..`end` range walked, so a silly query cannot spin.
const MAX_DAYS: i64 = 400;

/// Working blocks of one local day as instants. A rule ending at or before its start runs past midnight.
fn blocks(et: &EventType, day: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = et.zone();
    et.working_hours
        .iter()
        .filter(|rule| rule.days.contains(&day.weekday()))
        .filter_map(|rule| {
            let start = time::local_to_utc(tz, day, rule.start)?;
            let end_day = if rule.end <= rule.start { day.succ_opt()? } else { day };
            let end = time::local_to_utc(tz, end_day, rule.end)?;
            Some((start, end))
        })
        .collect()
}

/// `[start, end)` lies inside one working block.
pub fn within_hours(et: &EventType, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
    let local_day = start.with_timezone(&et.zone()).date_naive();
    [local_day.pred_opt(), Some(local_day)]
        .into_iter()
        .flatten()
        .flat_map(|day| blocks(et, day))
        .any(|(from, to)| from <= start && end <= to)
}

/// Minimum notice and rolling horizon (the "out of bounds" 400).
pub fn in_bounds(et: &EventType, start: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    if start < now + Duration::minutes(i64::from(et.minimum_notice_minutes)) {
        return false;
    }
    let Some(days) = et.booking_horizon_days else {
        return true;
    };
    let tz = et.zone();
    let last_day = now.with_timezone(&tz).date_naive() + Duration::days(i64::from(days));
    match last_day
        .succ_opt()
        .and_then(|day| time::local_to_utc(tz, day, chrono::NaiveTime::MIN))
    {
        Some(horizon_end) => start < horizon_end,
        None => true,
    }
}

/// Busy check per host: active bookings of any of the host's event types, each widened by its own buffers,
/// against the candidate widened by this event type's buffers.
pub fn host_busy(
    store: &Store,
    et: &EventType,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    ignore_booking: Option<&str>,
) -> bool {
    let from = start - Duration::minutes(i64::from(et.before_buffer_minutes));
    let to = end + Duration::minutes(i64::from(et.after_buffer_minutes));
    store
        .bookings
        .iter()
        .filter(|b| b.status.is_active() && b.host.id == et.host.id)
        .filter(|b| ignore_booking != Some(b.uid.as_str()))
        .any(|b| {
            let busy_from = b.start - Duration::minutes(i64::from(b.before_buffer_minutes));
            let busy_to = b.end + Duration::minutes(i64::from(b.after_buffer_minutes));
            from < busy_to && busy_from < to
        })
}

/// Active reservations of the host overlapping the candidate, oldest first ("first in line").
pub fn reservations_overlapping<'a>(
    store: &'a Store,
    et: &EventType,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> impl Iterator<Item = &'a Reservation> {
    let now = store.now();
    let host = et.host.id;
    store
        .reservations
        .iter()
        .filter(move |r| r.host_id == host && r.until > now && r.slot_start < end && start < r.slot_end)
}

/// Slot starts in `[from, to]` for a given length. Reservations hide a slot for everybody, the reserver
/// included (Cal.com behaviour that made the seed system block itself, §3.7.4).
pub fn slot_starts(
    store: &Store,
    et: &EventType,
    length: u32,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    ignore_booking: Option<&str>,
) -> Vec<DateTime<Utc>> {
    if !et.managed_children.is_empty() || to < from {
        return Vec::new();
    }
    let tz = et.zone();
    let now = store.now();
    let length = Duration::minutes(i64::from(length));
    let step = Duration::minutes(i64::from(et.interval_minutes(length.num_minutes() as u32)));
    let first_day = from
        .with_timezone(&tz)
        .date_naive()
        .pred_opt()
        .unwrap_or(NaiveDate::MIN);
    let last_day = to
        .with_timezone(&tz)
        .date_naive()
        .min(first_day + Duration::days(MAX_DAYS));

    let mut starts = Vec::new();
    for day in first_day.iter_days().take_while(|day| *day <= last_day) {
        for (block_start, block_end) in blocks(et, day) {
            let mut start = block_start;
            while start + length <= block_end {
                let end = start + length;
                let free = start >= from
                    && start <= to
                    && start >= now
                    && in_bounds(et, start, now)
                    && !host_busy(store, et, start, end, ignore_booking)
                    && reservations_overlapping(store, et, start, end).next().is_none();
                if free {
                    starts.push(start);
                }
                start += step;
            }
        }
    }
    starts.sort();
    starts.dedup();
    starts
}
