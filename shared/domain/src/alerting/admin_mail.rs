//! Alert e-mails to a company's admins, one per address, each recorded as an exchange-log entry
//! (shared by the alerts about cases and about appointment notices).

use chrono::{DateTime, Utc};

use crate::delivery::Mailer;
use crate::delivery::email::OutgoingEmail;
use crate::exchange::{Direction, ExchangeEntry, redact_error};
use crate::tenancy::validate::is_valid_email;

/// One alert e-mail (`subject`, `text`, `html`) to each valid address of `admins`. Succeeds when
/// at least one went out (or no address is valid); returns the log entries, which the caller
/// files where they belong.
pub async fn send_to_admins(
    mailer: &dyn Mailer,
    admins: &[String],
    (subject, text, html): (&str, &str, &str),
    step: (&str, &str),
    now: DateTime<Utc>,
) -> (Result<(), String>, Vec<ExchangeEntry>) {
    let mut failures = Vec::new();
    let mut delivered = 0;
    let mut entries = Vec::new();
    for to in admins.iter().filter(|a| is_valid_email(a)) {
        let mail = OutgoingEmail {
            to: to.clone(),
            subject: subject.to_string(),
            text: text.to_string(),
            html: html.to_string(),
            attachment: None,
        };
        let (result, entry) = send(mailer, &mail, step, now).await;
        match result {
            Ok(()) => delivered += 1,
            Err(e) => failures.push(e),
        }
        entries.push(entry);
    }
    let result = if delivered > 0 || failures.is_empty() {
        Ok(())
    } else {
        Err(format!("alert e-mail: {}", failures.join("; ")))
    };
    (result, entries)
}

/// Sends `mail`; returns the outcome (the error text) and its log entry (`handler`/`step`,
/// the address reduced to its domain), which the caller files where it belongs.
async fn send(
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
