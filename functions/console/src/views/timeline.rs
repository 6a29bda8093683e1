//! A case's trail as one timeline: the Retell events of its call and the exchange-log entries
//! (deliveries, internal steps, operators' changes and notes), oldest first; and "copy as
//! cURL" for an outbound request, with every secret replaced by a placeholder.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use gateway_domain::call_event::CallEvent;
use gateway_domain::exchange::{Direction, ExchangeEntry};

use super::log::{Kind, hint};
use crate::i18n::Lang;

/// One line of the timeline, ready to show.
#[derive(Debug, Clone)]
pub struct Item {
    pub at: DateTime<Utc>,
    pub time: String,
    pub title: String,
    pub badge: &'static str,
    pub label: String,
    pub detail: Option<String>,
    pub operator: Option<String>,
    pub entry: Option<EntryView>,
}

/// An exchange-log entry's details (everything in it was redacted before it was stored).
#[derive(Debug, Clone)]
pub struct EntryView {
    pub event_id: String,
    pub method: String,
    pub endpoint: String,
    pub status_code: u16,
    pub duration: String,
    pub attempt: u32,
    pub error_class: Option<String>,
    pub error_message: Option<String>,
    pub request_body: Option<String>,
    pub response_body: Option<String>,
    pub headers: Vec<(String, String)>,
    pub curl: Option<String>,
    pub hint: &'static str,
}

impl EntryView {
    pub fn of(entry: &ExchangeEntry, lang: Lang) -> Self {
        Self {
            event_id: entry.event_id.clone(),
            method: entry.method.clone(),
            endpoint: entry.endpoint.clone(),
            status_code: entry.status_code,
            duration: super::duration(chrono::Duration::milliseconds(entry.duration_ms as i64)),
            attempt: entry.attempt,
            error_class: entry.error_class.clone(),
            error_message: entry.error_message.clone(),
            request_body: entry.request_body.as_deref().map(pretty),
            response_body: entry.response_body.as_deref().map(pretty),
            headers: entry.headers.clone(),
            curl: curl(entry),
            hint: hint(entry, lang),
        }
    }
}

/// JSON indented for reading; anything else as it is.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_string())
}

/// The timeline of a case, oldest first.
pub fn build(events: &[CallEvent], entries: &[ExchangeEntry], tz: Tz, lang: Lang) -> Vec<Item> {
    let t = lang.texts();
    let mut items: Vec<Item> = events
        .iter()
        .map(|e| Item {
            at: e.received_at,
            time: super::local_time_seconds(e.received_at, tz),
            title: e.event.clone(),
            badge: "neutral",
            label: t.call_event.to_string(),
            detail: e.outcome.clone(),
            operator: None,
            entry: None,
        })
        .collect();
    items.extend(entries.iter().map(|e| {
        let kind = Kind::of(e);
        Item {
            at: e.created_at,
            time: super::local_time_seconds(e.created_at, tz),
            title: format!("{} · {}", e.handler, e.operation),
            badge: kind.badge(),
            label: if e.status_code == 0 {
                kind.label(lang).to_string()
            } else {
                format!("{} {}", e.status_code, kind.label(lang))
            },
            detail: e.detail.clone(),
            operator: e.operator.clone(),
            entry: Some(EntryView::of(e, lang)),
        }
    }));
    items.sort_by_key(|i| i.at);
    items
}

/// Single-quoted for a POSIX shell.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The environment variable standing in for a secret header: `Authorization` → `$AUTHORIZATION`.
fn placeholder(header: &str) -> String {
    header
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The request of an outbound entry as a cURL command: redacted headers become `$NAME`
/// placeholders (set them in the shell), the redacted path `<PATH>`; `None` for internal steps.
pub fn curl(entry: &ExchangeEntry) -> Option<String> {
    if entry.direction != Direction::Outbound || !entry.endpoint.starts_with("http") {
        return None;
    }
    let url = entry.endpoint.replace("[redacted]", "<PATH>");
    let mut out = format!("curl -X {} {}", entry.method, quoted(&url));
    for (name, value) in &entry.headers {
        if value.starts_with("[REDACTED") {
            out.push_str(&format!(" \\\n  -H \"{name}: ${}\"", placeholder(name)));
        } else {
            out.push_str(&format!(" \\\n  -H {}", quoted(&format!("{name}: {value}"))));
        }
    }
    if let Some(body) = &entry.request_body {
        out.push_str(&format!(" \\\n  --data-raw {}", quoted(body)));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_keeps_no_secret() {
        let mut e = ExchangeEntry::internal("deliver", "webhook", 201, 1, Utc::now());
        e.direction = Direction::Outbound;
        e.method = "POST".into();
        e.endpoint = "https://tickets.example/[redacted]".into();
        e.headers = vec![
            ("Content-Type".into(), "application/json".into()),
            ("Authorization".into(), "[REDACTED]".into()),
            ("webhook-signature".into(), "[REDACTED]".into()),
        ];
        e.request_body = Some(r#"{"title":"O'Brien","token":"[REDACTED]"}"#.into());
        let c = curl(&e).unwrap();
        assert!(c.starts_with("curl -X POST 'https://tickets.example/<PATH>'"), "{c}");
        assert!(c.contains(r#"-H "Authorization: $AUTHORIZATION""#), "{c}");
        assert!(c.contains(r#"-H "webhook-signature: $WEBHOOK_SIGNATURE""#), "{c}");
        assert!(c.contains(r#"O'\''Brien"#), "{c}");
        let internal = ExchangeEntry::internal("enrich", "recording", 200, 1, Utc::now());
        assert_eq!(curl(&internal), None);
    }
}
