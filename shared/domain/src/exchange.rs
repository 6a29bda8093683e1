//! Exchange-log entries: one per delivery attempt or internal step, redacted before storage.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::ids::{AppointmentId, CaseId, CompanyId};

/// Whose log an entry belongs to: a case's (every step of its delivery), or an appointment's
/// (the deliveries and alerts of its notices). Each subject has a log of its own, so an
/// appointment's entries never show up in a case's log or the other way round.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LogSubject {
    Case(CaseId),
    Appointment(AppointmentId),
}

/// The audit log of every delivery attempt and internal step.
#[async_trait]
pub trait ExchangeLog: Send + Sync {
    /// Appends an entry to the log of `subject`.
    async fn append_to(
        &self,
        company_id: &CompanyId,
        subject: &LogSubject,
        entry: &ExchangeEntry,
    ) -> Result<(), StoreError>;

    /// Appends an entry to a case's log.
    async fn append(&self, company_id: &CompanyId, case_id: &CaseId, entry: &ExchangeEntry) -> Result<(), StoreError> {
        self.append_to(company_id, &LogSubject::Case(case_id.clone()), entry)
            .await
    }
}

/// Writes an entry to a case's log; a failing audit write is logged and never fails the step it
/// records.
pub async fn log_entry(log: &dyn ExchangeLog, company_id: &CompanyId, case_id: &CaseId, entry: ExchangeEntry) {
    log_to(log, company_id, &LogSubject::Case(case_id.clone()), entry).await;
}

/// Writes an entry to the log of `subject`, like [`log_entry`].
pub async fn log_to(log: &dyn ExchangeLog, company_id: &CompanyId, subject: &LogSubject, entry: ExchangeEntry) {
    if let Err(err) = log.append_to(company_id, subject, &entry).await {
        tracing::warn!(error = %crate::error::chain(&err), operation = %entry.operation, "could not write exchange log entry");
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
    Internal,
}

/// Pseudo status codes for internal steps (the original's mapping).
pub mod status {
    pub const SUCCESS: u16 = 200;
    pub const SKIPPED: u16 = 204;
    pub const TIMEOUT: u16 = 408;
    pub const FAILURE: u16 = 500;
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExchangeEntry {
    pub event_id: String,
    pub direction: Direction,
    /// The function and step, e.g. `enrich` / `recording`.
    pub handler: String,
    pub operation: String,
    /// Where it went, redacted (no query strings, no capability paths).
    pub endpoint: String,
    pub method: String,
    pub status_code: u16,
    pub duration_ms: u64,
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Request and response bodies (redacted, truncated) and headers (redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// A short redacted summary of what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Who asked for it, when a person did (an operator in the console or gatewayctl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl ExchangeEntry {
    pub fn internal(handler: &str, operation: &str, status_code: u16, attempt: u32, at: DateTime<Utc>) -> Self {
        Self {
            event_id: ulid::Ulid::from_datetime(at.into()).to_string(),
            direction: Direction::Internal,
            handler: handler.to_string(),
            operation: operation.to_string(),
            endpoint: operation.to_string(),
            method: "PROCESS".into(),
            status_code,
            duration_ms: 0,
            attempt,
            error_class: None,
            error_message: None,
            request_body: None,
            response_body: None,
            headers: Vec::new(),
            detail: None,
            operator: None,
            created_at: at,
        }
    }
}

/// Keeps scheme and host of a URL only: paths and queries of recording links are capabilities.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/[redacted]", u.scheme(), u.host_str().unwrap_or("?")),
        Err(_) => "[invalid url]".into(),
    }
}

/// Error text safe to store: URLs and IPv4 addresses removed, at most 1000 characters.
pub fn redact_error(message: &str) -> String {
    let cleaned: Vec<String> = message
        .split_whitespace()
        .map(|w| {
            let bare = w.trim_matches(|c: char| "()[]<>\"',;".contains(c));
            if bare.contains("://") {
                w.replace(bare, &redact_url(bare))
            } else if bare.split('.').count() == 4 && bare.split('.').all(|p| p.parse::<u8>().is_ok()) {
                w.replace(bare, "[ip]")
            } else {
                w.to_string()
            }
        })
        .collect();
    crate::text::truncate_chars(&cleaned.join(" "), 1000)
}

const SENSITIVE_KEYS: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "authorization",
    "auth",
    "bearer",
    "credential",
    "private_key",
    "api_key",
    "apikey",
    "signature",
    "cookie",
    "session",
];

/// Replaces values under sensitive keys (any case, `-`/`_` ignored) and secret-looking values
/// (`Bearer …`, `whsec_…`, long tokens) in a JSON text; non-JSON text is truncated only.
pub fn redact_body(body: &str, max_chars: usize) -> String {
    fn sensitive(key: &str) -> bool {
        let k: String = key
            .to_ascii_lowercase()
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect();
        SENSITIVE_KEYS.iter().any(|s| k.contains(&s.replace('_', "")))
    }
    fn looks_secret(v: &str) -> bool {
        let t = v.trim();
        t.starts_with("Bearer ")
            || t.starts_with("Basic ")
            || t.starts_with("whsec_")
            || (t.len() > 40
                && !t.contains(' ')
                && t.chars().all(|c| c.is_ascii_alphanumeric() || "+/=_-.".contains(c)))
    }
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, val) in map.iter_mut() {
                    if sensitive(k) && !val.is_object() && !val.is_array() {
                        *val = serde_json::Value::String("[REDACTED]".into());
                    } else {
                        walk(val);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::String(s) if looks_secret(s) => *s = "[REDACTED:secret_pattern]".into(),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut v) => {
            walk(&mut v);
            crate::text::truncate_chars(&v.to_string(), max_chars)
        }
        Err(_) => crate::text::truncate_chars(body, max_chars),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_lose_their_secrets() {
        let body = r#"{"UserLogin":"api","Password":"hunter2","nested":{"api-key":"k","X_Auth_Token":"t"},"note":"Bearer abc.def","ok":"Drucker"}"#;
        let out = redact_body(body, 10_000);
        for secret in ["hunter2", "\"k\"", "\"t\"", "abc.def"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("Drucker") && out.contains("api"));
    }

    #[test]
    fn urls_and_addresses_are_redacted() {
        assert_eq!(
            redact_url("https://cdn.example/abc123/recording.wav?sig=xyz"),
            "https://cdn.example/[redacted]"
        );
        let msg = redact_error(
            "error sending request for url (https://cdn.example/abc/rec.wav?X-Amz-Signature=1): connect 10.0.0.1 refused",
        );
        assert!(
            !msg.contains("abc") && !msg.contains("Signature") && !msg.contains("10.0.0.1"),
            "{msg}"
        );
        assert!(msg.contains("https://cdn.example/[redacted]"));
    }
}
