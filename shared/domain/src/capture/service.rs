//! Capture: a signed Retell request becomes a recorded call event and, where the call should
//! become a ticket, exactly one service case that is handed to enrichment.
//!
//! One case per call is enforced by the store (the case key contains the call id, written
//! conditionally). The hand-off (ticket number + enrich message) is owned by a short lease on
//! the case, so concurrent duplicates cannot enqueue twice and a retry after a failed enqueue
//! finishes the job.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::appointments::desk::booking_variables;
use crate::call_event::{CallEvent, RecordingLinks};
use crate::capture::classify::{Intent, resolve_mode};
use crate::capture::draft;
use crate::capture::error::IngestError;
use crate::capture::functions::Booking;
use crate::capture::handoff::Handoff;
use crate::capture::inbound::dynamic_variables;
use crate::capture::ports::{CaptureStore, CapturedContent, CreateOutcome};
use crate::capture::retell::payload::{Call, InboundCall, WebhookEnvelope, parse_json, require, value_text};
use crate::capture::retell::signature;
use crate::case::ServiceCase;
use crate::clock::Clock;
use crate::costs::{CostRecord, ProviderCost};
use crate::enrichment::EnrichQueue;
use crate::error::{StoreError, chain};
use crate::ids::{CallId, TicketRef};
use crate::keys::{KeyRing, KeyUsed};
use crate::metrics::{Measurement, MetricSink, NoMetrics, names as metric_names};
use crate::tenancy::tenant::GatewayMode;
use crate::tenancy::{ConfigStore, RouteKey, Tenant};
use crate::text::truncate_chars;

/// Retell bodies above this size are refused (413).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Raw bodies of unrouted events are kept up to this size (DynamoDB items stop at 400 KB).
const MAX_KEPT_BODY_BYTES: usize = 350 * 1024;
const MERGE_ATTEMPTS: usize = 3;

#[derive(Debug, Clone)]
pub struct IngestSettings {
    /// Retell's API key (the one with the webhook badge): the HMAC key of `X-Retell-Signature`;
    /// during a rotation also the previous one.
    pub retell_keys: KeyRing,
    pub max_body_bytes: usize,
    /// How long one request owns a case's hand-off; longer than the function's timeout.
    pub handoff_lease: Duration,
}

impl IngestSettings {
    pub fn new(retell_keys: impl Into<KeyRing>) -> Self {
        Self {
            retell_keys: retell_keys.into(),
            max_body_bytes: MAX_BODY_BYTES,
            // Longer than the ingest function may run (8 s): an owner's request is gone before its
            // lease ends, so a retry (or the sweep) can take over without racing it.
            handoff_lease: Duration::seconds(10),
        }
    }
}

/// The ports capture works through.
#[derive(Clone)]
pub struct Ports {
    pub cases: Arc<dyn CaptureStore>,
    pub config: Arc<dyn ConfigStore>,
    pub queue: Arc<dyn EnrichQueue>,
    pub clock: Arc<dyn Clock>,
}

/// How a request left the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// The event was stored as part of the call's audit trail.
    Recorded,
    /// No company owns the agent or number; the event was stored for an operator.
    Unrouted,
    /// A new case was created.
    Captured,
    /// The second path added its data to the call's existing case.
    Completed,
    /// The same request again: nothing changed.
    Duplicate,
    /// An appointment-mode call: recorded, no case.
    Acknowledged,
    /// Not a voice call event (chat agents): ignored.
    Ignored,
}

/// The 2xx answer to a lifecycle webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookAck {
    pub status: AckStatus,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<CallId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WebhookReply {
    Ack(WebhookAck),
    /// `{"call_inbound": {…}}` for Retell's inbound-call webhook.
    Inbound(Value),
}

/// The answer to `finalize_ticket`, read out by the agent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalizeReply {
    pub success: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<TicketRef>,
    pub message: String,
    /// True when the call already had a case (a retry or the second capture path).
    pub idempotent: bool,
}

pub(crate) struct Captured {
    pub(crate) case: ServiceCase,
    pub(crate) status: AckStatus,
}

