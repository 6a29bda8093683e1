//! Enrichment: recognise the caller among the company's customers, keep the call's recording,
//! count the transcript, then hand the case to delivery. Best effort: when the last attempt
//! fails, the case is marked `failed` (or `timeout`) with the reason and is delivered anyway.

use std::sync::Arc;

use chrono::Utc;

use crate::call_event::CallEvent;
use crate::case::{CustomerMatch, Enrichment, EnrichmentStatus, ServiceCase};
use crate::clock::Clock;
use crate::deadline::Deadline;
use crate::delivery::{DeliverRequest, DeliveryQueue};
use crate::enrichment::customer::{MatchInput, match_customer, unknown_caller};
use crate::enrichment::ports::{
    CustomerStore, EnrichClaim, EnrichRequest, EnrichmentStore, RecordingError, RecordingStore,
};
use crate::error::StoreError;
use crate::exchange::{ExchangeEntry, ExchangeLog, log_entry, redact_error, redact_url, status};
use crate::ids::{CaseId, CompanyId};
use crate::metrics::{Measurement, MetricSink, NoMetrics, dimensions, names as metric_names};
use crate::tenancy::{ConfigStore, Tenant};

const HANDLER: &str = "enrich";

#[derive(Clone)]
pub struct EnrichPorts {
    pub cases: Arc<dyn EnrichmentStore>,
    pub config: Arc<dyn ConfigStore>,
    pub customers: Arc<dyn CustomerStore>,
    pub recordings: Arc<dyn RecordingStore>,
    pub delivery: Arc<dyn DeliveryQueue>,
    pub log: Arc<dyn ExchangeLog>,
    pub clock: Arc<dyn Clock>,
}

/// What one message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrichOutcome {
    Finished(EnrichmentStatus),
    /// The case was already enriched: at most the delivery hand-off was repeated.
    Duplicate,
    /// No such case (nothing to do).
    Missing,
}

