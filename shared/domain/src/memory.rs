//! In-memory implementations of the ports, for fast domain tests and benchmarks only.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::case::{Channel, ChannelState, Enrichment, EnrichmentStatus, OutputStatus, ServiceCase};
use crate::customer::Customer;
use crate::email::OutgoingEmail;
use crate::error::StoreError;
use crate::exchange::ExchangeEntry;
use crate::ports::{
    CallEvent, CaseStore, Clock, ConfigStore, CreateOutcome, CustomerStore, DeliverRequest, DeliveryQueue, EnrichClaim,
    EnrichQueue, EnrichRequest, ExchangeLog, RecordingCopy, RecordingError, RecordingStore,
};
use crate::ports::{HttpResponse, MailError, Mailer, TransportError, WebhookClient};
use crate::tenant::{RouteKey, Tenant};
use crate::webhook::WebhookRequest;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

type CaseKey = (String, String);
type EventKey = (Option<String>, String, String);

#[derive(Default)]
pub struct MemoryCaseStore {
    cases: Mutex<HashMap<CaseKey, ServiceCase>>,
    events: Mutex<BTreeMap<EventKey, CallEvent>>,
    counters: Mutex<HashMap<(String, i32), u64>>,
}

fn event_key(e: &CallEvent) -> EventKey {
    let kind = match &e.discriminator {
        Some(d) => format!("{}#{d}", e.event),
        None => e.event.clone(),
    };
    (e.company_id.clone(), e.call_id.clone(), kind)
}

#[async_trait]
impl CaseStore for MemoryCaseStore {
    async fn create_case(&self, case: &ServiceCase, event: &CallEvent) -> Result<CreateOutcome, StoreError> {
        let mut cases = lock(&self.cases);
        let key = (case.company_id.clone(), case.call_id.clone());
        if let Some(existing) = cases.get(&key) {
            return Ok(CreateOutcome::Exists(Box::new(existing.clone())));
        }
        cases.insert(key, case.clone());
        lock(&self.events).insert(event_key(event), event.clone());
        Ok(CreateOutcome::Created)
    }

    async fn record_event(&self, event: &CallEvent) -> Result<(), StoreError> {
        lock(&self.events).insert(event_key(event), event.clone());
        Ok(())
    }

    async fn update_content(&self, case: &ServiceCase, expected_version: u64) -> Result<bool, StoreError> {
        let mut cases = lock(&self.cases);
        let Some(stored) = cases.get_mut(&(case.company_id.clone(), case.call_id.clone())) else {
            return Ok(false);
        };
        if stored.version != expected_version {
            return Ok(false);
        }
        let (ticket_ref, enqueued_at, lease) =
            (stored.ticket_ref.take(), stored.enqueued_at, stored.handoff_lease_until);
        *stored = case.clone();
        stored.ticket_ref = ticket_ref;
        stored.enqueued_at = enqueued_at;
        stored.handoff_lease_until = lease;
        stored.version = expected_version + 1;
        Ok(true)
    }

