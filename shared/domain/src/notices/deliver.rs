//! Delivery of a notice, with the guarantees cases have: each channel (the caller's
//! confirmation, each output's e-mail and webhook) goes out at most once on success (its `sent`
//! mark is saved conditionally right after), every attempt is in the appointment's exchange log,
//! and a failure is a retry (backoff, then the dead-letter path) or permanent (the DLQ at once),
//! classified as for cases.
//!
//! One more guard than cases need: an attempt first *claims* the notice (a lease longer than the
//! deliver function may run). Notices are handed off by the request and, when it looks
//! interrupted, by the sweep, so two copies of a message can exist and even arrive in one batch;
//! the second copy finds the claim and comes back later, when everything is sent.

use std::sync::Arc;

use chrono::{Duration, Utc};

use crate::case::ChannelState;
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::delivery::email::recipients;
use crate::delivery::webhook::{Verdict, verdict};
use crate::delivery::{DeliverError, Mailer, WebhookClient};
use crate::error::chain;
use crate::exchange::{
    Direction, ExchangeEntry, ExchangeLog, LogSubject, log_to, redact_body, redact_error, redact_url,
};
use crate::notices::facts::NoticeFacts;
use crate::notices::ics::{Organizer, invitation};
use crate::notices::notice::{AppointmentNotice, NoticeChannel, NoticeRef, StoredNotice};
use crate::notices::ports::{AttemptResult, DeliveryClaim, NoticeStore};
use crate::notices::{caller_mail, company_mail, payload};
use crate::tenancy::output::OutputConfig;
use crate::tenancy::validate::is_valid_email;
use crate::tenancy::{ConfigStore, Tenant};

const HANDLER: &str = "deliver";

/// How long one attempt owns a notice: longer than the deliver function's 60 s timeout, so a
/// live attempt is never overtaken, and short enough that a crashed one holds nothing for long.
pub const DELIVERY_LEASE: Duration = Duration::seconds(75);

#[derive(Clone)]
pub struct NoticePorts {
    pub notices: Arc<dyn NoticeStore>,
    pub config: Arc<dyn ConfigStore>,
    pub webhooks: Arc<dyn WebhookClient>,
    pub mailer: Arc<dyn Mailer>,
    pub log: Arc<dyn ExchangeLog>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeOutcome {
    /// Every channel has now been delivered.
    Sent,
    /// Nothing left to do (sent before).
    Duplicate,
    Missing,
}

struct ChannelFailure {
    permanent: bool,
    message: String,
}

impl ChannelFailure {
    fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }
}

/// The channels a notice goes out on, and the outputs it names that do not exist (a company
/// that removed an output after naming it).
pub fn channels(notice: &AppointmentNotice, tenant: &Tenant) -> (Vec<NoticeChannel>, Vec<String>) {
    let settings = tenant
        .appointments
        .as_ref()
        .map(|a| a.notifications.clone())
        .unwrap_or_default();
    let mut out = Vec::new();
    if settings.confirm_to_caller && notice.appointment.customer.email.as_deref().is_some_and(is_valid_email) {
        out.push(NoticeChannel::Caller);
    }
    let outputs = settings.outputs.unwrap_or_else(|| {
        tenant
            .categories
            .iter()
            .find(|c| c.is_default)
            .and_then(|c| c.output.clone())
            .into_iter()
            .collect()
    });
    let mut unknown = Vec::new();
    for id in outputs {
        match tenant.outputs.iter().find(|o| o.id == id) {
            Some(output) => out.extend(crate::delivery::channels(output).into_iter().map(|c| match c {
                crate::case::Channel::Email => NoticeChannel::Email { output: id.clone() },
                crate::case::Channel::Webhook => NoticeChannel::Webhook { output: id.clone() },
            })),
            None => unknown.push(id),
        }
    }
    (out, unknown)
}

/// `max@example.com` → `max***@example.com`.
fn mask(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().take(3).collect::<String>()),
        None => "***".into(),
    }
}

