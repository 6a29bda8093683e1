//! `POST /v2/bookings`, `GET /v2/bookings/{uid}`, `GET /v2/bookings` (offset pages, 2024-08-13).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;

use super::{BookingVersion, booking_version, json_response, parse_body, success, validation};
use crate::auth;
use crate::errors::{ApiError, texts};
use crate::model::{Booking, BookingOutput, BookingStatus};
use crate::ops::Created;
use crate::state::Shared;
use crate::webhooks::Event;

pub async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let version = booking_version(&headers)?;
    let caller = auth::authenticate(&headers, &shared.store())?;
    let input = validation::create(&parse_body(&body)?, version, &caller)?;
    let created = shared.store().create_booking(input)?;
    let booking = match created {
        Created::New(booking) => {
            shared.webhooks.emit(&Event::Created(&booking), shared.now()).await;
            booking
        }
        // Cal.com answers 201 with the old booking and sends no new webhook.
        Created::Existing(booking) => booking,
    };
    Ok(success(StatusCode::CREATED, booking.to_output()))
}

pub async fn read(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    booking_version(&headers)?;
    let store = shared.store();
    auth::authenticate(&headers, &store)?;
    let booking = store
        .booking(&uid)
        .ok_or_else(|| ApiError::not_found(texts::booking_not_found(&uid)))?;
    Ok(success(StatusCode::OK, booking.to_output()))
}

#[derive(Serialize)]
struct ListEnvelope<'a> {
    status: &'static str,
    data: Vec<BookingOutput<'a>>,
    pagination: Pagination,
}

/// Cal.com's pagination meta (field names are our assumption, see FIDELITY.md).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    total_items: usize,
    remaining_items: usize,
    returned_items: usize,
    items_per_page: usize,
    current_page: usize,
    total_pages: usize,
    has_next_page: bool,
    has_previous_page: bool,
}

struct Filters {
    statuses: Vec<String>,
    attendee_email: Option<String>,
    attendee_name: Option<String>,
    booking_uid: Option<String>,
    event_type_ids: Vec<i64>,
    after_start: Option<chrono::DateTime<chrono::Utc>>,
    before_end: Option<chrono::DateTime<chrono::Utc>>,
    after_created: Option<chrono::DateTime<chrono::Utc>>,
    before_created: Option<chrono::DateTime<chrono::Utc>>,
    take: usize,
    skip: usize,
}

const STATUSES: [&str; 5] = ["upcoming", "recurring", "past", "cancelled", "unconfirmed"];

fn filters(query: &HashMap<String, String>) -> Result<Filters, ApiError> {
    let mut errors = Vec::new();
    let list = |key: &str| -> Vec<String> {
        query
            .get(key)
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let statuses = list("status");
    if statuses.iter().any(|s| !STATUSES.contains(&s.as_str())) {
        let message = format!("status must be one of the following values: {}", STATUSES.join(", "));
        errors.push(crate::errors::field_error("status", "isEnum", message));
    }
    let mut event_type_ids: Vec<i64> = Vec::new();
    for raw in list("eventTypeIds").into_iter().chain(list("eventTypeId")) {
        match raw.parse() {
            Ok(id) => event_type_ids.push(id),
            Err(_) => errors.push(crate::errors::field_error(
                "eventTypeIds",
                "isInt",
                "eventTypeIds must be integers",
            )),
        }
    }
    let filters = Filters {
        statuses: if statuses.is_empty() {
            vec!["upcoming".into()]
        } else {
            statuses
        },
        attendee_email: query.get("attendeeEmail").cloned(),
        attendee_name: query.get("attendeeName").cloned(),
        booking_uid: query.get("bookingUid").cloned(),
        event_type_ids,
        after_start: validation::query_instant(query, "afterStart", &mut errors),
        before_end: validation::query_instant(query, "beforeEnd", &mut errors),
        after_created: validation::query_instant(query, "afterCreatedAt", &mut errors),
        before_created: validation::query_instant(query, "beforeCreatedAt", &mut errors),
        take: validation::query_number(query, "take", Some(250), &mut errors).unwrap_or(100) as usize,
        skip: validation::query_number(query, "skip", None, &mut errors).unwrap_or(0) as usize,
    };
    validation::into_result(errors)?;
    Ok(filters)
}

fn status_matches(status: &str, b: &Booking, now: chrono::DateTime<chrono::Utc>) -> bool {
    match status {
        "upcoming" => b.status.is_active() && b.end >= now,
        "unconfirmed" => b.status == BookingStatus::Pending && b.end >= now,
        "past" => b.status.is_active() && b.end < now,
        "cancelled" => matches!(b.status, BookingStatus::Cancelled | BookingStatus::Rejected),
        _ => false, // recurring: not reproduced
    }
}

fn keep(f: &Filters, b: &Booking, now: chrono::DateTime<chrono::Utc>) -> bool {
    let email_ok = f
        .attendee_email
        .as_ref()
        .is_none_or(|e| b.attendee.email.as_ref().is_some_and(|a| a.eq_ignore_ascii_case(e)));
    let name_ok = f
        .attendee_name
        .as_ref()
        .is_none_or(|n| b.attendee.name.to_lowercase().contains(&n.to_lowercase()));
    f.statuses.iter().any(|s| status_matches(s, b, now))
        && email_ok
        && name_ok
        && f.booking_uid.as_ref().is_none_or(|uid| &b.uid == uid)
        && (f.event_type_ids.is_empty() || f.event_type_ids.contains(&b.event_type_id))
        && f.after_start.is_none_or(|t| b.start >= t)
        && f.before_end.is_none_or(|t| b.end <= t)
        && f.after_created.is_none_or(|t| b.created_at >= t)
        && f.before_created.is_none_or(|t| b.created_at <= t)
}

pub async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let version = booking_version(&headers)?;
    if version == BookingVersion::V2026_05_01 {
        return Err(ApiError::bad_request(
            "calcom-standin: cursor pagination (cal-api-version 2026-05-01) is not reproduced; use 2024-08-13",
        ));
    }
    let store = shared.store();
    auth::require(&headers, &store)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let f = filters(&query)?;
    let now = store.now();
    let mut matching: Vec<&Booking> = store.bookings.iter().filter(|b| keep(&f, b, now)).collect();
    sort(&mut matching, &query);

    let total = matching.len();
    let page: Vec<BookingOutput<'_>> = matching
        .iter()
        .skip(f.skip)
        .take(f.take)
        .map(|b| b.to_output())
        .collect();
    let returned = page.len();
    let take = f.take.max(1);
    let pagination = Pagination {
        total_items: total,
        remaining_items: total.saturating_sub(f.skip + returned),
        returned_items: returned,
        items_per_page: f.take,
        current_page: f.skip / take + 1,
        total_pages: total.div_ceil(take),
        has_next_page: f.skip + returned < total,
        has_previous_page: f.skip > 0,
    };
    Ok(json_response(
        StatusCode::OK,
        &ListEnvelope {
            status: "success",
            data: page,
            pagination,
        },
    ))
}

/// `sortStart|sortEnd|sortCreated=asc|desc`; default start ascending (our assumption).
fn sort(bookings: &mut [&Booking], query: &HashMap<String, String>) {
    let (key, order) = [("sortStart", 0), ("sortEnd", 1), ("sortCreated", 2)]
        .iter()
        .find_map(|(name, key)| query.get(*name).map(|order| (*key, order.as_str())))
        .unwrap_or((0, "asc"));
    bookings.sort_by_key(|b| match key {
        1 => b.end,
        2 => b.created_at,
        _ => b.start,
    });
    if order == "desc" {
        bookings.reverse();
    }
}
