//! The router: declarative routes (the framework answers unknown paths 404 and wrong methods
//! 405, as JSON), a body limit answering 413, a trace span per request, and the deadline.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, FromRequest, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use gateway_domain::capture::service::MAX_BODY_BYTES;
use gateway_domain::capture::{Function, IngestError, WebhookReply};
use gateway_domain::deadline::Deadline;
use gateway_domain::error::chain;
use serde_json::{Value, json};
use tower_http::trace::TraceLayer;

use crate::{App, TIME_BUDGET, links};

pub const SIGNATURE_HEADER: &str = "x-retell-signature";

/// Every route of the HTTP API.
pub fn router(app: Arc<App>) -> Router {
    let retell = Router::new()
        .route("/webhooks/retell", post(webhook))
        .route("/webhooks/retell/inbound", post(webhook))
        .route("/retell/functions", post(function))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let pages = Router::new()
        .route("/cases/{company}/{call}", get(links::case_page))
        .layer(middleware::map_response(links::page_headers));
    let calcom = match &app.calcom {
        Some(hooks) => crate::calcom_webhook::router(hooks.clone()),
        None => Router::new(),
    };
    Router::new()
        .merge(retell)
        .merge(pages)
        .merge(calcom)
        .route("/recordings/{*key}", get(links::recording))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), within_deadline))
        // Outside the deadline, so a 503 for a request cut off is counted too.
        .layer(middleware::from_fn_with_state(app.clone(), metered))
        .layer(
            TraceLayer::new_for_http()
                // Method and path only: query strings of signed links are capabilities.
                .make_span_with(
                    |req: &Request| tracing::info_span!("request", method = %req.method(), path = %req.uri().path()),
                ),
        )
        .with_state(app)
}

/// A request body as bytes; over the limit it is a 413 that says so.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = EdgeError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(BytesRejection::FailedToBufferBody(_)) => Err(EdgeError::TooLarge),
            Err(other) => Err(EdgeError::BadRequest(other.body_text())),
        }
    }
}

fn signature(headers: &HeaderMap) -> Option<&str> {
    headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok())
}

/// `POST /webhooks/retell` (and `/inbound`): lifecycle events and `call_inbound`.
async fn webhook(State(app): State<Arc<App>>, headers: HeaderMap, Body(body): Body) -> Result<Json<Value>, EdgeError> {
    let reply = app.ingest.webhook(&body, signature(&headers)).await?;
    Ok(Json(match reply {
        WebhookReply::Ack(ack) => json!(ack),
        WebhookReply::Inbound(answer) => answer,
    }))
}

