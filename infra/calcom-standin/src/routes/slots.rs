//! `GET /v2/slots` (2024-09-04): `{"data":{"YYYY-MM-DD":[{start}|{start,end}]},"status":"success"}`,
//! `data` before `status`, offsets and day keys in the requested `timeZone` (default UTC).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use chrono::Duration;
use chrono_tz::Tz;
use serde::Serialize;

use super::{json_response, require_slots_version, validation};
use crate::availability;
use crate::errors::{ApiError, field_error, texts};
use crate::ops::EventTypeRef;
use crate::time::{self, Bound};

#[derive(Serialize)]
struct SlotsEnvelope {
    data: BTreeMap<String, Vec<SlotItem>>,
    status: &'static str,
}

#[derive(Serialize)]
struct SlotItem {
    start: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<String>,
}

struct SlotsQuery {
    event_type: EventTypeRef,
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    zone: Tz,
    duration: Option<u32>,
    range: bool,
    reschedule_uid: Option<String>,
}

fn parse(query: &HashMap<String, String>) -> Result<SlotsQuery, ApiError> {
    let mut errors = Vec::new();
    let event_type = match (
        query.get("eventTypeId"),
        query.get("eventTypeSlug"),
        query.get("username"),
    ) {
        (Some(raw), _, _) => {
            let id = raw.parse::<i64>().ok();
            if id.is_none() {
                errors.push(field_error(
                    "eventTypeId",
                    "isInt",
                    "eventTypeId must be an integer number",
                ));
            }
            id.map(EventTypeRef::Id)
        }
        (None, Some(slug), Some(username)) => Some(EventTypeRef::Slug {
            slug: slug.clone(),
            username: username.clone(),
        }),
        _ => {
            errors.push(field_error(
                "eventTypeId",
                "isInt",
                "Either eventTypeId or eventTypeSlug + username must be provided",
            ));
            None
        }
    };
    let mut bound = |key: &str, which: Bound| {
        let parsed = query.get(key).and_then(|raw| time::parse_bound(raw, which));
        if parsed.is_none() {
            errors.push(field_error(
                key,
                "isISO8601",
                format!("{key} must be a valid ISO 8601 date string"),
            ));
        }
        parsed
    };
    let start = bound("start", Bound::Start);
    let end = bound("end", Bound::End);
    let zone = match query.get("timeZone") {
        None => Some(Tz::UTC),
        Some(name) => time::parse_zone(name),
    };
    if zone.is_none() {
        errors.push(field_error(
            "timeZone",
            "isTimeZone",
            "timeZone must be a valid IANA time zone",
        ));
    }
    let duration = validation::query_number(query, "duration", Some(24 * 60), &mut errors).map(|d| d as u32);
    let range = match query.get("format").map(String::as_str) {
        None | Some("time") => false,
        Some("range") => true,
        Some(_) => {
            errors.push(field_error(
                "format",
                "isEnum",
                "format must be one of the following values: range, time",
            ));
            false
        }
    };
    validation::into_result(errors)?;
    match (event_type, start, end, zone) {
        (Some(event_type), Some(start), Some(end), Some(zone)) => Ok(SlotsQuery {
            event_type,
            start,
            end,
            zone,
            duration,
            range,
            reschedule_uid: query.get("bookingUidToReschedule").cloned(),
        }),
        _ => Err(ApiError::validation(Vec::new())),
    }
}

pub async fn get_slots(
    State(shared): State<Arc<crate::state::Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    require_slots_version(&headers, &method, &uri)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let q = parse(&query)?;

    let mut store = shared.store();
    store.purge_expired_reservations();
    let et = match &q.event_type {
        EventTypeRef::Id(id) => store.event_type(*id),
        EventTypeRef::Slug { slug, username } => store.event_type_by_slug(slug, username),
    }
    .cloned()
    .ok_or_else(|| ApiError::not_found(texts::SLOTS_EVENT_TYPE_NOT_FOUND))?;
    let length = match q.duration {
        Some(d) if et.length_options.contains(&d) => d,
        Some(d) if et.is_multi_length() => {
            return Err(ApiError::bad_request(format!(
                "Requested duration {d} is not one of the possible lengths {:?} of the event type.",
                et.length_options
            )));
        }
        _ => et.length_in_minutes,
    };
    let starts = availability::slot_starts(&store, &et, length, q.start, q.end, q.reschedule_uid.as_deref());
    drop(store);

    let mut data: BTreeMap<String, Vec<SlotItem>> = BTreeMap::new();
    for start in starts {
        let day = start.with_timezone(&q.zone).format("%Y-%m-%d").to_string();
        let end = q
            .range
            .then(|| time::fmt_in_zone(start + Duration::minutes(i64::from(length)), q.zone));
        data.entry(day).or_default().push(SlotItem {
            start: time::fmt_in_zone(start, q.zone),
            end,
        });
    }
    Ok(json_response(
        StatusCode::OK,
        &SlotsEnvelope {
            data,
            status: "success",
        },
    ))
}
