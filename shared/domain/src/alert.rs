//! Final failure: after the last delivery attempt the case turns `failed` with the last error
//! and the company's admins hear about it at once, by e-mail and Slack, each exactly once per
//! case. A failing alert is retried; it never undoes the `failed` state.

use std::sync::Arc;

use serde_json::json;

use crate::case::{OutputStatus, ServiceCase};
use crate::email::{OutgoingEmail, category_name, priority_label};
use crate::error::StoreError;
use crate::exchange::{Direction, ExchangeEntry, redact_error, redact_url};
use crate::links::LinkSettings;
use crate::ports::{CaseStore, Clock, ConfigStore, DeliverRequest, ExchangeLog, Mailer, WebhookClient};
use crate::tenant::Tenant;
use crate::validate::is_valid_email;
use crate::webhook::WebhookRequest;

const HANDLER: &str = "alert";

#[derive(Clone)]
pub struct AlertPorts {
    pub cases: Arc<dyn CaseStore>,
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
}

impl Alerter {
    /// With `links`, alerts carry a signed link to the case's page.
    pub fn new(ports: AlertPorts, links: Option<LinkSettings>) -> Self {
        Self { ports, links }
    }

    fn case_link(&self, tenant: &Tenant, case: &ServiceCase) -> Option<String> {
        let links = self.links.as_ref()?;
        Some(links.case_link(tenant, case, self.ports.clock.now()))
    }

