//! Final failure: after the last delivery attempt the case turns `failed` with the last error
//! and the company's admins hear about it at once, by e-mail and Slack, each exactly once per
//! case. A failing alert is retried; it never undoes the `failed` state.

use std::sync::Arc;

use serde_json::json;

use crate::alerting::ports::{AlertChannel, AlertStore};
use crate::case::{OutputStatus, ServiceCase};
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::delivery::email::{category_name, priority_label};
use crate::delivery::{DeliverRequest, Mailer, WebhookClient};
use crate::error::StoreError;
use crate::exchange::{ExchangeEntry, redact_error};
use crate::exchange::{ExchangeLog, log_entry};
use crate::links::LinkSettings;
use crate::metrics::{MetricSink, NoMetrics};
use crate::tenancy::{ConfigStore, Tenant};

const HANDLER: &str = "alert";

#[derive(Clone)]
pub struct AlertPorts {
    pub cases: Arc<dyn AlertStore>,
    pub config: Arc<dyn ConfigStore>,
    pub mailer: Arc<dyn Mailer>,
    pub slack: Arc<dyn WebhookClient>,
    pub log: Arc<dyn ExchangeLog>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertOutcome {
    /// The case is `failed`; `alerts` says which channels went out now.
    Failed {
        alerts: Vec<&'static str>,
    },
    /// The case was delivered after all (e.g. a redelivery won the race): nothing to do.
    AlreadySent,
    Missing,
}

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("alert not sent: {0}")]
    Send(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Alerter {
    ports: AlertPorts,
    links: Option<LinkSettings>,
    metrics: Arc<dyn MetricSink>,
}

impl Alerter {
    /// With `links`, alerts carry a signed link to the case's page.
    pub fn new(ports: AlertPorts, links: Option<LinkSettings>) -> Self {
        Self {
            ports,
            links,
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Counts the alerts sent and failed into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    fn case_link(&self, tenant: &Tenant, case: &ServiceCase) -> Option<String> {
        let links = self.links.as_ref()?;
        Some(links.case_link(tenant, case, self.ports.clock.now()))
    }

    /// `reason` is what the dead-letter path knew (a permanent failure's message), if anything;
    /// alerts go out by `deadline`.
    pub async fn process(
        &self,
        request: &DeliverRequest,
        reason: Option<&str>,
        deadline: Deadline,
    ) -> Result<AlertOutcome, AlertError> {
        let p = &self.ports;
        let Some(case) = p.cases.get_case(&request.company_id, &request.call_id).await? else {
            return Ok(AlertOutcome::Missing);
        };
        if case.output_status == OutputStatus::Sent {
            return Ok(AlertOutcome::AlreadySent);
        }
        let error = reason
            .map(str::to_string)
            .or_else(|| case.output_error.clone())
            .unwrap_or_else(|| "delivery failed after the last retry".into());
        let now = p.clock.now();
        if !p
            .cases
            .mark_output_failed(&case.company_id, &case.call_id, &error, now)
            .await?
        {
            return Ok(AlertOutcome::AlreadySent);
        }
        if case.output_status != OutputStatus::Failed {
            let mut entry = ExchangeEntry::internal(HANDLER, "final-failure", 500, 0, now);
            entry.error_class = Some("DeliveryFailed".into());
            entry.error_message = Some(redact_error(&error));
            self.log(&case, entry).await;
        }
        let Some(tenant) = p.config.tenant(&case.company_id).await? else {
            return Ok(AlertOutcome::Failed { alerts: vec![] });
        };
        if !tenant.config.alerts_enabled {
            return Ok(AlertOutcome::Failed { alerts: vec![] });
        }
        let mut sent = Vec::new();
        let mut failures = Vec::new();
        if case.alerts.email_at.is_none() && !tenant.config.admin_emails.is_empty() {
            let result = self.email(&tenant, &case, &error).await;
            crate::alerting::count(self.metrics.as_ref(), &case.company_id, AlertChannel::Email, &result);
            match result {
                Ok(()) => {
                    p.cases
                        .mark_alerted(&case.company_id, &case.call_id, AlertChannel::Email, p.clock.now())
                        .await?;
                    sent.push("email");
                }
                Err(e) => failures.push(e),
            }
        }
        if case.alerts.slack_at.is_none()
            && let Some(url) = tenant.config.slack_webhook_url.as_deref()
        {
            let result = self.slack(&tenant, &case, &error, url, deadline).await;
            crate::alerting::count(self.metrics.as_ref(), &case.company_id, AlertChannel::Slack, &result);
            match result {
                Ok(()) => {
                    p.cases
                        .mark_alerted(&case.company_id, &case.call_id, AlertChannel::Slack, p.clock.now())
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

    async fn email(&self, tenant: &Tenant, case: &ServiceCase, error: &str) -> Result<(), String> {
        let ticket = case.ticket_ref.as_deref().unwrap_or("TKT");
        let category = category_name(tenant, case);
        let subject = format!("[ALERT] Zustellung fehlgeschlagen: {ticket}");
        let link_line = self.case_link(tenant, case).map(|link| format!("Fall:       {link}"));
        let lines = [
            Some(format!(
                "Das Ticket {ticket} konnte nach allen Versuchen nicht zugestellt werden."
            )),
            Some(String::new()),
            Some(format!("Firma:      {}", tenant.config.name)),
            Some(format!("Kategorie:  {category}")),
            Some(format!("Betreff:    {}", case.subject)),
            Some(format!("Priorität:  {}", priority_label(case.priority))),
            Some(format!("Fehler:     {}", redact_error(error))),
            link_line,
            Some(String::new()),
            Some(format!(
                "Erneut zustellen, sobald das Ziel repariert ist: gatewayctl cases redeliver {ticket} --company {}",
                case.company_id
            )),
        ];
        let text = lines.into_iter().flatten().collect::<Vec<_>>().join("\n");
        let html = format!("<pre style=\"font-family:monospace\">{}</pre>", html_escape(&text));
        let (result, entries) = crate::alerting::admin_mail::send_to_admins(
            self.ports.mailer.as_ref(),
            &tenant.config.admin_emails,
            (&subject, &text, &html),
            (HANDLER, "alert-email"),
            self.ports.clock.now(),
        )
        .await;
        for entry in entries {
            self.log(case, entry).await;
        }
        result
    }

    async fn slack(
        &self,
        tenant: &Tenant,
        case: &ServiceCase,
        error: &str,
        url: &str,
        deadline: Deadline,
    ) -> Result<(), String> {
        let ticket = case.ticket_ref.as_deref().unwrap_or("TKT");
        let category = category_name(tenant, case);
        let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
        let button = self.case_link(tenant, case).map(|link| {
            json!({"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Fall ansehen"}, "url": link},
            ]})
        });
        let blocks: Vec<_> = [
            json!({"type": "header", "text": {"type": "plain_text", "text": format!("Zustellung fehlgeschlagen: {ticket}")}}),
            json!({"type": "section", "fields": [
                {"type": "mrkdwn", "text": format!("*Firma:*\n{}", esc(&tenant.config.name))},
                {"type": "mrkdwn", "text": format!("*Kategorie:*\n{}", esc(category))},
                {"type": "mrkdwn", "text": format!("*Ticket:*\n{ticket}")},
                {"type": "mrkdwn", "text": format!("*Priorität:*\n{}", priority_label(case.priority))},
            ]}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Betreff:* {}\n*Fehler:* {}", esc(&case.subject), esc(&crate::text::truncate_chars(&redact_error(error), 200)))}}),
        ]
            .into_iter()
            .chain(button)
            .chain([json!(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": format!("Service Gateway · `gatewayctl cases show {ticket} --company {}`", case.company_id)}]}
            )])
            .collect();
        let body = json!({
            "text": format!("Zustellung fehlgeschlagen: {ticket} ({})", tenant.config.name),
            "blocks": blocks,
        })
        .to_string();
        let (result, entry) = crate::alerting::slack::post(
            self.ports.slack.as_ref(),
            url,
            body,
            (HANDLER, "alert-slack"),
            self.ports.clock.now(),
            deadline,
        )
        .await;
        self.log(case, entry).await;
        result
    }

    async fn log(&self, case: &ServiceCase, entry: ExchangeEntry) {
        log_entry(self.ports.log.as_ref(), &case.company_id, &case.case_id, entry).await;
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
