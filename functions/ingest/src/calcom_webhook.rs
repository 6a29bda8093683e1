//! `POST /webhooks/calcom/{company}`: Cal.com tells us about bookings changed in the company's
//! calendar. The company's `appointments.calcom.webhook_secret` verifies `X-Cal-Signature-256`
//! over the exact body; the domain's calendar sync then dedupes the delivery, recognises our own
//! bookings and changes coming back, applies staff moves and cancellations to our records and
//! drops the cached free slots.
//!
//! Cal.com signs no timestamp, so a captured delivery verifies forever: replay protection is the
//! dedupe receipt alone (a replay is answered `{"status":"duplicate"}` and changes nothing).
//!
//! Answers: 200 `{"status": …}` for every delivery we read (also those we ignore, so Cal.com does
//! not flag the subscriber as failing); 401 bad or missing signature, `no-secret-provided`
//! included; 404 unknown company, or no webhook secret configured for it; 400 an unreadable body
//! (naming the field); 413 over the body limit; 503 the store is unavailable. Nothing of the
//! body's personal data and never the secret goes to the log.
//!
//! This file uses only other crates' paths (no `crate::`), so tests can include it as it is.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use gateway_domain::appointments::calendar_sync::signature::{self, SIGNATURE_HEADER, SignatureError};
use gateway_domain::appointments::calendar_sync::{
    CalcomSync, CalcomWebhook, ChangeMarks, SlotCacheDrop, SyncPorts, WebhookError, WebhookReceipts,
};
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::clock::Clock;
use gateway_domain::error::{StoreError, chain};
use gateway_domain::ids::CompanyId;
use gateway_domain::tenancy::ConfigStore;
use serde_json::{Value, json};

/// The route, as the edge registers it.
pub const ROUTE: &str = "/webhooks/calcom/{company}";
/// Cal.com's booking payloads are a few KB; a generous limit that still refuses junk.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the handler needs.
#[derive(Clone)]
pub struct CalcomHookPorts {
    /// The tenant (its `appointments.calcom.webhook_secret` and calendars).
    pub config: Arc<dyn ConfigStore>,
    pub store: Arc<dyn AppointmentStore>,
    pub receipts: Arc<dyn WebhookReceipts>,
    /// The same marks the engine writes (`Engine::with_change_marks`).
    pub marks: Arc<dyn ChangeMarks>,
    pub clock: Arc<dyn Clock>,
    /// The engine whose cached slots go stale (`Arc<Engine>` coerces).
    pub slots: Arc<dyn SlotCacheDrop>,
}

/// The Cal.com webhook receiver.
pub struct CalcomHooks {
    config: Arc<dyn ConfigStore>,
    sync: CalcomSync,
}

/// Why a delivery is not answered 200.
#[derive(Debug)]
pub enum CalcomHookError {
    Unauthorized(SignatureError),
    UnknownCompany(String),
    NotConfigured(String),
    BadRequest(WebhookError),
    TooLarge,
    Unavailable(StoreError),
}

impl std::fmt::Display for CalcomHookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalcomHookError::Unauthorized(e) => write!(f, "{e}"),
            CalcomHookError::UnknownCompany(c) => write!(f, "unknown company '{c}'"),
            CalcomHookError::NotConfigured(c) => write!(
                f,
                "company '{c}' has no Cal.com webhook secret configured (appointments.calcom.webhook_secret)"
            ),
            CalcomHookError::BadRequest(e) => write!(f, "not a Cal.com webhook we can read: {e}"),
            CalcomHookError::TooLarge => write!(f, "the request body is over the limit of {MAX_BODY_BYTES} bytes"),
            CalcomHookError::Unavailable(_) => write!(f, "temporarily unavailable"),
        }
    }
}

impl std::error::Error for CalcomHookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CalcomHookError::Unavailable(e) => Some(e),
            _ => None,
        }
    }
}

impl CalcomHookError {
    pub fn status(&self) -> StatusCode {
        match self {
            CalcomHookError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            CalcomHookError::UnknownCompany(_) | CalcomHookError::NotConfigured(_) => StatusCode::NOT_FOUND,
            CalcomHookError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CalcomHookError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            CalcomHookError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// `{"error", "message"}` (plus `field` for a bad body). 503 bodies are opaque.
    pub fn body(&self) -> Value {
        let message = self.to_string();
        match self {
            CalcomHookError::Unauthorized(_) => json!({"error": "unauthorized", "message": message}),
            CalcomHookError::UnknownCompany(_) => json!({"error": "unknown_company", "message": message}),
            CalcomHookError::NotConfigured(_) => json!({"error": "webhook_not_configured", "message": message}),
            CalcomHookError::BadRequest(e) => json!({"error": "bad_request", "field": e.field, "message": message}),
            CalcomHookError::TooLarge => json!({"error": "payload_too_large", "message": message}),
            CalcomHookError::Unavailable(_) => {
                json!({"error": "retry", "message": "temporarily unavailable; please retry"})
            }
        }
    }
}

impl IntoResponse for CalcomHookError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

fn unavailable(e: StoreError) -> CalcomHookError {
    tracing::warn!(error = %chain(&e), "Cal.com webhook: store unavailable");
    CalcomHookError::Unavailable(e)
}

impl CalcomHooks {
    pub fn new(ports: CalcomHookPorts) -> Self {
        Self {
            config: ports.config,
            sync: CalcomSync::new(SyncPorts {
                store: ports.store,
                receipts: ports.receipts,
                marks: ports.marks,
                clock: ports.clock,
                slots: ports.slots,
            }),
        }
    }

    /// Verifies, reads and applies one delivery for `company` (the route's path segment).
    pub async fn handle(&self, company: &str, headers: &HeaderMap, body: &[u8]) -> Result<Value, CalcomHookError> {
        let company_id = CompanyId::new(company);
        let tenant = self
            .config
            .tenant(&company_id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| CalcomHookError::UnknownCompany(company.to_string()))?;
        let setup = tenant.appointments.as_ref();
        let secret = setup
            .and_then(|a| a.calcom.as_ref())
            .and_then(|c| c.webhook_secret.as_deref())
            .ok_or_else(|| CalcomHookError::NotConfigured(company.to_string()))?;
        let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
        if let Err(e) = signature::verify(secret, body, header) {
            tracing::warn!(company = %company_id, reason = %e, "Cal.com webhook refused");
            return Err(CalcomHookError::Unauthorized(e));
        }
        let webhook = CalcomWebhook::parse(body).map_err(|e| {
            tracing::warn!(company = %company_id, field = %e.field, "Cal.com webhook unreadable");
            CalcomHookError::BadRequest(e)
        })?;
        let outcome = self
            .sync
            .apply(&company_id, setup, &webhook)
            .await
            .map_err(unavailable)?;
        Ok(outcome.to_json())
    }
}

/// `POST /webhooks/calcom/{company}` with its body limit, over `hooks`; merge it into any router.
pub fn router<S: Clone + Send + Sync + 'static>(hooks: Arc<CalcomHooks>) -> Router<S> {
    Router::new()
        .route(ROUTE, post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(hooks)
}

/// The axum handler.
pub async fn receive(
    State(hooks): State<Arc<CalcomHooks>>,
    Path(company): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(BytesRejection::FailedToBufferBody(_)) => return CalcomHookError::TooLarge.into_response(),
        Err(other) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "bad_request", "message": other.body_text()})),
            )
                .into_response();
        }
    };
    match hooks.handle(&company, &headers, &body).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => e.into_response(),
    }
}