pub struct Ingest {
    settings: IngestSettings,
    pub(crate) ports: Ports,
    handoff: Handoff,
    /// The booking functions and appointment-mode calls; without it they are "not offered".
    pub(crate) booking: Option<Booking>,
    /// Cases captured, duplicates, unrouted events, booking outcomes.
    pub(crate) metrics: Arc<dyn MetricSink>,
}

impl Ingest {
    pub fn new(settings: IngestSettings, ports: Ports) -> Self {
        let handoff = Handoff {
            cases: ports.cases.clone(),
            queue: ports.queue.clone(),
            clock: ports.clock.clone(),
            lease: settings.handoff_lease,
        };
        Self {
            settings,
            ports,
            handoff,
            booking: None,
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Counts what capture does into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Counts a capture's outcome: a new case, or a repeated request.
    pub(crate) fn count_capture(&self, status: AckStatus, company: &crate::ids::CompanyId) {
        let name = match status {
            AckStatus::Captured => metric_names::CASES_CAPTURED,
            AckStatus::Duplicate => metric_names::DUPLICATES,
            _ => return,
        };
        self.metrics.put(&[Measurement::one(name, Some(company))]);
    }

    /// What became of an analyzed call, counted once per call: the conversion KPIs and, when
    /// Retell sent it and the company is priced, what the call cost.
    pub(crate) fn count_call(
        &self,
        company: &crate::ids::CompanyId,
        ticket: bool,
        appointment: bool,
        cost: Option<&CostRecord>,
    ) {
        let mut measurements = vec![
            Measurement::flag(metric_names::TICKET_CONVERSION, ticket, Some(company)),
            Measurement::flag(metric_names::APPOINTMENT_CONVERSION, appointment, Some(company)),
        ];
        if let Some(figures) = cost.and_then(|c| c.figures.as_ref()) {
            measurements.push(Measurement::of(
                metric_names::CALL_COST,
                crate::metrics::Unit::None,
                figures.external_cents as f64 / 100.0,
                Some(company),
            ));
        }
        self.metrics.put(&measurements);
    }

    pub(crate) fn count_unrouted(&self) {
        self.metrics
            .put(&[Measurement::one(metric_names::UNROUTED_EVENTS, None)]);
    }

    /// Enables the booking functions and appointment-mode calls.
    pub fn with_booking(mut self, booking: Booking) -> Self {
        self.booking = Some(booking);
        self
    }

    /// `POST /webhooks/retell`: lifecycle events and `call_inbound`.
    pub async fn webhook(&self, body: &[u8], signature: Option<&str>) -> Result<WebhookReply, IngestError> {
        self.authenticate(body, signature)?;
        let envelope: WebhookEnvelope = parse_json(body)?;
        let event = require(envelope.event.as_deref(), "event")?.to_string();
        if event == "call_inbound" || event == "chat_inbound" {
            let inbound = envelope
                .call_inbound
                .ok_or_else(|| IngestError::bad_request("call_inbound", "missing required field `call_inbound`"))?;
            return Ok(WebhookReply::Inbound(self.inbound(&event, inbound, body).await));
        }
        if event.starts_with("chat_") {
            return Ok(WebhookReply::Ack(WebhookAck {
                status: AckStatus::Ignored,
                event,
                call_id: None,
                ticket_id: None,
            }));
        }
        let call = envelope
            .call
            .ok_or_else(|| IngestError::bad_request("call", "missing required field `call`"))?;
        let call_id = CallId::new(require(call.call_id.as_deref(), "call.call_id")?);
        let mut record = self.event_record(&event, &call, &call_id, envelope.transfer_destination.as_ref(), body);
        let ack = |status, ticket_id| {
            WebhookReply::Ack(WebhookAck {
                status,
                event: event.clone(),
                call_id: Some(call_id.clone()),
                ticket_id,
            })
        };
        let Some(tenant) = self.tenant_for(call.agent_id.as_deref(), call.company_number()).await? else {
            self.record_unrouted(record, body).await?;
            self.count_unrouted();
            return Ok(ack(AckStatus::Unrouted, None));
        };
        record.company_id = Some(tenant.company_id().clone());
        if event == "call_analyzed" {
            let (status, ticket) = self.capture_analyzed(&tenant, &call, &call_id, record).await?;
            self.count_capture(status, tenant.company_id());
            return Ok(ack(status, ticket));
        }
        record.outcome = Some("recorded".into());
        self.ports.cases.record_event(&record).await?;
        Ok(ack(AckStatus::Recorded, None))
    }

    pub(crate) fn authenticate(&self, body: &[u8], signature: Option<&str>) -> Result<(), IngestError> {
        if body.len() > self.settings.max_body_bytes {
            return Err(IngestError::PayloadTooLarge {
                size: body.len(),
                limit: self.settings.max_body_bytes,
            });
        }
        let now_ms = u64::try_from(self.ports.clock.now().timestamp_millis()).unwrap_or(0);
        match signature::verify_with(&self.settings.retell_keys, body, signature, now_ms) {
            Ok(KeyUsed::Current) => Ok(()),
            Ok(KeyUsed::Previous) => {
                // Expected while Retell still holds the old key; once these stop, clear it.
                tracing::info!(key = "previous", "Retell request signed with the previous API key");
                Ok(())
            }
            Err(e) => Err(IngestError::Unauthorized(e.reason())),
        }
    }

    /// Company by Retell agent first, else by the company's phone number.
    pub(crate) async fn tenant_for(
        &self,
        agent_id: Option<&str>,
        number: Option<&str>,
    ) -> Result<Option<Tenant>, IngestError> {
        let config = &self.ports.config;
        let mut company = None;
        if let Some(agent) = agent_id.filter(|a| !a.is_empty()) {
            company = config.company_for(&RouteKey::Agent(agent.to_string())).await?;
        }
        if company.is_none()
            && let Some(number) = number.map(str::trim).filter(|n| n.starts_with('+'))
        {
            company = config.company_for(&RouteKey::Phone(number.to_string())).await?;
        }
        let Some(company) = company else {
            return Ok(None);
        };
        let tenant = config.tenant(&company).await?;
        if tenant.is_none() {
            tracing::error!(company_id = %company, "route points to a company without gateway configuration");
        }
        Ok(tenant)
    }

    pub(crate) async fn record_unrouted(&self, mut record: CallEvent, body: &[u8]) -> Result<(), IngestError> {
        tracing::warn!(call_id = %record.call_id, event = %record.event, agent_id = ?record.agent_id,
            to_number = ?record.to_number, "no company for this agent or number; event kept as unrouted");
        record.company_id = None;
        record.outcome = Some("unrouted".into());
        record.raw_body = Some(truncate_body(body));
        self.ports.cases.record_event(&record).await?;
        Ok(())
    }

    async fn capture_analyzed(
        &self,
        tenant: &Tenant,
        call: &Call,
        call_id: &CallId,
        mut record: CallEvent,
    ) -> Result<(AckStatus, Option<TicketRef>), IngestError> {
        let analysis = call.call_analysis.as_ref();
        let custom = analysis.and_then(|a| a.custom_analysis_data.as_ref());
        let explicit_intent = custom.and_then(|c| {
            ["intent", "call_intent", "gateway_intent"]
                .iter()
                .find_map(|k| c.get(*k).and_then(value_text))
        });
        let summary = analysis.and_then(|a| a.call_summary.clone()).unwrap_or_default();
        let user_text = call.user_text();
        let decision = resolve_mode(tenant, explicit_intent.as_deref(), &format!("{user_text}\n{summary}"));
        let voicemail = analysis.and_then(|a| a.in_voicemail) == Some(true);
        // Written with the call's event whichever way the call goes (no request of its own).
        let cost = self.cost_record(tenant, call, call_id);
        let billing = tenant.config.billing.as_ref();
        record.cost = cost.clone();
        if decision.intent == Intent::Appointment {
            record.outcome = Some(format!(
                "appointment mode ({}, confidence {:.2})",
                decision.basis, decision.confidence
            ));
            return self
                .analyzed_booking_call(tenant, call, call_id, record, voicemail)
                .await;
        }
        let nothing_said = user_text.trim().is_empty() && summary.trim().is_empty() && custom.is_none_or(Map::is_empty);
        if voicemail || nothing_said {
            // No conversation, so no ticket, unless the agent already opened one during the call.
            if let Some(existing) = self.ports.cases.get_case(tenant.company_id(), call_id).await? {
                // The agent opened a ticket during the call: the call is billed as a case. Only
                // the bill needs writing (one request, and only when Retell sent one).
                if let Some(cost) = cost {
                    record.cost = Some(cost.with_case(true, billing));
                    record.outcome = Some("no conversation after the call's case: cost recorded".into());
                    self.ports.cases.record_event(&record).await?;
                }
                self.count_call(tenant.company_id(), true, false, record.cost.as_ref());
                return Ok((AckStatus::Duplicate, existing.ticket_ref));
            }
            record.outcome = Some(
                if voicemail {
                    "voicemail: no case"
                } else {
                    "no conversation: no case"
                }
                .into(),
            );
            self.ports.cases.record_event(&record).await?;
            self.count_call(tenant.company_id(), false, false, record.cost.as_ref());
            return Ok((AckStatus::Recorded, None));
        }
        record.outcome = Some(format!(
            "captured ({}, confidence {:.2})",
            decision.basis, decision.confidence
        ));
        record.cost = cost.map(|c| c.with_case(true, billing));
        let draft = draft::from_analysis(tenant, call, call_id, self.ports.clock.now());
        let captured = self.capture(tenant, draft, &record).await?;
        if captured.status != AckStatus::Duplicate {
            self.count_call(tenant.company_id(), true, false, record.cost.as_ref());
        }
        Ok((captured.status, captured.case.ticket_ref))
    }

    /// Creates the call's case or completes the existing one, then makes sure it is handed off.
    pub(crate) async fn capture(
        &self,
        tenant: &Tenant,
        mut draft: ServiceCase,
        record: &CallEvent,
    ) -> Result<Captured, IngestError> {
        let cases = &self.ports.cases;
        let now = self.ports.clock.now();
        draft.handoff_lease_until = self.lease_until(now);
        let (case, status) = match cases.create_case(&draft, record).await? {
            CreateOutcome::Created => {
                let case = self.handoff.hand_off(tenant, draft).await?;
                return Ok(Captured {
                    case,
                    status: AckStatus::Captured,
                });
            }
            CreateOutcome::Exists(existing) => self.complete(tenant, *existing, &draft, record).await?,
        };
        if case.is_handed_off() {
            return Ok(Captured { case, status });
        }
        let now = self.ports.clock.now();
        if cases
            .claim_handoff(
                &case.company_id,
                &case.call_id,
                now.timestamp_millis(),
                self.lease_until(now),
            )
            .await?
        {
            let case = self.handoff.hand_off(tenant, case).await?;
            return Ok(Captured { case, status });
        }
        // Either someone finished the hand-off meanwhile, or it is still in flight.
        match cases.get_case(&case.company_id, &case.call_id).await? {
            Some(fresh) if fresh.is_handed_off() => Ok(Captured { case: fresh, status }),
            _ => Err(IngestError::InProgress(case.call_id)),
        }
    }

    /// Merges the incoming capture into the stored case (optimistic, retried on a version race).
    async fn complete(
        &self,
        tenant: &Tenant,
        mut existing: ServiceCase,
        incoming: &ServiceCase,
        record: &CallEvent,
    ) -> Result<(ServiceCase, AckStatus), IngestError> {
        let cases = &self.ports.cases;
        for _ in 0..MERGE_ATTEMPTS {
            let Some(mut merged) = draft::merge(tenant, &existing, incoming, self.ports.clock.now()) else {
                return Ok((existing, AckStatus::Duplicate));
            };
            let content = CapturedContent::of(&merged);
            if cases
                .merge_content(&merged.company_id, &merged.call_id, &content, existing.version)
                .await?
            {
                merged.version = existing.version + 1;
                let mut completed = record.clone();
                completed.outcome = Some("completed existing case".into());
                cases.record_event(&completed).await?;
                return Ok((merged, AckStatus::Completed));
            }
            existing = cases
                .get_case(&existing.company_id, &existing.call_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt(format!("case for call {} vanished", existing.call_id)))?;
        }
        Err(IngestError::InProgress(existing.call_id))
    }

    async fn inbound(&self, event: &str, inbound: InboundCall, body: &[u8]) -> Value {
        let number = inbound.to_number.as_deref();
        let tenant = match self.tenant_for(inbound.agent_id.as_deref(), number).await {
            Ok(t) => t,
            Err(err) => {
                // The phone is ringing: answer with generic variables rather than fail the call.
                tracing::warn!(error = %chain(&err), "configuration unavailable for call_inbound");
                None
            }
        };
        let now = self.ports.clock.now();
        let vars = match &tenant {
            Some(t) => {
                let mut vars = dynamic_variables(now, t.tz(), &t.config.locale, Some(&t.config.name));
                if let Some(setup) = t
                    .appointments
                    .as_ref()
                    .filter(|_| t.config.mode != GatewayMode::ServiceDesk)
                {
                    vars.extend(booking_variables(setup, now));
                }
                vars
            }
            None => dynamic_variables(now, chrono_tz::Europe::Berlin, "de-DE", None),
        };
        if let Some(call_id) = inbound.call_id.as_deref().filter(|c| !c.is_empty()) {
            let call = Call {
                agent_id: inbound.agent_id.clone(),
                from_number: inbound.from_number.clone(),
                to_number: inbound.to_number.clone(),
                direction: Some("inbound".into()),
                ..Default::default()
            };
            let mut record = self.event_record(event, &call, &CallId::new(call_id), None, body);
            record.company_id = tenant.as_ref().map(|t| t.company_id().clone());
            record.outcome = Some(if tenant.is_some() { "answered" } else { "unrouted" }.into());
            if let Err(err) = self.ports.cases.record_event(&record).await {
                tracing::warn!(error = %chain(&err), "could not record call_inbound");
            }
        } else if tenant.is_none() {
            tracing::warn!(agent_id = ?inbound.agent_id, to_number = ?number, "call_inbound for an unknown agent and number");
        }
        let key = if event == "chat_inbound" {
            "chat_inbound"
        } else {
            "call_inbound"
        };
        json!({ key: { "dynamic_variables": vars } })
    }

    pub(crate) fn event_record(
        &self,
        event: &str,
        call: &Call,
        call_id: &CallId,
        transfer: Option<&Value>,
        body: &[u8],
    ) -> CallEvent {
        let discriminator = transfer.map(|t| match t.get("number").and_then(Value::as_str) {
            Some(n) => n.to_string(),
            None => t.to_string(),
        });
        CallEvent {
            company_id: None,
            call_id: call_id.clone(),
            event: event.to_string(),
            discriminator,
            received_at: self.ports.clock.now(),
            agent_id: call.agent_id.clone(),
            from_number: call.from_number.clone(),
            to_number: call.to_number.clone(),
            direction: call.direction.clone(),
            call_status: call.call_status.clone(),
            start_timestamp: call.start_timestamp,
            end_timestamp: call.end_timestamp,
            disconnection_reason: call.disconnection_reason.clone(),
            recording: RecordingLinks {
                recording_url: call.recording_url.clone(),
                recording_multi_channel_url: call.recording_multi_channel_url.clone(),
                scrubbed_recording_url: call.scrubbed_recording_url.clone(),
                scrubbed_recording_multi_channel_url: call.scrubbed_recording_multi_channel_url.clone(),
            },
            body_bytes: body.len(),
            body_sha256: hex::encode(Sha256::digest(body)),
            outcome: None,
            raw_body: None,
            cost: None,
        }
    }

    /// The call's cost-ledger entry from Retell's bill (none without one), for a call that did
    /// not (yet) become a case, priced with the company's billing section.
    fn cost_record(&self, tenant: &Tenant, call: &Call, call_id: &CallId) -> Option<CostRecord> {
        let provider = ProviderCost::from_retell(call.call_cost.as_ref(), call.duration_ms)?;
        let now = self.ports.clock.now();
        let started = call
            .start_timestamp
            .or(call.end_timestamp)
            .and_then(DateTime::<Utc>::from_timestamp_millis)
            .unwrap_or(now);
        let day = started.with_timezone(&tenant.tz()).date_naive();
        Some(CostRecord::new(
            tenant.company_id(),
            call_id,
            day,
            provider,
            false,
            tenant.config.billing.as_ref(),
            now,
        ))
    }

    fn lease_until(&self, now: DateTime<Utc>) -> i64 {
        self.handoff.lease_until(now)
    }
}

fn truncate_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= MAX_KEPT_BODY_BYTES {
        return text.into_owned();
    }
    truncate_chars(&text, MAX_KEPT_BODY_BYTES / 4)
}
