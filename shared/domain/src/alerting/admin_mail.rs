//! Sending one alert e-mail to an admin, recorded as an exchange-log entry (shared by the alerts
//! about cases and about appointment notices).

use chrono::{DateTime, Utc};

use crate::delivery::Mailer;
use crate::delivery::email::OutgoingEmail;
use crate::exchange::{Direction, ExchangeEntry, redact_error};

/// Sends `mail`; returns the outcome (the error text) and its log entry (`handler`/`step`,
/// the address reduced to its domain), which the caller files where it belongs.
pub async fn send(
    mailer: &dyn Mailer,
    mail: &OutgoingEmail,
    (handler, step): (&str, &str),
    now: DateTime<Utc>,
) -> (Result<(), String>, ExchangeEntry) {
    let mut entry = ExchangeEntry::internal(handler, step, 200, 0, now);
    entry.direction = Direction::Outbound;
    entry.method = "MAIL".into();
    entry.endpoint = format!(
        "mailto:{}",
        mail.to
            .split('@')
            .nth(1)
            .map_or("?".to_string(), |d| format!("***@{d}"))
    );
    let result = match mailer.send(mail).await {
        Ok(_) => Ok(()),
        Err(e) => {
            entry.status_code = 503;
            entry.error_message = Some(redact_error(&e.to_string()));
            Err(e.to_string())
        }
    };
    (result, entry)
}