    async fn claim_handoff(
        &self,
        company_id: &str,
        call_id: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut cases = lock(&self.cases);
        match cases.get_mut(&(company_id.to_string(), call_id.to_string())) {
            Some(c) if c.enqueued_at.is_none() && c.handoff_lease_until < now_ms => {
                c.handoff_lease_until = lease_until_ms;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn next_ticket_number(&self, company_id: &str, year: i32) -> Result<u64, StoreError> {
        let mut counters = lock(&self.counters);
        let n = counters.entry((company_id.to_string(), year)).or_insert(0);
        *n += 1;
        Ok(*n)
    }

    async fn complete_handoff(
        &self,
        company_id: &str,
        call_id: &str,
        ticket_ref: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut cases = lock(&self.cases);
        let c = cases
            .get_mut(&(company_id.to_string(), call_id.to_string()))
            .ok_or_else(|| StoreError::Corrupt(format!("no case for call {call_id}")))?;
        c.ticket_ref = Some(ticket_ref.to_string());
        c.enqueued_at = Some(at);
        c.handoff_lease_until = 0;
        Ok(())
    }

    async fn release_handoff(&self, company_id: &str, call_id: &str) -> Result<(), StoreError> {
        if let Some(c) = lock(&self.cases).get_mut(&(company_id.to_string(), call_id.to_string())) {
            c.handoff_lease_until = 0;
        }
        Ok(())
    }

    async fn begin_enrichment(&self, company_id: &str, call_id: &str) -> Result<EnrichClaim, StoreError> {
        let mut cases = lock(&self.cases);
        Ok(match cases.get_mut(&(company_id.to_string(), call_id.to_string())) {
            None => EnrichClaim::Missing,
            Some(c)
                if matches!(
                    c.enrichment_status,
                    EnrichmentStatus::Pending | EnrichmentStatus::Enriching
                ) =>
            {
                c.enrichment_status = EnrichmentStatus::Enriching;
                EnrichClaim::Started(Box::new(c.clone()))
            }
            Some(c) => EnrichClaim::Finished(Box::new(c.clone())),
        })
    }

    async fn finish_enrichment(
        &self,
        company_id: &str,
        call_id: &str,
        status: EnrichmentStatus,
        enrichment: &Enrichment,
    ) -> Result<bool, StoreError> {
        let mut cases = lock(&self.cases);
        match cases.get_mut(&(company_id.to_string(), call_id.to_string())) {
            Some(c) if c.enrichment_status == EnrichmentStatus::Enriching => {
                c.enrichment_status = status;
                c.enrichment = enrichment.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn save_channel_state(
        &self,
        company_id: &str,
        call_id: &str,
        channel: Channel,
        state: &ChannelState,
    ) -> Result<bool, StoreError> {
        let mut cases = lock(&self.cases);
        let Some(c) = cases.get_mut(&(company_id.to_string(), call_id.to_string())) else {
            return Ok(false);
        };
        if c.delivery.sent(channel) {
            return Ok(false);
        }
        match channel {
            Channel::Email => c.delivery.email = Some(state.clone()),
            Channel::Webhook => c.delivery.webhook = Some(state.clone()),
        }
        Ok(true)
    }

    async fn mark_output_sent(
        &self,
        company_id: &str,
        call_id: &str,
        external_reference: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(c) = lock(&self.cases).get_mut(&(company_id.to_string(), call_id.to_string())) {
            c.output_status = OutputStatus::Sent;
            c.output_sent_at = Some(at);
            c.output_error = None;
            if let Some(r) = external_reference {
                c.external_reference = Some(r.to_string());
            }
        }
        Ok(())
    }

    async fn record_output_error(&self, company_id: &str, call_id: &str, error: &str) -> Result<(), StoreError> {
        if let Some(c) = lock(&self.cases).get_mut(&(company_id.to_string(), call_id.to_string())) {
            c.output_error = Some(error.to_string());
        }
        Ok(())
    }

    async fn mark_output_failed(
        &self,
        company_id: &str,
        call_id: &str,
        error: &str,
        _at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut cases = lock(&self.cases);
        match cases.get_mut(&(company_id.to_string(), call_id.to_string())) {
            Some(c) if c.output_status != OutputStatus::Sent => {
                c.output_status = OutputStatus::Failed;
                c.output_error = Some(error.to_string());
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn mark_alerted(
        &self,
        company_id: &str,
        call_id: &str,
        channel: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut cases = lock(&self.cases);
        let Some(c) = cases.get_mut(&(company_id.to_string(), call_id.to_string())) else {
            return Ok(false);
        };
        let slot = if channel == "slack" {
            &mut c.alerts.slack_at
        } else {
            &mut c.alerts.email_at
        };
        if slot.is_some() {
            return Ok(false);
        }
        *slot = Some(at);
        Ok(true)
    }

    async fn reset_for_redelivery(
        &self,
        company_id: &str,
        call_id: &str,
        channels: &[Channel],
    ) -> Result<(), StoreError> {
        if let Some(c) = lock(&self.cases).get_mut(&(company_id.to_string(), call_id.to_string())) {
            for ch in channels {
                match ch {
                    Channel::Email => c.delivery.email = None,
                    Channel::Webhook => c.delivery.webhook = None,
                }
            }
            c.output_status = OutputStatus::Pending;
            c.alerts = Default::default();
        }
        Ok(())
    }

    async fn mark_delivery_enqueued(
        &self,
        company_id: &str,
        call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if let Some(c) = lock(&self.cases).get_mut(&(company_id.to_string(), call_id.to_string())) {
            c.delivery_enqueued_at = Some(at);
        }
        Ok(())
    }

    async fn get_case(&self, company_id: &str, call_id: &str) -> Result<Option<ServiceCase>, StoreError> {
        Ok(lock(&self.cases)
            .get(&(company_id.to_string(), call_id.to_string()))
            .cloned())
    }

    async fn list_cases(&self, company_id: &str) -> Result<Vec<ServiceCase>, StoreError> {
        Ok(lock(&self.cases)
            .values()
            .filter(|c| c.company_id == company_id)
            .cloned()
            .collect())
    }

    async fn list_events(&self, company_id: Option<&str>, call_id: &str) -> Result<Vec<CallEvent>, StoreError> {
        Ok(lock(&self.events)
            .values()
            .filter(|e| e.company_id.as_deref() == company_id && e.call_id == call_id)
            .cloned()
            .collect())
    }
}

#[derive(Default)]
pub struct MemoryConfigStore {
    routes: Mutex<HashMap<RouteKey, String>>,
    tenants: Mutex<HashMap<String, Tenant>>,
    pub reads: AtomicUsize,
}

impl MemoryConfigStore {
    pub fn put_tenant(&self, tenant: Tenant) {
        lock(&self.tenants).insert(tenant.config.company_id.clone(), tenant);
    }

    pub fn put_route(&self, route: RouteKey, company_id: &str) {
        lock(&self.routes).insert(route, company_id.to_string());
    }
}

#[async_trait]
impl ConfigStore for MemoryConfigStore {
    async fn company_for(&self, route: &RouteKey) -> Result<Option<String>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(lock(&self.routes).get(route).cloned())
    }

    async fn tenant(&self, company_id: &str) -> Result<Option<Tenant>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(lock(&self.tenants).get(company_id).cloned())
    }
}

/// A queue that records what was sent; `fail_next(n)` makes the next n sends fail.
#[derive(Default)]
pub struct MemoryQueue {
    pub sent: Mutex<Vec<(EnrichRequest, u32)>>,
    failures: AtomicUsize,
}

impl MemoryQueue {
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    pub fn sent(&self) -> Vec<(EnrichRequest, u32)> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl EnrichQueue for MemoryQueue {
    async fn enqueue(&self, request: &EnrichRequest, delay_seconds: u32) -> Result<(), StoreError> {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(StoreError::Unavailable("injected queue failure".into()));
        }
        lock(&self.sent).push((request.clone(), delay_seconds));
        Ok(())
    }
}

/// A clock that stands still until moved.
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *lock(&self.0) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = lock(&self.0);
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *lock(&self.0)
    }
}

#[derive(Default)]
pub struct MemoryCustomerStore {
    customers: Mutex<BTreeMap<(String, String), Customer>>,
}

impl MemoryCustomerStore {
    pub fn list(&self, company_id: &str) -> Vec<Customer> {
        lock(&self.customers)
            .iter()
            .filter(|((c, _), _)| c == company_id)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[async_trait]
impl CustomerStore for MemoryCustomerStore {
    async fn customers_by_phone(&self, company_id: &str, e164: &str) -> Result<Vec<Customer>, StoreError> {
        Ok(self
            .list(company_id)
            .into_iter()
            .filter(|c| c.phone.as_deref() == Some(e164))
            .collect())
    }

    async fn customers_by_email(&self, company_id: &str, email: &str) -> Result<Vec<Customer>, StoreError> {
        Ok(self
            .list(company_id)
            .into_iter()
            .filter(|c| c.email.as_deref() == Some(email))
            .collect())
    }

    async fn all_customers(&self, company_id: &str) -> Result<Vec<Customer>, StoreError> {
        Ok(self.list(company_id))
    }

    async fn save_customer(&self, company_id: &str, customer: &Customer) -> Result<(), StoreError> {
        lock(&self.customers).insert((company_id.to_string(), customer.customer_id.clone()), customer.clone());
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryDeliveryQueue {
    pub sent: Mutex<Vec<DeliverRequest>>,
}

impl MemoryDeliveryQueue {
    pub fn sent(&self) -> Vec<DeliverRequest> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl DeliveryQueue for MemoryDeliveryQueue {
    async fn enqueue(&self, request: &DeliverRequest) -> Result<(), StoreError> {
        lock(&self.sent).push(request.clone());
        Ok(())
    }
}

/// Recordings by URL; a URL without an entry fails like an unreachable host.
#[derive(Default)]
pub struct MemoryRecordings {
    pub sources: Mutex<HashMap<String, Result<Vec<u8>, RecordingError>>>,
    pub stored: Mutex<HashMap<String, Vec<u8>>>,
}

#[async_trait]
impl RecordingStore for MemoryRecordings {
    async fn copy(&self, url: &str, key: &str) -> Result<RecordingCopy, RecordingError> {
        if let Some(existing) = lock(&self.stored).get(key) {
            return Ok(RecordingCopy {
                bytes: existing.len() as u64,
                already_present: true,
            });
        }
        let source = lock(&self.sources).get(url).cloned();
        let bytes = source.unwrap_or_else(|| Err(RecordingError::Failed(format!("no such recording {url}"))))?;
        let len = bytes.len() as u64;
        lock(&self.stored).insert(key.to_string(), bytes);
        Ok(RecordingCopy {
            bytes: len,
            already_present: false,
        })
    }
}

#[derive(Default)]
pub struct MemoryExchangeLog {
    pub entries: Mutex<Vec<(String, String, ExchangeEntry)>>,
}

impl MemoryExchangeLog {
    pub fn operations(&self, case_id: &str) -> Vec<(String, u16)> {
        lock(&self.entries)
            .iter()
            .filter(|(_, c, _)| c == case_id)
            .map(|(_, _, e)| (e.operation.clone(), e.status_code))
            .collect()
    }
}

#[async_trait]
impl ExchangeLog for MemoryExchangeLog {
    async fn append(&self, company_id: &str, case_id: &str, entry: &ExchangeEntry) -> Result<(), StoreError> {
        lock(&self.entries).push((company_id.to_string(), case_id.to_string(), entry.clone()));
        Ok(())
    }
}

/// A webhook target that answers from a script (one response per call, the last one repeating).
#[derive(Default)]
pub struct ScriptedWebhooks {
    pub script: Mutex<Vec<Result<HttpResponse, TransportError>>>,
    pub received: Mutex<Vec<WebhookRequest>>,
}

impl ScriptedWebhooks {
    pub fn answer(&self, responses: Vec<Result<HttpResponse, TransportError>>) {
        *lock(&self.script) = responses;
    }

    pub fn received(&self) -> Vec<WebhookRequest> {
        lock(&self.received).clone()
    }
}

#[async_trait]
impl WebhookClient for ScriptedWebhooks {
    async fn post(&self, request: &WebhookRequest) -> Result<HttpResponse, TransportError> {
        lock(&self.received).push(request.clone());
        let mut script = lock(&self.script);
        if script.len() > 1 {
            return script.remove(0);
        }
        script.first().cloned().unwrap_or(Ok(HttpResponse {
            status: 200,
            body: "{}".into(),
        }))
    }
}

/// A mailer that records what it sent; addresses in `reject` are refused.
#[derive(Default)]
pub struct MemoryMailer {
    pub sent: Mutex<Vec<OutgoingEmail>>,
    pub reject: Mutex<Vec<String>>,
    pub unavailable: std::sync::atomic::AtomicBool,
    /// Addresses for which the mail service is down (the others go through).
    pub unavailable_for: Mutex<Vec<String>>,
}

impl MemoryMailer {
    pub fn sent(&self) -> Vec<OutgoingEmail> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<String, MailError> {
        if self.unavailable.load(Ordering::SeqCst) || lock(&self.unavailable_for).contains(&email.to) {
            return Err(MailError::Unavailable("injected outage".into()));
        }
        if lock(&self.reject).contains(&email.to) {
            return Err(MailError::Rejected(format!("{} does not exist", email.to)));
        }
        let mut sent = lock(&self.sent);
        sent.push(email.clone());
        Ok(format!("mem-{}", sent.len()))
    }
}
