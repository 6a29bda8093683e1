//! `/_standin/*`: read-only views, fault switches and the host's own changes (as made in Cal.com's
//! web app) for manual use of the binary (the library's `Running` handle offers the same to
//! in-process tests). Not logged, not rate limited.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::faults::{ArmedFault, Endpoint, Fault, Times};
use crate::model::Booking;
use crate::reqlog::LoggedRequest;
use crate::state::{Shared, lock};
use crate::webhooks::Delivery;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/bookings", get(bookings))
        .route("/bookings/{uid}/reschedule", post(staff_reschedule))
        .route("/bookings/{uid}/cancel", post(staff_cancel))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/webhooks", get(webhooks))
        .route("/faults", get(faults).post(arm_fault).delete(clear_faults))
}

async fn bookings(State(shared): State<Arc<Shared>>) -> Json<Vec<Booking>> {
    Json(shared.store().bookings.clone())
}

/// `{"start":"2026-03-03T13:00:00Z","reason":"…"}`; `reason` optional.
#[derive(Deserialize)]
struct StaffReschedule {
    start: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    reason: Option<String>,
}

/// `{"reason":"…"}`, optional.
#[derive(Deserialize, Default)]
struct StaffCancel {
    #[serde(default)]
    reason: Option<String>,
}

fn staff_answer(result: Result<Booking, crate::errors::ApiError>, created: StatusCode) -> Response {
    match result {
        Ok(booking) => (created, Json(json!(booking.to_output()))).into_response(),
        Err(e) => (e.status, Json(json!({"error": e.message}))).into_response(),
    }
}

/// The host moves a booking in Cal.com's web app (new uid; webhook delivered before the answer).
async fn staff_reschedule(
    State(shared): State<Arc<Shared>>,
    Path(uid): Path<String>,
    Json(request): Json<StaffReschedule>,
) -> Response {
    staff_answer(
        crate::staff::reschedule(&shared, &uid, request.start, request.reason).await,
        StatusCode::CREATED,
    )
}

/// The host cancels a booking in Cal.com's web app (webhook delivered before the answer).
async fn staff_cancel(
    State(shared): State<Arc<Shared>>,
    Path(uid): Path<String>,
    request: Option<Json<StaffCancel>>,
) -> Response {
    let reason = request.map(|Json(r)| r.reason).unwrap_or_default();
    staff_answer(crate::staff::cancel(&shared, &uid, reason).await, StatusCode::OK)
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Vec<LoggedRequest>> {
    Json(lock(&shared.log).clone())
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.log).clear();
    StatusCode::NO_CONTENT
}

async fn webhooks(State(shared): State<Arc<Shared>>) -> Json<Vec<Delivery>> {
    Json(shared.webhooks.deliveries())
}

async fn faults(State(shared): State<Arc<Shared>>) -> Json<Vec<ArmedFault>> {
    Json(lock(&shared.faults).clone())
}

/// `{"endpoint":"create","fault":"hang","times":{"next":1}}`; `endpoint` absent = all, `times` absent = until cleared.
#[derive(Deserialize)]
struct FaultRequest {
    #[serde(default)]
    endpoint: Option<Endpoint>,
    fault: Fault,
    #[serde(default)]
    times: Option<Times>,
}

async fn arm_fault(State(shared): State<Arc<Shared>>, Json(request): Json<FaultRequest>) -> StatusCode {
    let times = request.times.unwrap_or(Times::UntilCleared);
    lock(&shared.faults).push(ArmedFault::new(request.endpoint, request.fault, times));
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    lock(&shared.faults).clear();
    StatusCode::NO_CONTENT
}