    /// `reason` is what the dead-letter path knew (a permanent failure's message), if anything.
    pub async fn process(&self, request: &DeliverRequest, reason: Option<&str>) -> Result<AlertOutcome, AlertError> {
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
            match self.email(&tenant, &case, &error).await {
                Ok(()) => {
                    p.cases
                        .mark_alerted(&case.company_id, &case.call_id, "email", p.clock.now())
                        .await?;
                    sent.push("email");
                }
                Err(e) => failures.push(e),
            }
        }
        if case.alerts.slack_at.is_none()
            && let Some(url) = tenant.config.slack_webhook_url.as_deref()
        {
            match self.slack(&tenant, &case, &error, url).await {
                Ok(()) => {
                    p.cases
                        .mark_alerted(&case.company_id, &case.call_id, "slack", p.clock.now())
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
        let mut failures = Vec::new();
        let mut delivered = 0;
        for to in tenant.config.admin_emails.iter().filter(|a| is_valid_email(a)) {
            let mail = OutgoingEmail {
                to: to.clone(),
                subject: subject.clone(),
                text: text.clone(),
                html: html.clone(),
                attachment: None,
            };
            let mut entry = ExchangeEntry::internal(HANDLER, "alert-email", 200, 0, self.ports.clock.now());
            entry.direction = Direction::Outbound;
            entry.method = "MAIL".into();
            entry.endpoint = format!(
                "mailto:{}",
                to.split('@').nth(1).map_or("?".to_string(), |d| format!("***@{d}"))
            );
            if let Err(e) = self.ports.mailer.send(&mail).await {
                entry.status_code = 503;
                entry.error_message = Some(redact_error(&e.to_string()));
                failures.push(e.to_string());
            } else {
                delivered += 1;
            }
            self.log(case, entry).await;
        }
        if delivered > 0 || failures.is_empty() {
            Ok(())
        } else {
            Err(format!("alert e-mail: {}", failures.join("; ")))
        }
    }

    async fn slack(&self, tenant: &Tenant, case: &ServiceCase, error: &str, url: &str) -> Result<(), String> {
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
        let request = WebhookRequest {
            url: url.to_string(),
            body,
            headers: vec![("Content-Type".into(), "application/json".into())],
            external_id_path: None,
        };
        let mut entry = ExchangeEntry::internal(HANDLER, "alert-slack", 0, 0, self.ports.clock.now());
        entry.direction = Direction::Outbound;
        entry.method = "POST".into();
        // The Slack URL is itself the secret: host only.
        entry.endpoint = redact_url(url);
        let result = match self.ports.slack.post(&request).await {
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
        self.log(case, entry).await;
        result
    }

    async fn log(&self, case: &ServiceCase, entry: ExchangeEntry) {
        if let Err(err) = self.ports.log.append(&case.company_id, &case.case_id, &entry).await {
            tracing::warn!(error = %err, "could not write exchange log entry");
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{Ingest, IngestSettings, Ports};
    use crate::memory::{
        FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryExchangeLog, MemoryMailer, MemoryQueue, ScriptedWebhooks,
    };
    use crate::ports::{HttpResponse, TransportError};
    use crate::retell::signature;
    use crate::tenant::TenantSpec;
    use chrono::{TimeZone, Utc};

    async fn world(
        edit: impl FnOnce(&mut TenantSpec),
    ) -> (
        Alerter,
        Arc<MemoryCaseStore>,
        Arc<MemoryMailer>,
        Arc<ScriptedWebhooks>,
        DeliverRequest,
    ) {
        let mut spec: TenantSpec = serde_norway::from_str(include_str!("../../../infra/tenants/nordit.yaml")).unwrap();
        spec.company.slack_webhook_url = Some("https://hooks.slack.com/services/T0/B0/secret".into());
        edit(&mut spec);
        let cases = Arc::new(MemoryCaseStore::default());
        let config = Arc::new(MemoryConfigStore::default());
        for r in spec.route_keys() {
            config.put_route(r, "nordit-hannover");
        }
        config.put_tenant(spec.tenant());
        let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 18, 13, 5, 0).unwrap()));
        let body = include_str!("../../../events/retell/call_analyzed.json");
        let ingest = Ingest::new(
            IngestSettings::new("k"),
            Ports {
                cases: cases.clone(),
                config: config.clone(),
                queue: Arc::new(MemoryQueue::default()),
                clock: clock.clone(),
            },
        );
        let sig = signature::sign("k", body.as_bytes(), clock.now().timestamp_millis() as u64);
        ingest.webhook(body.as_bytes(), Some(&sig)).await.unwrap();
        let case = cases
            .get_case("nordit-hannover", "call_4b9e2f71c08d3a6e5f1b27c9d04")
            .await
            .unwrap()
            .unwrap();
        cases
            .record_output_error(&case.company_id, &case.call_id, "webhook: HTTP 500")
            .await
            .unwrap();
        let mailer = Arc::new(MemoryMailer::default());
        let slack = Arc::new(ScriptedWebhooks::default());
        let alerter = Alerter::new(
            AlertPorts {
                cases: cases.clone(),
                config,
                mailer: mailer.clone(),
                slack: slack.clone(),
                log: Arc::new(MemoryExchangeLog::default()),
                clock,
            },
            Some(LinkSettings {
                base_url: "https://gw.example".into(),
                signing_key: "link-key".into(),
            }),
        );
        let req = DeliverRequest {
            company_id: case.company_id,
            call_id: case.call_id,
            case_id: case.case_id,
        };
        (alerter, cases, mailer, slack, req)
    }

    #[tokio::test]
    async fn marks_failed_and_alerts_once_per_channel() {
        let (alerter, cases, mailer, slack, req) = world(|_| {}).await;
        let out = alerter.process(&req, None).await.unwrap();
        assert_eq!(
            out,
            AlertOutcome::Failed {
                alerts: vec!["email", "slack"]
            }
        );
        let case = cases.get_case(&req.company_id, &req.call_id).await.unwrap().unwrap();
        assert_eq!(case.output_status, OutputStatus::Failed);
        assert_eq!(case.output_error.as_deref(), Some("webhook: HTTP 500"));
        assert_eq!(mailer.sent().len(), 1);
        assert!(
            mailer.sent()[0]
                .subject
                .starts_with("[ALERT] Zustellung fehlgeschlagen: TKT-")
        );
        let slack_body: serde_json::Value = serde_json::from_str(&slack.received()[0].body).unwrap();
        assert!(
            slack_body["blocks"][1]["fields"][0]["text"]
                .as_str()
                .unwrap()
                .contains("NordIT")
        );
        // Both carry the signed link to the case's page.
        let case_link = "https://gw.example/cases/nordit-hannover/call_4b9e2f71c08d3a6e5f1b27c9d04?expires=";
        assert!(mailer.sent()[0].text.contains(&format!("Fall:       {case_link}")));
        let button = &slack_body["blocks"][3]["elements"][0];
        assert_eq!(button["text"]["text"], "Fall ansehen");
        assert!(button["url"].as_str().unwrap().starts_with(case_link), "{button}");
        // The same dead letter again: no second alert.
        assert_eq!(
            alerter.process(&req, None).await.unwrap(),
            AlertOutcome::Failed { alerts: vec![] }
        );
        assert_eq!((mailer.sent().len(), slack.received().len()), (1, 1));
    }

    #[tokio::test]
    async fn a_failing_alert_is_retried_without_undoing_failed_and_alerts_can_be_off() {
        let (alerter, cases, mailer, slack, req) = world(|_| {}).await;
        slack.answer(vec![
            Err(TransportError::Failed("connection reset".into())),
            Ok(HttpResponse {
                status: 200,
                body: "ok".into(),
            }),
        ]);
        assert!(matches!(alerter.process(&req, None).await, Err(AlertError::Send(_))));
        let case = cases.get_case(&req.company_id, &req.call_id).await.unwrap().unwrap();
        assert_eq!(case.output_status, OutputStatus::Failed, "failed stays failed");
        assert_eq!(
            alerter.process(&req, None).await.unwrap(),
            AlertOutcome::Failed { alerts: vec!["slack"] }
        );
        assert_eq!(mailer.sent().len(), 1, "the e-mail alert is not repeated");

        let (alerter, _, mailer, slack, req) = world(|s| s.company.alerts_enabled = false).await;
        assert_eq!(
            alerter.process(&req, Some("HTTP 410")).await.unwrap(),
            AlertOutcome::Failed { alerts: vec![] }
        );
        assert!(mailer.sent().is_empty() && slack.received().is_empty());
    }
}
