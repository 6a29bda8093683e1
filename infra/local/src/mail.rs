//! The e-mails the emulator's SES stored, read back for the demos: subject, plain text and the
//! calendar entry of raw MIME messages (decoded by `mail-parser`, not by our own code).

use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;

/// What a person sees of one message.
pub struct ReadMail {
    pub subject: String,
    pub text: String,
    /// The `.ics` attachment, unfolded; empty without one.
    pub calendar: String,
}

/// Raw messages (`raw_data`) sent to `to` in moto's `data.json`, oldest first.
pub fn raw_messages_to(data: &Value, to: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![&data["ses"]];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) if m.contains_key("raw_data") => {
                if m.get("destinations").is_some_and(|d| d.to_string().contains(to))
                    && let Some(raw) = m["raw_data"].as_str()
                {
                    found.push(raw.to_string());
                }
            }
            Value::Object(m) => stack.extend(m.values()),
            Value::Array(a) => stack.extend(a.iter().rev()),
            _ => {}
        }
    }
    found
}

pub fn read(raw: &str) -> ReadMail {
    let Some(message) = MessageParser::default().parse(raw.as_bytes()) else {
        return ReadMail {
            subject: "(not a MIME message)".into(),
            text: String::new(),
            calendar: String::new(),
        };
    };
    let calendar = message
        .parts
        .iter()
        .find(|p| p.content_type().is_some_and(|c| c.subtype() == Some("calendar")))
        .map(|p| {
            String::from_utf8_lossy(p.contents())
                .replace("\r\n ", "")
                .replace("\r\n", "\n")
        })
        .unwrap_or_default();
    ReadMail {
        subject: message.subject().unwrap_or("(no subject)").to_string(),
        text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        calendar,
    }
}