/// `POST /retell/functions`: custom functions called by the agent during the call.
async fn function(
    State(app): State<Arc<App>>,
    Extension(deadline): Extension<Deadline>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Json<Value>, EdgeError> {
    Ok(Json(app.ingest.function(&body, signature(&headers), deadline).await?))
}

async fn not_found(uri: axum::http::Uri) -> EdgeError {
    EdgeError::NotFound(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> EdgeError {
    EdgeError::MethodNotAllowed(format!("{} does not accept {method}", uri.path()))
}

/// Answers 503 (Retell retries) when the request is not done by the function's deadline minus the
/// margin. Dropping the unfinished work is safe: every write is conditional and the hand-off is
/// under a lease that a retry takes over.
async fn within_deadline(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let deadline = match request.extensions().get::<lambda_runtime::Context>() {
        Some(context) => TIME_BUDGET.deadline(context),
        None => Deadline::after(app.function_timeout).minus(TIME_BUDGET.margin),
    };
    // Handlers that call out (the booking functions) finish their calls by it.
    request.extensions_mut().insert(deadline);
    match tokio::time::timeout_at(deadline.instant().into(), next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("not done by the deadline: answering 503 so the caller retries");
            EdgeError::Unavailable.into_response()
        }
    }
}

/// Counts every Retell request (webhooks and custom functions): one `WebhookRequests`, a
/// `WebhookFailures` of 1 when the answer is not 2xx (Retell retries it) or 0, and how long the
/// answer took (`WebhookDuration`, ms). Signed links and Cal.com are not Retell's.
async fn metered(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    use gateway_domain::metrics::{Measurement, Unit, names};
    let path = request.uri().path();
    if !(path.starts_with("/webhooks/retell") || path == "/retell/functions") {
        return next.run(request).await;
    }
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let failed = !response.status().is_success();
    app.metrics.put(&[
        Measurement::one(names::WEBHOOK_REQUESTS, None),
        Measurement {
            value: if failed { 1.0 } else { 0.0 },
            ..Measurement::one(names::WEBHOOK_FAILURES, None)
        },
        Measurement {
            unit: Unit::Milliseconds,
            value: started.elapsed().as_secs_f64() * 1000.0,
            ..Measurement::one(names::WEBHOOK_DURATION, None)
        },
    ]);
    response
}

/// What the edge answers when it cannot answer 200: a status and a JSON body naming the
/// problem; 5xx bodies are opaque (the cause goes to the log with its source chain).
#[derive(Debug)]
pub enum EdgeError {
    Ingest(IngestError),
    TooLarge,
    BadRequest(String),
    NotFound(String),
    MethodNotAllowed(String),
    Forbidden(&'static str),
    Gone,
    /// A retry can help (the gateway is busy or a backend is slow).
    Unavailable,
    /// A failure a retry cannot fix; the cause is logged, never shown.
    Internal,
}

impl From<IngestError> for EdgeError {
    fn from(e: IngestError) -> Self {
        EdgeError::Ingest(e)
    }
}

/// Retell retries a 503 after this many seconds.
const RETRY_AFTER_SECONDS: u64 = 2;

fn body(status: StatusCode, value: Value) -> Response {
    (status, Json(value)).into_response()
}

impl IntoResponse for EdgeError {
    fn into_response(self) -> Response {
        let (status, value) = match self {
            EdgeError::Ingest(err) => return ingest_error(err),
            EdgeError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"error": "payload_too_large", "message": format!("the request body is over the limit of {MAX_BODY_BYTES} bytes")}),
            ),
            EdgeError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_request", "message": message}),
            ),
            EdgeError::NotFound(message) => (StatusCode::NOT_FOUND, json!({"error": "not_found", "message": message})),
            EdgeError::MethodNotAllowed(message) => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": "method_not_allowed", "message": message}),
            ),
            EdgeError::Forbidden(message) => (StatusCode::FORBIDDEN, json!({"error": "forbidden", "message": message})),
            EdgeError::Gone => (
                StatusCode::GONE,
                json!({"error": "expired", "message": "this link has expired"}),
            ),
            EdgeError::Unavailable => return unavailable(),
            EdgeError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal", "message": "internal error; it has been logged"}),
            ),
        };
        body(status, value)
    }
}

fn unavailable() -> Response {
    let mut response = body(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"error": "retry", "message": "temporarily unavailable; please retry"}),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}

fn ingest_error(err: IngestError) -> Response {
    let message = err.to_string();
    let (status, value) = match &err {
        IngestError::Unauthorized(_) => (
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "message": message}),
        ),
        IngestError::PayloadTooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "payload_too_large", "message": message}),
        ),
        IngestError::BadRequest { field, .. } => (
            StatusCode::BAD_REQUEST,
            json!({"error": "bad_request", "field": field, "message": message}),
        ),
        IngestError::UnknownFunction(_) => (
            StatusCode::BAD_REQUEST,
            json!({"error": "unknown_function", "field": "name", "message": message, "supported": Function::supported()}),
        ),
        e if e.is_retryable() => {
            tracing::warn!(error = %chain(e), "answering 503 so Retell retries");
            return unavailable();
        }
        e => {
            tracing::error!(error = %chain(e), "internal error");
            return EdgeError::Internal.into_response();
        }
    };
    body(status, value)
}
