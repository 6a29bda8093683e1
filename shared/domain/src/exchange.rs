//! Exchange-log entries: one per delivery attempt or internal step, redacted before storage.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// A short redacted summary of what happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
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
            detail: None,
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

#[cfg(test)]
mod tests {
    use super::*;

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
