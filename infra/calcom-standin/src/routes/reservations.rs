//! `/v2/slots/reservations` (2024-09-04): create (201), read, update, delete (`{"status":"success"}`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use super::{json_response, parse_body, require_slots_version, success, validation};
use crate::auth;
use crate::errors::ApiError;
use crate::state::Shared;

pub async fn create(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_slots_version(&headers, &method, &uri)?;
    let caller = auth::authenticate(&headers, &shared.store())?;
    let input = validation::reservation(&parse_body(&body)?, &caller)?;
    let reservation = shared.store().reserve(input)?;
    Ok(success(StatusCode::CREATED, reservation.to_output()))
}

pub async fn read(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    require_slots_version(&headers, &method, &uri)?;
    let reservation = shared.store().reservation(&uid)?;
    Ok(success(StatusCode::OK, reservation.to_output()))
}

pub async fn update(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(uid): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_slots_version(&headers, &method, &uri)?;
    let caller = auth::authenticate(&headers, &shared.store())?;
    let input = validation::reservation(&parse_body(&body)?, &caller)?;
    let reservation = shared.store().update_reservation(&uid, input)?;
    Ok(success(StatusCode::OK, reservation.to_output()))
}

#[derive(Serialize)]
struct StatusOnly {
    status: &'static str,
}

pub async fn remove(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    require_slots_version(&headers, &method, &uri)?;
    shared.store().delete_reservation(&uid)?;
    Ok(json_response(StatusCode::OK, &StatusOnly { status: "success" }))
}
