//! Fault injection per endpoint group: what the adapter must survive on a live call (§4).
//! Faults run after the rate limiter (a faulted request still costs quota and carries the headers).

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::{ApiError, texts};
use crate::state::{Shared, lock};
use crate::time;
use crate::webhooks::Event;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Endpoint {
    /// `GET /v2/slots`
    Slots,
    /// `/v2/slots/reservations*`
    Reservations,
    /// `POST /v2/bookings`
    Create,
    /// `GET /v2/bookings/{uid}`
    Get,
    /// `GET /v2/bookings`
    List,
    /// `POST /v2/bookings/{uid}/cancel`
    Cancel,
    /// `POST /v2/bookings/{uid}/reschedule`
    Reschedule,
}

impl Endpoint {
    pub fn classify(method: &Method, path: &str) -> Option<Self> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["v2", "slots"]) => Some(Self::Slots),
            (_, ["v2", "slots", "reservations", ..]) => Some(Self::Reservations),
            ("POST", ["v2", "bookings"]) => Some(Self::Create),
            ("GET", ["v2", "bookings"]) => Some(Self::List),
            ("GET", ["v2", "bookings", _]) => Some(Self::Get),
            ("POST", ["v2", "bookings", _, "cancel"]) => Some(Self::Cancel),
            ("POST", ["v2", "bookings", _, "reschedule"]) => Some(Self::Reschedule),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Fault {
    /// Answer this status: 500 with Cal.com's envelope; 502/503/504/52x as Cloudflare's plain text.
    Status(u16),
    /// Never answer (the client's timeout must fire).
    Hang,
    /// Answer normally, late ("slow Cal.com").
    Delay { ms: u64 },
    /// Do the work (the booking is written, webhooks go out), then never answer.
    CommitThenHang,
    /// Do the work, answer late (past the client's timeout).
    CommitThenDelay { ms: u64 },
    /// 200 with a truncated JSON body.
    Malformed,
    /// Someone else books the requested start just before this create/reschedule is handled.
    SlotTaken,
    /// 409 `booking_conflict_error`, nothing written (the race Cal.com reports on a unique-key clash).
    Conflict,
}

impl Fault {
    fn applies_to(&self, endpoint: Endpoint) -> bool {
        !matches!(self, Self::SlotTaken) || matches!(endpoint, Endpoint::Create | Endpoint::Reschedule)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Times {
    Next(u32),
    UntilCleared,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmedFault {
    /// `None` = every endpoint group.
    pub endpoint: Option<Endpoint>,
    pub fault: Fault,
    /// `None` = until cleared.
    pub remaining: Option<u32>,
}

impl ArmedFault {
    pub fn new(endpoint: Option<Endpoint>, fault: Fault, times: Times) -> Self {
        let remaining = match times {
            Times::Next(n) => Some(n),
            Times::UntilCleared => None,
        };
        Self {
            endpoint,
            fault,
            remaining,
        }
    }
}

/// First armed fault for this endpoint, counted down and dropped when used up.
fn take(shared: &Shared, endpoint: Endpoint) -> Option<Fault> {
    let mut faults = lock(&shared.faults);
    let index = faults.iter().position(|armed| {
        armed.endpoint.is_none_or(|e| e == endpoint) && armed.remaining != Some(0) && armed.fault.applies_to(endpoint)
    })?;
    let fault = faults[index].fault.clone();
    if let Some(left) = faults[index].remaining.as_mut() {
        *left -= 1;
        if *left == 0 {
            faults.remove(index);
        }
    }
    Some(fault)
}

pub async fn middleware(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let Some(endpoint) = Endpoint::classify(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let Some(fault) = take(&shared, endpoint) else {
        return next.run(request).await;
    };
    match fault {
        Fault::Status(code) => status_response(code),
        Fault::Hang => std::future::pending().await,
        Fault::Delay { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(request).await
        }
        Fault::CommitThenHang => {
            let _lost = next.run(request).await;
            std::future::pending().await
        }
        Fault::CommitThenDelay { ms } => {
            let response = next.run(request).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            response
        }
        Fault::Malformed => {
            let mut response = (StatusCode::OK, r#"{"status":"success","data":{"id":"#).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Fault::SlotTaken => {
            let request = take_slot_first(&shared, endpoint, request).await;
            next.run(request).await
        }
        Fault::Conflict => ApiError::conflict(texts::BOOKING_CONFLICT).into_response(),
    }
}

fn status_response(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match code {
        500 => ApiError::internal().into_response(),
        502..=504 | 520..=524 => (status, format!("error code: {code}")).into_response(),
        _ => ApiError::new(status, "HttpException", status.canonical_reason().unwrap_or("Error")).into_response(),
    }
}

/// Books the requested start for "someone else" (and sends their webhook), then hands the request on.
async fn take_slot_first(shared: &Shared, endpoint: Endpoint, request: Request) -> Request {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let start = json.get("start").and_then(Value::as_str).and_then(time::parse_instant);
    let foreign = {
        let mut store = shared.store();
        let event_type_id = match endpoint {
            Endpoint::Reschedule => {
                let uid = parts.uri.path().trim_matches('/').split('/').nth(2).unwrap_or_default();
                store.booking(uid).map(|b| b.event_type_id)
            }
            _ => json.get("eventTypeId").and_then(Value::as_i64),
        };
        match (event_type_id, start) {
            (Some(id), Some(start)) => store.insert_foreign_booking(id, start),
            _ => None,
        }
    };
    if let Some(booking) = foreign {
        shared.webhooks.emit(&Event::Created(&booking), shared.now()).await;
    }
    Request::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        assert_eq!(Endpoint::classify(&Method::GET, "/v2/slots"), Some(Endpoint::Slots));
        assert_eq!(
            Endpoint::classify(&Method::DELETE, "/v2/slots/reservations/x"),
            Some(Endpoint::Reservations)
        );
        assert_eq!(
            Endpoint::classify(&Method::POST, "/v2/bookings"),
            Some(Endpoint::Create)
        );
        assert_eq!(Endpoint::classify(&Method::GET, "/v2/bookings"), Some(Endpoint::List));
        assert_eq!(
            Endpoint::classify(&Method::GET, "/v2/bookings/abc"),
            Some(Endpoint::Get)
        );
        assert_eq!(
            Endpoint::classify(&Method::POST, "/v2/bookings/abc/cancel"),
            Some(Endpoint::Cancel)
        );
        assert_eq!(
            Endpoint::classify(&Method::POST, "/v2/bookings/abc/reschedule"),
            Some(Endpoint::Reschedule)
        );
        assert_eq!(Endpoint::classify(&Method::GET, "/v2/me"), None);
    }
}
