//! `/_standin/*`: read-only views and fault switches for manual use of the binary (the library's
//! `Running` handle offers the same to in-process tests). Not logged, not rate limited.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::faults::{ArmedFault, Endpoint, Fault, Times};
use crate::model::Booking;
use crate::reqlog::LoggedRequest;
use crate::state::{Shared, lock};
use crate::webhooks::Delivery;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/bookings", get(bookings))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/webhooks", get(webhooks))
        .route("/faults", get(faults).post(arm_fault).delete(clear_faults))
}

async fn bookings(State(shared): State<Arc<Shared>>) -> Json<Vec<Booking>> {
    Json(shared.store().bookings.clone())
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
