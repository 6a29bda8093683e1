//! Cal.com's error envelope (`apps/api/v2/src/filters/http-exception.filter.ts`) and the texts we reproduce.
//!
//! Handlers return [`ApiError`]; it travels in the response extensions and [`render`] turns it into
//! `{"status":"error","timestamp","path","error":{code,message,details}}`, because only the middleware
//! knows the request URL that Cal.com echoes as `path`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::state::Shared;
use crate::time;

/// Texts quoted in the reference (appointments.md §1.3–1.5); the ones marked unverified are our best guess.
pub mod texts {
    pub const SLOT_TAKEN: &str = "User either already has booking at this time or is not available";
    pub const OUT_OF_BOUNDS: &str = "The event type can't be booked at the \"start\" time provided. This could be because it's too soon (violating the minimum booking notice) or too far in the future (outside the event's scheduling window). Try fetching available slots first using the GET /v2/slots endpoint and then make a booking with \"start\" time equal to one of the available slots.";
    pub const IN_PAST: &str = "Attempting to book a meeting in the past.";
    pub const CANCEL_ENDED: &str = "Cannot cancel a booking that has already ended";
    pub const SLOTS_EVENT_TYPE_NOT_FOUND: &str = "Event Type not found";
    /// Unverified (not quoted in the reference).
    pub const ALREADY_CANCELLED: &str = "This booking has already been cancelled.";
    /// Unverified.
    pub const RESCHEDULE_CANCELLED: &str = "Can't reschedule a cancelled booking.";
    /// Unverified.
    pub const LENGTH_NOT_ALLOWED: &str = "Can't specify 'lengthInMinutes' because event type does not have multiple possible lengths. Please, remove the 'lengthInMinutes' field from the request.";
    /// Unverified.
    pub const RESERVE_BOOKED: &str = "Can't reserve a slot if the event is already booked.";
    /// Unverified.
    pub const RESERVE_DURATION_AUTH: &str = "reservationDuration can only be used by authenticated users.";
    /// Unverified (Cal.com's ApiAuthStrategy texts, recalled, not in the reference).
    pub const NO_AUTH: &str = "ApiAuthStrategy - No authentication method provided. Either pass an API key as 'Bearer' header or OAuth client credentials as 'x-cal-secret-key' and 'x-cal-client-id' headers";
    /// Unverified.
    pub const INVALID_API_KEY: &str = "ApiAuthStrategy - api key - Invalid API Key";
    /// Unverified: a non-`cal_` bearer value goes down the OAuth access-token path.
    pub const INVALID_ACCESS_TOKEN: &str = "ApiAuthStrategy - oAuth - Invalid access token";
    /// Unverified.
    pub const TOO_MANY_REQUESTS: &str = "ThrottlerException: Too Many Requests";
    /// Seen in a race (obs).
    pub const BOOKING_CONFLICT: &str = "booking_conflict_error";

    pub fn someone_else_reserved(seconds: i64) -> String {
        format!(
            "Someone else reserved this booking time slot before you. This time slot will be freed up in {seconds} seconds."
        )
    }

    pub fn event_type_not_found(id: i64) -> String {
        format!("Event type with id {id} not found.")
    }

    pub fn booking_not_found(uid: &str) -> String {
        format!("Booking with uid={uid} not found")
    }

    pub fn reschedule_not_found(uid: &str) -> String {
        format!("Booking with uid={uid} was not found in the database")
    }

    /// Unverified.
    pub fn reservation_not_found(uid: &str) -> String {
        format!("Reserved slot with uid={uid} not found")
    }

    /// Unverified.
    pub fn reserve_event_type_not_found(id: i64) -> String {
        format!("Event Type with ID={id} not found")
    }

    /// Deliberate deviation: the real API silently routes to legacy 2024-04-15 controllers with other shapes.
    pub fn legacy_version(version: Option<&str>) -> String {
        format!(
            "calcom-standin: cal-api-version {} routes to Cal.com's legacy 2024-04-15 controllers, which the stand-in does not reproduce; send a supported version",
            version.map_or_else(|| "(missing)".to_string(), |v| format!("'{v}'"))
        )
    }
}

#[derive(Clone, Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// NestJS exception class name, e.g. `BadRequestException`.
    pub code: &'static str,
    pub message: String,
    /// `exception.getResponse()`: `{message,error,statusCode}` for a plain message.
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        let details = json!({
            "message": message,
            "error": status.canonical_reason().unwrap_or(""),
            "statusCode": status.as_u16(),
        });
        Self {
            status,
            code,
            message,
            details,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequestException", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundException", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UnauthorizedException", message)
    }

    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "UnprocessableEntityException",
            message,
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "ConflictException", message)
    }

    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottlerException",
            texts::TOO_MANY_REQUESTS,
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerErrorException",
            "Internal server error",
        )
    }

    /// Unmatched route or method, as NestJS words it (`Cannot GET /v2/slots?...`, path with the query).
    pub fn cannot(method: &str, path_and_query: &str) -> Self {
        Self::not_found(format!("Cannot {method} {path_and_query}"))
    }

    /// class-validator failures: Cal.com's `exceptionFactory` wraps them as `{errors}`.
    pub fn validation(errors: Vec<Value>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "BadRequestException",
            message: "Bad Request Exception".into(),
            details: json!({ "errors": errors }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    status: &'static str,
    timestamp: String,
    path: &'a str,
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    details: &'a Value,
}

/// Middleware: renders an [`ApiError`] left in the extensions, keeping status and headers (rate-limit ones).
pub async fn render(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| request.uri().path().to_string(), |pq| pq.to_string());
    let mut response = next.run(request).await;
    let Some(error) = response.extensions_mut().remove::<ApiError>() else {
        return response;
    };
    let envelope = ErrorEnvelope {
        status: "error",
        timestamp: time::fmt_utc(shared.now()),
        path: &path,
        error: ErrorBody {
            code: error.code,
            message: &error.message,
            details: &error.details,
        },
    };
    let body = serde_json::to_vec(&envelope).unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body.into())
}

/// One class-validator `ValidationError` (with `target`/`value` stripped, as Cal.com configures it).
pub fn field_error(property: &str, constraint: &str, message: impl Into<String>) -> Value {
    json!({ "property": property, "children": [], "constraints": { constraint: message.into() } })
}

/// A nested-object failure (`attendee.name` → property `attendee` with a child `name`).
pub fn nested_error(property: &str, children: Vec<Value>) -> Value {
    json!({ "property": property, "children": children })
}