pub struct NoticeDeliverer {
    ports: NoticePorts,
    /// The gateway's sender address: the calendar entry's organizer unless the company names one.
    sender: String,
}

impl NoticeDeliverer {
    /// `sender` is the address of the verified SES identity (`MAIL_FROM`'s address).
    pub fn new(ports: NoticePorts, sender: impl Into<String>) -> Self {
        Self {
            ports,
            sender: sender.into(),
        }
    }

    /// Delivers `notice` on its `attempt`-th receive; outbound calls end by `deadline`.
    pub async fn process(
        &self,
        notice: &NoticeRef,
        attempt: u32,
        deadline: Deadline,
    ) -> Result<NoticeOutcome, DeliverError> {
        let p = &self.ports;
        let now = p.clock.now();
        let stored = match p.notices.claim_delivery(notice, now, now + DELIVERY_LEASE).await? {
            DeliveryClaim::Claimed(stored) => stored,
            DeliveryClaim::Sent => return Ok(NoticeOutcome::Duplicate),
            DeliveryClaim::Missing => {
                tracing::warn!(notice = %notice.label(), "no notice to deliver");
                return Ok(NoticeOutcome::Missing);
            }
            DeliveryClaim::Busy => {
                return Err(DeliverError::Retry(
                    "another attempt is delivering this notice; this copy comes back later".into(),
                ));
            }
        };
        let result = self.deliver_claimed(&stored, attempt, deadline).await;
        let finished = match &result {
            Ok(_) => AttemptResult::Sent { at: p.clock.now() },
            Err(e) => AttemptResult::Failed { error: e.to_string() },
        };
        if let Err(err) = p.notices.finish_delivery(notice, &finished).await {
            // The channel marks are saved; the claim runs out by itself.
            tracing::warn!(notice = %notice.label(), error = %chain(&err), "could not finish the notice's attempt");
            if result.is_ok() {
                return Err(DeliverError::Store(err));
            }
        }
        result
    }

    async fn deliver_claimed(
        &self,
        stored: &StoredNotice,
        attempt: u32,
        deadline: Deadline,
    ) -> Result<NoticeOutcome, DeliverError> {
        let p = &self.ports;
        let notice = &stored.notice;
        let tenant =
            p.config.tenant(&notice.company_id).await?.ok_or_else(|| {
                DeliverError::Permanent(format!("company '{}' has no configuration", notice.company_id))
            })?;
        let facts = NoticeFacts::resolve(notice, &tenant);
        let (channels, unknown) = channels(notice, &tenant);
        let mut failures: Vec<(String, ChannelFailure)> = unknown
            .into_iter()
            .map(|id| {
                (
                    format!("output {id}"),
                    ChannelFailure::permanent("the output configuration does not exist"),
                )
            })
            .collect();
        let reference = notice.reference();
        for channel in channels {
            if stored.state.sent(&channel) {
                continue;
            }
            let result = match &channel {
                NoticeChannel::Caller => self.send_confirmation(&tenant, &facts, attempt).await,
                NoticeChannel::Email { output } => match tenant.outputs.iter().find(|o| &o.id == output) {
                    Some(o) => self.send_company_email(stored, &facts, o, &channel, attempt).await,
                    None => Err(ChannelFailure::permanent("the output configuration does not exist")),
                },
                NoticeChannel::Webhook { output } => match tenant.outputs.iter().find(|o| &o.id == output) {
                    Some(o) => self.send_webhook(&facts, o, attempt, deadline).await,
                    None => Err(ChannelFailure::permanent("the output configuration does not exist")),
                },
            };
            match result {
                Ok(state) => {
                    p.notices.save_channel(&reference, &channel, &state).await?;
                }
                Err(f) => failures.push((channel.key(), f)),
            }
        }
        if failures.is_empty() {
            return Ok(NoticeOutcome::Sent);
        }
        let message = failures
            .iter()
            .map(|(c, f)| format!("{c}: {}", f.message))
            .collect::<Vec<_>>()
            .join("; ");
        if failures.iter().any(|(_, f)| f.permanent) {
            Err(DeliverError::Permanent(message))
        } else {
            Err(DeliverError::Retry(message))
        }
    }