/// Failures worth a retry (SQS redelivers the message).
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("not ready: {0}")]
    NotReady(String),
    #[error(transparent)]
    Recording(#[from] RecordingError),
    #[error("company '{0}' has no configuration")]
    NoTenant(CompanyId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Enricher {
    ports: EnrichPorts,
    /// Receives after which SQS moves the message to the dead-letter queue.
    max_receives: u32,
    metrics: Arc<dyn MetricSink>,
}

/// Object key of a case's recording: private, under the company and the case.
pub fn recording_key(company_id: &CompanyId, case_id: &CaseId, url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let ext = if ["wav", "mp3", "ogg", "m4a", "flac"].contains(&ext.as_str()) {
        ext
    } else {
        "wav".into()
    };
    format!("{company_id}/{case_id}/recording.{ext}")
}

impl Enricher {
    pub fn new(ports: EnrichPorts, max_receives: u32) -> Self {
        Self {
            ports,
            max_receives,
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Counts finished enrichments by result into `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Enriches the case of `request` on its `receive_count`-th receive, finishing by `deadline`.
    pub async fn process(
        &self,
        request: &EnrichRequest,
        receive_count: u32,
        deadline: Deadline,
    ) -> Result<EnrichOutcome, EnrichError> {
        let p = &self.ports;
        let last = receive_count >= self.max_receives;
        let case = match p.cases.begin_enrichment(&request.company_id, &request.call_id).await? {
            EnrichClaim::Started(case) => *case,
            EnrichClaim::Finished(case) => {
                self.hand_to_delivery(&case, receive_count, last).await?;
                return Ok(EnrichOutcome::Duplicate);
            }
            EnrichClaim::Missing => {
                tracing::warn!(company_id = %request.company_id, call_id = %request.call_id, "no case to enrich");
                return Ok(EnrichOutcome::Missing);
            }
        };
        let tenant = p
            .config
            .tenant(&case.company_id)
            .await?
            .ok_or_else(|| EnrichError::NoTenant(case.company_id.clone()))?;
        let mut info = Enrichment {
            customer: self.recognise(&tenant, &case, receive_count).await,
            transcript_segment_count: Some(case.transcript.len() as u32),
            transcript_char_count: Some(case.transcript.iter().map(|u| u.content.chars().count() as u64).sum()),
            ..Default::default()
        };
        let mut outcome = EnrichmentStatus::Enriched;
        if let Err(err) = self
            .keep_recording(&tenant, &case, &mut info, receive_count, last, deadline)
            .await
        {
            match err {
                EnrichError::Recording(e) if last => {
                    outcome = if matches!(e, RecordingError::Timeout(_)) {
                        EnrichmentStatus::Timeout
                    } else {
                        EnrichmentStatus::Failed
                    };
                    info.error = Some(redact_error(&e.to_string()));
                }
                other => return Err(other),
            }
        }
        info.finished_at = Some(p.clock.now());
        if p.cases
            .finish_enrichment(&case.company_id, &case.call_id, outcome, &info)
            .await?
        {
            self.metrics
                .put(&[Measurement::one(metric_names::ENRICHMENTS, Some(&case.company_id))
                    .with(dimensions::RESULT, outcome.as_str())]);
        } else {
            tracing::info!(call_id = %case.call_id, "enrichment finished concurrently by another message");
        }
        let code = if outcome == EnrichmentStatus::Enriched {
            status::SUCCESS
        } else {
            status::FAILURE
        };
        let mut entry = ExchangeEntry::internal(HANDLER, "enrichment", code, receive_count, p.clock.now());
        entry.detail = Some(format!("enrichment {}", outcome.as_str()));
        entry.error_message = info.error.clone();
        self.log(&case, entry).await;
        self.hand_to_delivery(&case, receive_count, last).await?;
        Ok(EnrichOutcome::Finished(outcome))
    }

    /// Links the caller to a customer; failures are logged and never block enrichment.
    async fn recognise(&self, tenant: &Tenant, case: &ServiceCase, attempt: u32) -> Option<CustomerMatch> {
        let started = Utc::now();
        let result = self.find_customer(tenant, case).await;
        let (code, detail, error) = match &result {
            Ok(Some(m)) => (
                status::SUCCESS,
                format!("matched by {} ({:.2})", m.kind.as_str(), m.confidence),
                None,
            ),
            Ok(None) => (status::SKIPPED, "no matching customer".to_string(), None),
            Err(e) => (
                status::FAILURE,
                "customer matching failed".to_string(),
                Some(redact_error(&e.to_string())),
            ),
        };
        let mut entry = ExchangeEntry::internal(HANDLER, "customer-match", code, attempt, self.ports.clock.now());
        entry.duration_ms = (Utc::now() - started).num_milliseconds().max(0) as u64;
        entry.detail = Some(detail);
        entry.error_message = error;
        self.log(case, entry).await;
        result.ok().flatten()
    }

    /// The company's customer this case's caller is, if any (creating an "unknown caller" when the
    /// company asks for it).
    pub async fn find_customer(
        &self,
        tenant: &Tenant,
        case: &ServiceCase,
    ) -> Result<Option<CustomerMatch>, StoreError> {
        let customers = &self.ports.customers;
        let company = &case.company_id;
        let caller = &case.caller;
        let agent_phone = caller
            .phone
            .as_deref()
            .filter(|_| caller.phone_source == Some(crate::case::PhoneSource::Agent));
        let caller_id = caller.caller_id.as_deref();
        let by_agent_phone = match agent_phone {
            Some(p) => customers.customers_by_phone(company, p).await?,
            None => Vec::new(),
        };
        let by_caller_id = match caller_id {
            Some(p) if by_agent_phone.is_empty() => customers.customers_by_phone(company, p).await?,
            _ => Vec::new(),
        };
        let by_email = match caller.email.as_deref() {
            Some(e) if by_agent_phone.is_empty() && by_caller_id.is_empty() => {
                customers.customers_by_email(company, &e.to_lowercase()).await?
            }
            _ => Vec::new(),
        };
        let needs_names = by_agent_phone.is_empty() && by_caller_id.is_empty() && by_email.is_empty();
        let all = if needs_names && (caller.name.is_some() || caller.company.is_some()) {
            customers.all_customers(company).await?
        } else {
            Vec::new()
        };
        let found = match_customer(&MatchInput {
            agent_phone,
            caller_id,
            by_agent_phone: &by_agent_phone,
            by_caller_id: &by_caller_id,
            by_email: &by_email,
            caller_name: caller.name.as_deref(),
            caller_company: caller.company.as_deref(),
            all: &all,
            name_threshold: tenant.config.name_match_threshold,
        });
        if found.is_some() || !tenant.config.create_unknown_callers {
            return Ok(found);
        }
        let Some(number) = agent_phone.or(caller_id) else {
            return Ok(None);
        };
        let placeholder = unknown_caller(number);
        customers.save_customer(company, &placeholder).await?;
        Ok(Some(CustomerMatch {
            customer_id: placeholder.customer_id,
            kind: crate::case::MatchKind::Created,
            confidence: 0.0,
        }))
    }

    /// Copies the call's recording into private storage. `Err` means "retry later".
    async fn keep_recording(
        &self,
        tenant: &Tenant,
        case: &ServiceCase,
        info: &mut Enrichment,
        attempt: u32,
        last: bool,
        deadline: Deadline,
    ) -> Result<(), EnrichError> {
        let p = &self.ports;
        let events = p.cases.call_events(Some(&case.company_id), &case.call_id).await?;
        let ended = events
            .iter()
            .any(|e| e.event == "call_ended" || e.event == "call_analyzed");
        let url = recording_url(&events, tenant.config.use_scrubbed_recording);
        let Some(url) = url else {
            if !ended && !last {
                return Err(EnrichError::NotReady(
                    "the call has not ended, so its recording is not available yet".into(),
                ));
            }
            let note = match (ended, tenant.config.use_scrubbed_recording) {
                (false, _) => "no recording: the call had not ended by the last attempt",
                (true, true) => "no scrubbed recording available (the original is not copied)",
                (true, false) => "the call has no recording",
            };
            info.recording_note = Some(note.into());
            let mut entry = ExchangeEntry::internal(HANDLER, "audio-storage", status::SKIPPED, attempt, p.clock.now());
            entry.detail = Some(note.into());
            self.log(case, entry).await;
            return Ok(());
        };
        let key = recording_key(&case.company_id, &case.case_id, &url);
        let started = Utc::now();
        let result = p.recordings.copy(&url, &key, deadline).await;
        let mut entry = ExchangeEntry::internal(HANDLER, "audio-storage", status::SUCCESS, attempt, p.clock.now());
        entry.endpoint = redact_url(&url);
        entry.method = "GET".into();
        entry.duration_ms = (Utc::now() - started).num_milliseconds().max(0) as u64;
        match &result {
            Ok(copy) => {
                info.audio_object_key = Some(key);
                info.audio_bytes = Some(copy.bytes);
                if copy.already_present {
                    entry.status_code = status::SKIPPED;
                    entry.detail = Some("recording already stored".into());
                } else {
                    entry.detail = Some(format!("stored {} bytes", copy.bytes));
                }
            }
            Err(e) => {
                entry.status_code = if matches!(e, RecordingError::Timeout(_)) {
                    status::TIMEOUT
                } else {
                    status::FAILURE
                };
                entry.error_class = Some(
                    if matches!(e, RecordingError::Timeout(_)) {
                        "Timeout"
                    } else {
                        "RecordingError"
                    }
                    .into(),
                );
                entry.error_message = Some(redact_error(&e.to_string()));
            }
        }
        self.log(case, entry).await;
        result.map(|_| ()).map_err(EnrichError::from)
    }

    /// One delivery message per case: repeated only if the mark that it was sent is missing. A
    /// case whose capture hand-off is not recorded yet (the enrich message went out but the request
    /// that sent it failed before marking it) waits for the retry or sweep that records its ticket
    /// number, unless this is the last receive: then it goes on without one rather than never.
    async fn hand_to_delivery(&self, case: &ServiceCase, attempt: u32, last: bool) -> Result<(), EnrichError> {
        if case.delivery_enqueued_at.is_some() {
            return Ok(());
        }
        // `case` was read when enrichment was claimed, after the enrich message arrived.
        if !case.is_handed_off() {
            if !last {
                return Err(EnrichError::NotReady(
                    "the case's hand-off (ticket number) is not recorded yet".into(),
                ));
            }
            tracing::error!(call_id = %case.call_id, "last receive: delivering a case whose hand-off was never recorded");
        }
        let p = &self.ports;
        let request = DeliverRequest {
            company_id: case.company_id.clone(),
            call_id: case.call_id.clone(),
            case_id: case.case_id.clone(),
        };
        p.delivery.enqueue(&request).await?;
        p.cases
            .mark_delivery_enqueued(&case.company_id, &case.call_id, p.clock.now())
            .await?;
        self.log(
            case,
            ExchangeEntry::internal(HANDLER, "delivery-enqueue", status::SUCCESS, attempt, p.clock.now()),
        )
        .await;
        Ok(())
    }

    /// Logging never breaks enrichment.
    async fn log(&self, case: &ServiceCase, entry: ExchangeEntry) {
        log_entry(self.ports.log.as_ref(), &case.company_id, &case.case_id, entry).await;
    }
}

/// The newest recording link Retell sent for the call (the scrubbed one when asked for).
fn recording_url(events: &[CallEvent], scrubbed: bool) -> Option<String> {
    let mut with_links: Vec<&CallEvent> = events.iter().filter(|e| !e.recording.is_empty()).collect();
    with_links.sort_by_key(|e| e.received_at);
    with_links.iter().rev().find_map(|e| {
        if scrubbed {
            e.recording.scrubbed_recording_url.clone()
        } else {
            e.recording.recording_url.clone()
        }
    })
}
