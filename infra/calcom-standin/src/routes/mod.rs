//! The router at Cal.com's real paths, version routing and the success envelopes.

mod bookings;
mod lifecycle;
mod reservations;
mod slots;
mod validation;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::Value;

use crate::errors::{ApiError, texts};
use crate::state::Shared;
use crate::{control, errors, faults, ratelimit, reqlog};

pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route("/v2/slots", get(slots::get_slots))
        .route("/v2/slots/reservations", post(reservations::create))
        .route(
            "/v2/slots/reservations/{uid}",
            get(reservations::read)
                .patch(reservations::update)
                .delete(reservations::remove),
        )
        .route("/v2/bookings", post(bookings::create).get(bookings::list))
        .route("/v2/bookings/{uid}", get(bookings::read))
        .route("/v2/bookings/{uid}/cancel", post(lifecycle::cancel))
        .route("/v2/bookings/{uid}/reschedule", post(lifecycle::reschedule))
        .fallback(cannot)
        .method_not_allowed_fallback(cannot)
        // Outermost last: log → error rendering → rate limit → faults → handler.
        .layer(from_fn_with_state(shared.clone(), faults::middleware))
        .layer(from_fn_with_state(shared.clone(), ratelimit::middleware))
        .layer(from_fn_with_state(shared.clone(), errors::render))
        .layer(from_fn_with_state(shared.clone(), reqlog::middleware));
    Router::new()
        .nest("/_standin", control::router())
        .merge(api)
        .with_state(shared)
}

/// NestJS answers unknown routes and methods with 404 `Cannot METHOD /path?query`.
async fn cannot(method: Method, uri: Uri) -> ApiError {
    ApiError::cannot(method.as_str(), &path_and_query(&uri))
}

pub(super) fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_string(), |pq| pq.to_string())
}

pub const SLOTS_VERSION: &str = "2024-09-04";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookingVersion {
    V2024_08_13,
    V2026_02_25,
    V2026_05_01,
}

impl BookingVersion {
    /// The 2026 versions honour the owner flags `allowConflicts`, `allowBookingOutOfBounds`.
    pub fn has_owner_flags(self) -> bool {
        !matches!(self, Self::V2024_08_13)
    }
}

fn version(headers: &HeaderMap) -> Option<&str> {
    headers.get("cal-api-version").and_then(|v| v.to_str().ok())
}

/// Slots and reservations exist only under `2024-09-04`; anything else finds no route.
pub fn require_slots_version(headers: &HeaderMap, method: &Method, uri: &Uri) -> Result<(), ApiError> {
    match version(headers) {
        Some(SLOTS_VERSION) => Ok(()),
        _ => Err(ApiError::cannot(method.as_str(), &path_and_query(uri))),
    }
}

/// Booking endpoints; missing/unknown versions would reach the legacy controllers (not reproduced).
pub fn booking_version(headers: &HeaderMap) -> Result<BookingVersion, ApiError> {
    match version(headers) {
        Some("2024-08-13") => Ok(BookingVersion::V2024_08_13),
        Some("2026-02-25") => Ok(BookingVersion::V2026_02_25),
        Some("2026-05-01") => Ok(BookingVersion::V2026_05_01),
        other => Err(ApiError::bad_request(texts::legacy_version(other))),
    }
}

#[derive(Serialize)]
struct Success<T> {
    status: &'static str,
    data: T,
}

/// `{"status":"success","data":…}`
pub fn success<T: Serialize>(status: StatusCode, data: T) -> Response {
    json_response(
        status,
        &Success {
            status: "success",
            data,
        },
    )
}

pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        Err(_) => ApiError::internal().into_response(),
    }
}

/// Express's JSON body parser: empty body = `{}`; broken JSON = 400.
pub fn parse_body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "Unexpected token in JSON at line {} column {}",
            e.line(),
            e.column()
        ))
    })
}
