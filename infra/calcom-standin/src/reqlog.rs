//! Every API request as it arrived on the wire, so tests can count calls (e.g. "one Cal.com call per tool
//! call") and inspect the version header and body the adapter sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::state::{Shared, lock};

const MAX_BODY: usize = 1 << 20;

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// `cal-api-version` as sent (absent = `None`).
    pub version: Option<String>,
    pub authorization: Option<String>,
    pub body: String,
    /// Filled in when the answer leaves; stays `None` for requests that hang.
    pub status: Option<u16>,
}

impl LoggedRequest {
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

pub async fn middleware(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    lock(&shared.log).push(LoggedRequest {
        seq,
        at: Utc::now(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        version: header("cal-api-version"),
        authorization: header("authorization"),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        status: None,
    });
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    if let Some(entry) = lock(&shared.log).iter_mut().find(|e| e.seq == seq) {
        entry.status = Some(response.status().as_u16());
    }
    response
}
