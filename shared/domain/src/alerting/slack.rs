//! Posting an alert to a company's Slack incoming webhook, recorded as an exchange-log entry
//! (shared by the alerts about cases and about appointment notices).

use chrono::{DateTime, Utc};

use crate::deadline::Deadline;
use crate::delivery::WebhookClient;
use crate::delivery::webhook::WebhookRequest;
use crate::exchange::{Direction, ExchangeEntry, redact_error, redact_url};

/// Posts `body` (Slack Block Kit JSON) to `url`; returns the outcome and its log entry
/// (`handler`/`step`), which the caller files where it belongs.
pub async fn post(
    slack: &dyn WebhookClient,
    url: &str,
    body: String,
    (handler, step): (&str, &str),
    now: DateTime<Utc>,
    deadline: Deadline,
) -> (Result<(), String>, ExchangeEntry) {
    let request = WebhookRequest {
        url: url.to_string(),
        body,
        headers: vec![("Content-Type".into(), "application/json".into())],
        external_id_path: None,
    };
    let mut entry = ExchangeEntry::internal(handler, step, 0, 0, now);
    entry.direction = Direction::Outbound;
    entry.method = "POST".into();
    // The Slack URL is itself the secret: host only.
    entry.endpoint = redact_url(url);
    let result = match slack.post(&request, deadline).await {
        Ok(resp) if (200..300).contains(&resp.status) => {
            entry.status_code = resp.status;
            Ok(())
        }
        Ok(resp) => {
            entry.status_code = resp.status;
            Err(format!("Slack answered HTTP {}", resp.status))
        }
        Err(e) => {
            entry.status_code = 502;
            Err(format!("Slack: {}", redact_error(&e.to_string())))
        }
    };
    entry.error_message = result.as_ref().err().cloned();
    (result, entry)
}
