//! Delivery: the case's category chooses an output configuration (e-mail, webhook or both);
//! each channel is delivered at most once on success (its `sent` mark is written before
//! anything else can fail), every attempt is audited, and the result says whether a retry can
//! help. Backoff and the dead-letter path are the function's (SQS) business.

use std::sync::Arc;

use chrono::Utc;

use crate::case::{Channel, ChannelState, OutputStatus, ServiceCase};
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::delivery::email::{category_name, compose, recipients};
use crate::delivery::ports::{DeliverRequest, DeliveryStore, MailError, Mailer, WebhookClient};
use crate::delivery::template::RenderExtras;
use crate::delivery::webhook::{Verdict, build_request, verdict};
use crate::error::{StoreError, chain};
use crate::exchange::{Direction, ExchangeEntry, ExchangeLog, log_entry, redact_body, redact_error, redact_url};
use crate::links::LinkSettings;
use crate::tenancy::output::{OutputConfig, OutputType};
use crate::tenancy::{ConfigStore, Tenant};

const HANDLER: &str = "deliver";

#[derive(Clone)]
pub struct DeliverPorts {
    pub cases: Arc<dyn DeliveryStore>,
    pub config: Arc<dyn ConfigStore>,
    pub webhooks: Arc<dyn WebhookClient>,
    pub mailer: Arc<dyn Mailer>,
    pub log: Arc<dyn ExchangeLog>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliverOutcome {
    /// Every configured channel has now been delivered.
    Sent,
    /// Nothing left to do (already sent).
    Duplicate,
    Missing,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    /// Another attempt may succeed (back off and retry).
    #[error("{0}")]
    Retry(String),
    /// Will not succeed on a retry: straight to the dead-letter path.
    #[error("{0}")]
    Permanent(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct ChannelFailure {
    permanent: bool,
    message: String,
}

pub struct Deliverer {
    ports: DeliverPorts,
    links: Option<LinkSettings>,
    /// Deliveries by channel and result.
    metrics: std::sync::Arc<dyn crate::metrics::MetricSink>,
}

impl Deliverer {
    pub fn new(ports: DeliverPorts, links: Option<LinkSettings>) -> Self {
        Self {
            ports,
            links,
            metrics: std::sync::Arc::new(crate::metrics::NoMetrics),
        }
    }

    /// Counts every channel's attempt into `metrics` (`Deliveries`, by `Channel` and `Result`:
    /// `sent`, `retry`, `failed`).
    pub fn with_metrics(mut self, metrics: std::sync::Arc<dyn crate::metrics::MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    fn count_delivery(&self, company: &crate::ids::CompanyId, channel: Channel, result: &str) {
        use crate::metrics::{Measurement, dimensions, names};
        self.metrics.put(&[Measurement::one(names::DELIVERIES, Some(company))
            .with(dimensions::CHANNEL, channel.as_str())
            .with(dimensions::RESULT, result)]);
    }

    /// Render values shared by both channels: now, and the signed recording and case links
    /// (company TTLs).
    fn extras(&self, tenant: &Tenant, case: &ServiceCase) -> RenderExtras {
        let now = self.ports.clock.now();
        let mut extras = RenderExtras {
            now: Some(now),
            ..Default::default()
        };
        let Some(links) = &self.links else {
            return extras;
        };
        if let Some(key) = case.enrichment.audio_object_key.as_deref() {
            let (link, expires) = links.recording_link(tenant, key, now);
            extras.audio_url = Some(link);
            extras.audio_url_expires_at = Some(expires);
        }
        extras.case_url = Some(links.case_link(tenant, case, now));
        extras
    }

    /// Delivers the case of `request` on its `attempt`-th receive; outbound calls end by `deadline`.
    pub async fn process(
        &self,
        request: &DeliverRequest,
        attempt: u32,
        deadline: Deadline,
    ) -> Result<DeliverOutcome, DeliverError> {
        let p = &self.ports;
        let Some(case) = p.cases.get_case(&request.company_id, &request.call_id).await? else {
            tracing::warn!(call_id = %request.call_id, "no case to deliver");
            return Ok(DeliverOutcome::Missing);
        };
        if case.output_status == OutputStatus::Sent {
            return Ok(DeliverOutcome::Duplicate);
        }
        let tenant =
            p.config.tenant(&case.company_id).await?.ok_or_else(|| {
                DeliverError::Permanent(format!("company '{}' has no configuration", case.company_id))
            })?;
        let output = output_for(&tenant, &case)?;
        let mut failures = Vec::new();
        let mut external_reference = case.delivery.webhook.as_ref().and_then(|w| w.external_id.clone());
        for channel in channels(output) {
            if case.delivery.sent(channel) {
                continue;
            }
            let result = match channel {
                Channel::Webhook => self.send_webhook(&tenant, output, &case, attempt, deadline).await,
                Channel::Email => self.send_email(&tenant, output, &case, attempt).await,
            };
            match &result {
                Ok(_) => self.count_delivery(&case.company_id, channel, "sent"),
                Err(f) if f.permanent => self.count_delivery(&case.company_id, channel, "failed"),
                Err(_) => self.count_delivery(&case.company_id, channel, "retry"),
            }
            match result {
                Ok(state) => {
                    if channel == Channel::Webhook && state.external_id.is_some() {
                        external_reference.clone_from(&state.external_id);
                    }
                    p.cases
                        .save_channel_state(&case.company_id, &case.call_id, channel, &state)
                        .await?;
                }
                Err(f) => failures.push((channel, f)),
            }
        }
        if failures.is_empty() {
            p.cases
                .mark_output_sent(
                    &case.company_id,
                    &case.call_id,
                    external_reference.as_deref(),
                    p.clock.now(),
                )
                .await?;
            return Ok(DeliverOutcome::Sent);
        }
        let message = failures
            .iter()
            .map(|(c, f)| format!("{}: {}", c.as_str(), f.message))
            .collect::<Vec<_>>()
            .join("; ");
        p.cases
            .record_output_error(&case.company_id, &case.call_id, &message)
            .await?;
        if failures.iter().any(|(_, f)| f.permanent) {
            Err(DeliverError::Permanent(message))
        } else {
            Err(DeliverError::Retry(message))
        }
    }

    async fn send_webhook(
        &self,
        tenant: &Tenant,
        output: &OutputConfig,
        case: &ServiceCase,
        attempt: u32,
        deadline: Deadline,
    ) -> Result<ChannelState, ChannelFailure> {
        let p = &self.ports;
        let Some(hook) = output.webhook.as_ref() else {
            return Err(ChannelFailure {
                permanent: true,
                message: "output has no webhook settings".into(),
            });
        };
        let now = p.clock.now();
        let mut extras = self.extras(tenant, case);
        if !hook.include_case_link {
            // The case page is opt-in per webhook: ticket systems are read by many.
            extras.case_url = None;
        }
        let mut entry = ExchangeEntry::internal(HANDLER, "webhook", 0, attempt, now);
        entry.direction = Direction::Outbound;
        entry.method = "POST".into();
        entry.endpoint = redact_url(&hook.url);
        let request = match build_request(case, hook, &tenant.presets, &extras, now.timestamp()) {
            Ok(r) => r,
            Err(e) => {
                entry.status_code = 500;
                entry.error_class = Some("TemplateError".into());
                entry.error_message = Some(redact_error(&e.to_string()));
                self.log(case, entry).await;
                return Err(ChannelFailure {
                    permanent: true,
                    message: format!("payload: {e}"),
                });
            }
        };
        entry.request_body = Some(redact_body(&request.body, 16_000));
        entry.headers = request.redacted_headers();
        let started = Utc::now();
        let response = p.webhooks.post(&request, deadline).await;
        entry.duration_ms = (Utc::now() - started).num_milliseconds().max(0) as u64;
        let result = match response {
            Ok(resp) => {
                entry.status_code = resp.status;
                entry.response_body = Some(redact_body(&resp.body, 4_000));
                match verdict(
                    resp.status,
                    &resp.body,
                    &hook.permanent_statuses,
                    request.external_id_path.as_deref(),
                ) {
                    Verdict::Delivered { external_id } => {
                        entry.detail = external_id.as_ref().map(|id| format!("external id {id}"));
                        Ok(ChannelState {
                            sent_at: Some(p.clock.now()),
                            external_id,
                            recipients: Vec::new(),
                        })
                    }
                    Verdict::Retry { class, message } => {
                        entry.error_class = Some(class);
                        entry.error_message = Some(message.clone());
                        Err(ChannelFailure {
                            permanent: false,
                            message,
                        })
                    }
                    Verdict::Permanent { class, message } => {
                        entry.error_class = Some(class);
                        entry.error_message = Some(message.clone());
                        Err(ChannelFailure {
                            permanent: true,
                            message,
                        })
                    }
                }
            }
            Err(e) => {
                let (code, class, permanent) = e.classified();
                entry.status_code = code;
                entry.error_class = Some(class.into());
                entry.error_message = Some(redact_error(&e.to_string()));
                Err(ChannelFailure {
                    permanent,
                    message: redact_error(&e.to_string()),
                })
            }
        };
        self.log(case, entry).await;
        result
    }

    async fn send_email(
        &self,
        tenant: &Tenant,
        output: &OutputConfig,
        case: &ServiceCase,
        attempt: u32,
    ) -> Result<ChannelState, ChannelFailure> {
        let p = &self.ports;
        let Some(email) = output.email.as_ref() else {
            return Err(ChannelFailure {
                permanent: true,
                message: "output has no e-mail settings".into(),
            });
        };
        let (to, invalid) = recipients(email);
        for bad in &invalid {
            tracing::warn!(address = %mask(bad), "skipping an invalid recipient address");
        }
        if to.is_empty() {
            let mut entry = ExchangeEntry::internal(HANDLER, "email", 422, attempt, p.clock.now());
            entry.error_class = Some("ConfigurationError".into());
            entry.error_message = Some("no valid active recipient".into());
            self.log(case, entry).await;
            return Err(ChannelFailure {
                permanent: true,
                message: "no valid active recipient".into(),
            });
        }
        let category = category_name(tenant, case);
        let extras = self.extras(tenant, case);
        // Recipients an earlier attempt reached: progress is saved after every accepted message,
        // so a retry (after a crash, or one address being unavailable) mails only the others.
        let earlier = case.delivery.email.clone().unwrap_or_default();
        let mut reached = earlier.recipients;
        let mut first_id = earlier.external_id;
        let (mut rejected, mut unavailable) = (0, 0);
        let missing: Vec<&String> = to
            .iter()
            .filter(|a| !reached.iter().any(|r| r.eq_ignore_ascii_case(a)))
            .collect();
        for (i, address) in missing.iter().copied().enumerate() {
            let mut entry = ExchangeEntry::internal(HANDLER, "email", 0, attempt, p.clock.now());
            entry.direction = Direction::Outbound;
            entry.method = "MAIL".into();
            entry.endpoint = format!("mailto:{}", mask(address));
            let message = match compose(
                case,
                &tenant.config.name,
                category,
                email,
                &extras,
                tenant.tz(),
                address,
            ) {
                Ok(m) => m,
                Err(e) => {
                    return Err(ChannelFailure {
                        permanent: true,
                        message: format!("e-mail template: {e}"),
                    });
                }
            };
            entry.detail = Some(format!("subject: {}", message.subject));
            let started = Utc::now();
            let result = p.mailer.send(&message).await;
            entry.duration_ms = (Utc::now() - started).num_milliseconds().max(0) as u64;
            match result {
                Ok(id) => {
                    entry.status_code = 200;
                    first_id.get_or_insert(id);
                    reached.push(address.clone());
                    // After the last one, the channel's state is written below either way.
                    if i + 1 < missing.len() && !self.save_email_progress(case, &reached, &first_id).await {
                        // Another delivery of this case finished the channel meanwhile.
                        break;
                    }
                }
                Err(MailError::Rejected(e)) => {
                    entry.status_code = 422;
                    entry.error_class = Some("Rejected".into());
                    entry.error_message = Some(redact_error(&e));
                    rejected += 1;
                }
                Err(MailError::Unavailable(e)) => {
                    entry.status_code = 503;
                    entry.error_class = Some("MailUnavailable".into());
                    entry.error_message = Some(redact_error(&e));
                    unavailable += 1;
                }
            }
            self.log(case, entry).await;
        }
        if unavailable > 0 {
            // Retried for the addresses still missing; the ones reached are not mailed again.
            self.save_email_progress(case, &reached, &first_id).await;
            return Err(ChannelFailure {
                permanent: false,
                message: format!(
                    "mail service unavailable for {unavailable} of {} recipients ({} reached, {rejected} rejected)",
                    to.len(),
                    reached.len()
                ),
            });
        }
        if reached.is_empty() {
            return Err(ChannelFailure {
                permanent: true,
                message: format!("no recipient accepted ({rejected} rejected)"),
            });
        }
        // A refused address does not hold back the others (it is in the exchange log).
        Ok(ChannelState {
            sent_at: Some(p.clock.now()),
            external_id: first_id,
            recipients: reached,
        })
    }

    /// Records who has the e-mail so far (the channel stays unsent); `false` when the channel is
    /// already delivered. A store failure only costs a repeat to these recipients if the attempt
    /// later fails too, so it is logged, not fatal.
    async fn save_email_progress(&self, case: &ServiceCase, reached: &[String], first_id: &Option<String>) -> bool {
        let progress = ChannelState {
            sent_at: None,
            external_id: first_id.clone(),
            recipients: reached.to_vec(),
        };
        let saved = self
            .ports
            .cases
            .save_channel_state(&case.company_id, &case.call_id, Channel::Email, &progress)
            .await;
        match saved {
            Ok(still_open) => still_open,
            Err(err) => {
                tracing::warn!(error = %chain(&err), "could not save e-mail progress");
                true
            }
        }
    }

    async fn log(&self, case: &ServiceCase, entry: ExchangeEntry) {
        log_entry(self.ports.log.as_ref(), &case.company_id, &case.case_id, entry).await;
    }
}

/// `max@example.com` → `max***@example.com` (the original's masking).
fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().take(3).collect::<String>()),
        None => "***".into(),
    }
}

/// The output configuration the case's category names.
pub fn output_for<'a>(tenant: &'a Tenant, case: &ServiceCase) -> Result<&'a OutputConfig, DeliverError> {
    let category = case.category.as_deref().and_then(|slug| tenant.category(slug));
    let output_id = category.and_then(|c| c.output.as_deref()).ok_or_else(|| {
        DeliverError::Permanent(format!(
            "category '{}' has no output configuration",
            case.category.as_deref().unwrap_or("-")
        ))
    })?;
    tenant
        .outputs
        .iter()
        .find(|o| o.id == output_id)
        .ok_or_else(|| DeliverError::Permanent(format!("output configuration '{output_id}' does not exist")))
}

/// Channels of an output: e-mail first, then the webhook (when enabled).
pub fn channels(output: &OutputConfig) -> Vec<Channel> {
    let mut list = Vec::new();
    if matches!(output.kind, OutputType::Email | OutputType::Hybrid) {
        list.push(Channel::Email);
    }
    if matches!(output.kind, OutputType::Webhook | OutputType::Hybrid)
        && output.webhook.as_ref().is_some_and(|w| w.enabled)
    {
        list.push(Channel::Webhook);
    }
    list
}