    fn entry(&self, facts: &NoticeFacts<'_>, operation: &str, attempt: u32) -> ExchangeEntry {
        let mut entry = ExchangeEntry::internal(HANDLER, operation, 0, attempt, self.ports.clock.now());
        entry.direction = Direction::Outbound;
        entry.detail = Some(format!(
            "{} notice {}",
            facts.notice.event.name(),
            facts.notice.reference().label()
        ));
        entry
    }

    async fn log(&self, facts: &NoticeFacts<'_>, entry: ExchangeEntry) {
        let subject = LogSubject::Appointment(facts.notice.appointment_id.clone());
        log_to(self.ports.log.as_ref(), &facts.notice.company_id, &subject, entry).await;
    }

    /// One message through the mailer, audited; `Ok(message id)`.
    async fn mail(
        &self,
        facts: &NoticeFacts<'_>,
        operation: &str,
        attempt: u32,
        email: &crate::delivery::email::OutgoingEmail,
    ) -> Result<String, crate::delivery::MailError> {
        let mut entry = self.entry(facts, operation, attempt);
        entry.method = "MAIL".into();
        entry.endpoint = format!("mailto:{}", mask(&email.to));
        let started = Utc::now();
        let result = self.ports.mailer.send(email).await;
        entry.duration_ms = (Utc::now() - started).num_milliseconds().max(0) as u64;
        match &result {
            Ok(_) => entry.status_code = 200,
            Err(crate::delivery::MailError::Rejected(e)) => {
                entry.status_code = 422;
                entry.error_class = Some("Rejected".into());
                entry.error_message = Some(redact_error(e));
            }
            Err(crate::delivery::MailError::Unavailable(e)) => {
                entry.status_code = 503;
                entry.error_class = Some("MailUnavailable".into());
                entry.error_message = Some(redact_error(e));
            }
        }
        if let Some(detail) = entry.detail.as_mut() {
            detail.push_str(&format!("; subject: {}", email.subject));
        }
        self.log(facts, entry).await;
        result
    }

    /// The caller's confirmation with the calendar entry.
    async fn send_confirmation(
        &self,
        tenant: &Tenant,
        facts: &NoticeFacts<'_>,
        attempt: u32,
    ) -> Result<ChannelState, ChannelFailure> {
        let Some(to) = facts.notice.appointment.customer.email.clone() else {
            return Err(ChannelFailure::permanent("the caller gave no e-mail address"));
        };
        let organizer_email = tenant
            .appointments
            .as_ref()
            .and_then(|a| a.notifications.organizer_email.clone())
            .unwrap_or_else(|| self.sender.clone());
        let organizer = Organizer {
            name: tenant.config.name.clone(),
            email: organizer_email,
        };
        let email = caller_mail::compose(facts, &to, &invitation(facts, &organizer, &to));
        match self.mail(facts, "notice-confirmation", attempt, &email).await {
            Ok(id) => Ok(ChannelState {
                sent_at: Some(self.ports.clock.now()),
                external_id: Some(id),
                recipients: vec![to],
            }),
            Err(crate::delivery::MailError::Rejected(e)) => Err(ChannelFailure::permanent(format!(
                "the caller's address was refused: {}",
                redact_error(&e)
            ))),
            Err(crate::delivery::MailError::Unavailable(e)) => Err(ChannelFailure {
                permanent: false,
                message: format!("mail service unavailable: {}", redact_error(&e)),
            }),
        }
    }

