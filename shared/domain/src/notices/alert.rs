//! A notice's final failure: after its last attempt (its message in the delivery DLQ) the notice
//! turns `failed` and the company's admins hear of it by e-mail and Slack, each once per notice,
//! in words about the appointment: someone may not know of a booking, a move or a cancellation.

use std::sync::Arc;

use serde_json::json;

use crate::alerting::{AlertChannel, AlertError, AlertOutcome};
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::delivery::{Mailer, WebhookClient};
use crate::exchange::{ExchangeEntry, ExchangeLog, LogSubject, log_to, redact_error};
use crate::metrics::{MetricSink, NoMetrics};
use crate::notices::facts::NoticeFacts;
use crate::notices::letter::Letter;
use crate::notices::notice::{NoticeEvent, NoticeRef, NoticeStatus};
use crate::notices::ports::NoticeStore;
use crate::tenancy::{ConfigStore, Tenant};

const HANDLER: &str = "alert";

#[derive(Clone)]
pub struct NoticeAlertPorts {
    pub notices: Arc<dyn NoticeStore>,
    pub config: Arc<dyn ConfigStore>,
    pub mailer: Arc<dyn Mailer>,
    pub slack: Arc<dyn WebhookClient>,
    pub log: Arc<dyn ExchangeLog>,
    pub clock: Arc<dyn Clock>,
}

pub struct NoticeAlerter {
    ports: NoticeAlertPorts,
    metrics: Arc<dyn MetricSink>,
}

/// "Termin gebucht", "Termin verschoben", "Termin abgesagt".
fn what(event: NoticeEvent) -> &'static str {
    match event {
        NoticeEvent::Booked => "Termin gebucht",
        NoticeEvent::Rescheduled => "Termin verschoben",
        NoticeEvent::Cancelled => "Termin abgesagt",
    }
}