    /// The company's e-mail, one message per active recipient; who has it is saved after each,
    /// so a retry mails only the others.
    async fn send_company_email(
        &self,
        stored: &StoredNotice,
        facts: &NoticeFacts<'_>,
        output: &OutputConfig,
        channel: &NoticeChannel,
        attempt: u32,
    ) -> Result<ChannelState, ChannelFailure> {
        let Some(settings) = output.email.as_ref() else {
            return Err(ChannelFailure::permanent("output has no e-mail settings"));
        };
        let (to, _invalid) = recipients(settings);
        if to.is_empty() {
            return Err(ChannelFailure::permanent("no valid active recipient"));
        }
        let earlier = stored.state.channel(channel).cloned().unwrap_or_default();
        let mut reached = earlier.recipients;
        let mut first_id = earlier.external_id;
        let (mut rejected, mut unavailable) = (0, 0);
        let missing: Vec<String> = to
            .iter()
            .filter(|a| !reached.iter().any(|r| r.eq_ignore_ascii_case(a)))
            .cloned()
            .collect();
        let reference = facts.notice.reference();
        for (i, address) in missing.iter().enumerate() {
            let email = company_mail::compose(facts, address);
            match self.mail(facts, "notice-email", attempt, &email).await {
                Ok(id) => {
                    first_id.get_or_insert(id);
                    reached.push(address.clone());
                    if i + 1 < missing.len() {
                        let progress = ChannelState {
                            sent_at: None,
                            external_id: first_id.clone(),
                            recipients: reached.clone(),
                        };
                        match self.ports.notices.save_channel(&reference, channel, &progress).await {
                            Ok(true) => {}
                            // Another attempt finished the channel meanwhile.
                            Ok(false) => break,
                            Err(err) => tracing::warn!(error = %chain(&err), "could not save e-mail progress"),
                        }
                    }
                }
                Err(crate::delivery::MailError::Rejected(_)) => rejected += 1,
                Err(crate::delivery::MailError::Unavailable(_)) => unavailable += 1,
            }
        }
        if unavailable > 0 {
            let progress = ChannelState {
                sent_at: None,
                external_id: first_id,
                recipients: reached.clone(),
            };
            if let Err(err) = self.ports.notices.save_channel(&reference, channel, &progress).await {
                tracing::warn!(error = %chain(&err), "could not save e-mail progress");
            }
            return Err(ChannelFailure {
                permanent: false,
                message: format!(
                    "mail service unavailable for {unavailable} of {} recipients ({} reached)",
                    to.len(),
                    reached.len()
                ),
            });
        }
        if reached.is_empty() {
            return Err(ChannelFailure::permanent(format!(
                "no recipient accepted ({rejected} rejected)"
            )));
        }
        Ok(ChannelState {
            sent_at: Some(self.ports.clock.now()),
            external_id: first_id,
            recipients: reached,
        })
    }

    async fn send_webhook(
        &self,
        facts: &NoticeFacts<'_>,
        output: &OutputConfig,
        attempt: u32,
        deadline: Deadline,
    ) -> Result<ChannelState, ChannelFailure> {
        let Some(hook) = output.webhook.as_ref() else {
            return Err(ChannelFailure::permanent("output has no webhook settings"));
        };
        let now = self.ports.clock.now();
        let request = payload::build_request(facts, hook, now.timestamp());
        let mut entry = self.entry(facts, "notice-webhook", attempt);
        entry.method = "POST".into();
        entry.endpoint = redact_url(&hook.url);
        entry.request_body = Some(redact_body(&request.body, 16_000));
        entry.headers = request.redacted_headers();
        let started = Utc::now();
        let response = self.ports.webhooks.post(&request, deadline).await;
        entry.duration_ms = (Utc::now() - started).num_milliseconds().max(0) as u64;
        let result = match response {
            Ok(resp) => {
                entry.status_code = resp.status;
                entry.response_body = Some(redact_body(&resp.body, 4_000));
                match verdict(resp.status, &resp.body, &hook.permanent_statuses, None) {
                    Verdict::Delivered { external_id } => Ok(ChannelState {
                        sent_at: Some(self.ports.clock.now()),
                        external_id,
                        recipients: Vec::new(),
                    }),
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
                        Err(ChannelFailure::permanent(message))
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
        self.log(facts, entry).await;
        result
    }
}