impl NoticeAlerter {
    pub fn new(ports: NoticeAlertPorts) -> Self {
        Self {
            ports,
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Counts the alerts sent and failed into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// `reason` is what the dead-letter path knew (a permanent failure's message), if anything.
    pub async fn process(
        &self,
        reference: &NoticeRef,
        reason: Option<&str>,
        deadline: Deadline,
    ) -> Result<AlertOutcome, AlertError> {
        let p = &self.ports;
        let Some(stored) = p.notices.notice(reference).await? else {
            return Ok(AlertOutcome::Missing);
        };
        if stored.state.status == NoticeStatus::Sent {
            return Ok(AlertOutcome::AlreadySent);
        }
        let error = reason
            .map(str::to_string)
            .or_else(|| stored.state.last_error.clone())
            .unwrap_or_else(|| "delivery failed after the last retry".into());
        let now = p.clock.now();
        if !p.notices.mark_failed(reference, &error, now).await? {
            return Ok(AlertOutcome::AlreadySent);
        }
        let subject = LogSubject::Appointment(reference.appointment_id.clone());
        if stored.state.status != NoticeStatus::Failed {
            let mut entry = ExchangeEntry::internal(HANDLER, "notice-final-failure", 500, 0, now);
            entry.error_class = Some("DeliveryFailed".into());
            entry.error_message = Some(redact_error(&error));
            entry.detail = Some(format!("{} notice {}", stored.notice.event.name(), reference.label()));
            log_to(p.log.as_ref(), &reference.company_id, &subject, entry).await;
        }
        let Some(tenant) = p.config.tenant(&reference.company_id).await? else {
            return Ok(AlertOutcome::Failed { alerts: vec![] });
        };
        if !tenant.config.alerts_enabled {
            return Ok(AlertOutcome::Failed { alerts: vec![] });
        }
        let facts = NoticeFacts::resolve(&stored.notice, &tenant);
        let mut sent = Vec::new();
        let mut failures = Vec::new();
        if stored.state.alerts.email_at.is_none() && !tenant.config.admin_emails.is_empty() {
            let result = self.email(&tenant, &facts, &error, &subject).await;
            crate::alerting::count(
                self.metrics.as_ref(),
                &reference.company_id,
                AlertChannel::Email,
                &result,
            );
            match result {
                Ok(()) => {
                    p.notices
                        .mark_alerted(reference, AlertChannel::Email, p.clock.now())
                        .await?;
                    sent.push("email");
                }
                Err(e) => failures.push(e),
            }
        }
        if stored.state.alerts.slack_at.is_none()
            && let Some(url) = tenant.config.slack_webhook_url.as_deref()
        {
            let result = self.slack(&tenant, &facts, &error, url, &subject, deadline).await;
            crate::alerting::count(
                self.metrics.as_ref(),
                &reference.company_id,
                AlertChannel::Slack,
                &result,
            );
            match result {
                Ok(()) => {
                    p.notices
                        .mark_alerted(reference, AlertChannel::Slack, p.clock.now())
                        .await?;
                    sent.push("slack");
                }
                Err(e) => failures.push(e),
            }
        }
        if failures.is_empty() {
            Ok(AlertOutcome::Failed { alerts: sent })
        } else {
            Err(AlertError::Send(failures.join("; ")))
        }
    }

    fn headline(facts: &NoticeFacts<'_>) -> String {
        format!(
            "Terminbenachrichtigung nicht zugestellt: {}, {}",
            what(facts.notice.event),
            facts.service
        )
    }

    async fn email(
        &self,
        tenant: &Tenant,
        facts: &NoticeFacts<'_>,
        error: &str,
        subject: &LogSubject,
    ) -> Result<(), String> {
        let a = &facts.notice.appointment;
        let customer = [Some(a.customer.name.clone()), a.customer.phone.clone()]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let letter = Letter::default()
            .paragraph(format!(
                "Die Benachrichtigung über einen Termin ({}) konnte nach allen Versuchen nicht zugestellt werden.",
                what(facts.notice.event)
            ))
            .facts(vec![
                ("Firma", Some(tenant.config.name.clone())),
                ("Leistung", Some(facts.service.clone())),
                ("Termin", Some(facts.when())),
                ("Bisher", facts.before()),
                ("Kunde", Some(customer)),
                ("Fehler", Some(redact_error(error))),
                (
                    "Termin-ID",
                    Some(format!("{} (Änderung {})", a.appointment_id, facts.notice.change)),
                ),
            ])
            .paragraph(
                "Bitte prüfen Sie das Ziel (Webhook oder Postfach) und informieren Sie, wer von dem Termin wissen muss – bei Bedarf auch den Kunden.",
            );
        let mail_subject = format!("[ALERT] {}", Self::headline(facts));
        let (result, entries) = crate::alerting::admin_mail::send_to_admins(
            self.ports.mailer.as_ref(),
            &tenant.config.admin_emails,
            (&mail_subject, &letter.text(), &letter.html()),
            (HANDLER, "notice-alert-email"),
            self.ports.clock.now(),
        )
        .await;
        for entry in entries {
            log_to(self.ports.log.as_ref(), tenant.company_id(), subject, entry).await;
        }
        result
    }

    async fn slack(
        &self,
        tenant: &Tenant,
        facts: &NoticeFacts<'_>,
        error: &str,
        url: &str,
        subject: &LogSubject,
        deadline: Deadline,
    ) -> Result<(), String> {
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let a = &facts.notice.appointment;
        let body = json!({
            "text": format!("{} ({})", Self::headline(facts), tenant.config.name),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": Self::headline(facts)}},
                {"type": "section", "fields": [
                    {"type": "mrkdwn", "text": format!("*Firma:*\n{}", esc(&tenant.config.name))},
                    {"type": "mrkdwn", "text": format!("*Termin:*\n{}", esc(&facts.when()))},
                    {"type": "mrkdwn", "text": format!("*Kunde:*\n{}", esc(&a.customer.name))},
                    {"type": "mrkdwn", "text": format!("*Ereignis:*\n{}", what(facts.notice.event))},
                ]},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*Fehler:* {}", esc(&crate::text::truncate_chars(&redact_error(error), 200)))}},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("Service Gateway · Termin `{}` · Änderung {}", a.appointment_id, facts.notice.change)}]},
            ],
        })
        .to_string();
        let (result, entry) = crate::alerting::slack::post(
            self.ports.slack.as_ref(),
            url,
            body,
            (HANDLER, "notice-alert-slack"),
            self.ports.clock.now(),
            deadline,
        )
        .await;
        log_to(self.ports.log.as_ref(), tenant.company_id(), subject, entry).await;
        result
    }
}
