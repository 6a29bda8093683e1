//! In-memory twins of the ports, for fast domain tests and benchmarks only. The contract suite
//! (`contract`) runs against these and against DynamoDB, so they cannot drift apart.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gateway_domain::alerting::{AlertChannel, AlertStore};
use gateway_domain::call_event::{CallEvent, CallEventReader};
use gateway_domain::capture::{CaptureStore, CapturedContent, CreateOutcome};
use gateway_domain::case::{
    CaseReader, Channel, ChannelState, Enrichment, EnrichmentStatus, OutputStatus, ServiceCase,
};
use gateway_domain::clock::Clock;
use gateway_domain::costs::{CostLedger, CostRecord, Month};
use gateway_domain::deadline::Deadline;
use gateway_domain::delivery::email::OutgoingEmail;
use gateway_domain::delivery::webhook::WebhookRequest;
use gateway_domain::delivery::{
    DeliverRequest, DeliveryQueue, DeliveryStore, HttpResponse, MailError, Mailer, RedeliveryStore, TransportError,
    WebhookClient,
};
use gateway_domain::enrichment::customer::Customer;
use gateway_domain::enrichment::{
    CustomerStore, EnrichClaim, EnrichQueue, EnrichRequest, EnrichmentStore, RecordingCopy, RecordingError,
    RecordingStore,
};
use gateway_domain::error::StoreError;
use gateway_domain::exchange::{ExchangeEntry, ExchangeLog, LogSubject};
use gateway_domain::ids::{AppointmentId, CallId, CaseId, CompanyId, TicketRef};
use gateway_domain::tenancy::{ConfigStore, RouteKey, Tenant};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

type CaseKey = (CompanyId, CallId);
type EventKey = (Option<CompanyId>, CallId, String);

fn key(company_id: &CompanyId, call_id: &CallId) -> CaseKey {
    (company_id.clone(), call_id.clone())
}

#[derive(Default)]
pub struct MemoryCaseStore {
    cases: Mutex<HashMap<CaseKey, ServiceCase>>,
    events: Mutex<BTreeMap<EventKey, CallEvent>>,
    counters: Mutex<HashMap<(CompanyId, i32), u64>>,
    /// The cost ledger, as DynamoDB keeps it: one entry per company, month and call.
    costs: Mutex<BTreeMap<(CompanyId, Month, CallId), CostRecord>>,
}

fn event_key(e: &CallEvent) -> EventKey {
    let kind = match &e.discriminator {
        Some(d) => format!("{}#{d}", e.event),
        None => e.event.clone(),
    };
    (e.company_id.clone(), e.call_id.clone(), kind)
}

impl MemoryCaseStore {
    /// The event, and its cost-ledger entry as an entry of its own (as DynamoDB stores them).
    fn store_event(&self, event: &CallEvent) {
        let mut stored = event.clone();
        if let Some(cost) = stored.cost.take() {
            lock(&self.costs).insert((cost.company_id.clone(), cost.month, cost.call_id.clone()), cost);
        }
        lock(&self.events).insert(event_key(&stored), stored);
    }

    /// Every case of a company (tests read what was stored).
    pub fn cases_of(&self, company_id: &CompanyId) -> Vec<ServiceCase> {
        lock(&self.cases)
            .values()
            .filter(|c| &c.company_id == company_id)
            .cloned()
            .collect()
    }

    fn update<T>(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        change: impl FnOnce(&mut ServiceCase) -> T,
    ) -> Option<T> {
        lock(&self.cases).get_mut(&key(company_id, call_id)).map(change)
    }
}

#[async_trait]
impl CaseReader for MemoryCaseStore {
    async fn get_case(&self, company_id: &CompanyId, call_id: &CallId) -> Result<Option<ServiceCase>, StoreError> {
        Ok(lock(&self.cases).get(&key(company_id, call_id)).cloned())
    }
}

#[async_trait]
impl CallEventReader for MemoryCaseStore {
    async fn call_events(
        &self,
        company_id: Option<&CompanyId>,
        call_id: &CallId,
    ) -> Result<Vec<CallEvent>, StoreError> {
        Ok(lock(&self.events)
            .values()
            .filter(|e| e.company_id.as_ref() == company_id && &e.call_id == call_id)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl CaptureStore for MemoryCaseStore {
    async fn create_case(&self, case: &ServiceCase, event: &CallEvent) -> Result<CreateOutcome, StoreError> {
        let mut cases = lock(&self.cases);
        let k = key(&case.company_id, &case.call_id);
        if let Some(existing) = cases.get(&k) {
            return Ok(CreateOutcome::Exists(Box::new(existing.clone())));
        }
        cases.insert(k, case.clone());
        self.store_event(event);
        Ok(CreateOutcome::Created)
    }

    async fn record_event(&self, event: &CallEvent) -> Result<(), StoreError> {
        self.store_event(event);
        Ok(())
    }

    async fn merge_content(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        content: &CapturedContent,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        let merged = self.update(company_id, call_id, |stored| {
            if stored.version != expected_version {
                return false;
            }
            content.clone().apply_to(stored);
            stored.version = expected_version + 1;
            true
        });
        Ok(merged.unwrap_or(false))
    }

    async fn claim_handoff(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        let claimed = self.update(company_id, call_id, |c| {
            let free = c.enqueued_at.is_none() && c.handoff_lease_until < now_ms;
            if free {
                c.handoff_lease_until = lease_until_ms;
            }
            free
        });
        Ok(claimed.unwrap_or(false))
    }

    async fn next_ticket_number(&self, company_id: &CompanyId, year: i32) -> Result<u64, StoreError> {
        let mut counters = lock(&self.counters);
        let n = counters.entry((company_id.clone(), year)).or_insert(0);
        *n += 1;
        Ok(*n)
    }

    async fn complete_handoff(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        ticket_ref: &TicketRef,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update(company_id, call_id, |c| {
            c.ticket_ref = Some(ticket_ref.clone());
            c.enqueued_at = Some(at);
            c.handoff_lease_until = 0;
        })
        .ok_or_else(|| StoreError::Corrupt(format!("no case for call {call_id}")))
    }

    async fn release_handoff(&self, company_id: &CompanyId, call_id: &CallId) -> Result<(), StoreError> {
        self.update(company_id, call_id, |c| c.handoff_lease_until = 0);
        Ok(())
    }

    async fn pending_handoffs(
        &self,
        created_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(CompanyId, CallId)>, StoreError> {
        let mut pending: Vec<&ServiceCase> = Vec::new();
        let cases = lock(&self.cases);
        pending.extend(
            cases
                .values()
                .filter(|c| c.enqueued_at.is_none() && c.created_at < created_before),
        );
        pending.sort_by_key(|c| c.created_at);
        Ok(pending
            .into_iter()
            .take(limit)
            .map(|c| (c.company_id.clone(), c.call_id.clone()))
            .collect())
    }
}

#[async_trait]
impl EnrichmentStore for MemoryCaseStore {
    async fn begin_enrichment(&self, company_id: &CompanyId, call_id: &CallId) -> Result<EnrichClaim, StoreError> {
        let claim = self.update(company_id, call_id, |c| {
            if matches!(
                c.enrichment_status,
                EnrichmentStatus::Pending | EnrichmentStatus::Enriching
            ) {
                c.enrichment_status = EnrichmentStatus::Enriching;
                EnrichClaim::Started(Box::new(c.clone()))
            } else {
                EnrichClaim::Finished(Box::new(c.clone()))
            }
        });
        Ok(claim.unwrap_or(EnrichClaim::Missing))
    }

    async fn finish_enrichment(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        status: EnrichmentStatus,
        enrichment: &Enrichment,
    ) -> Result<bool, StoreError> {
        let finished = self.update(company_id, call_id, |c| {
            let enriching = c.enrichment_status == EnrichmentStatus::Enriching;
            if enriching {
                c.enrichment_status = status;
                c.enrichment = enrichment.clone();
            }
            enriching
        });
        Ok(finished.unwrap_or(false))
    }

    async fn mark_delivery_enqueued(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update(company_id, call_id, |c| c.delivery_enqueued_at = Some(at));
        Ok(())
    }
}

#[async_trait]
impl DeliveryStore for MemoryCaseStore {
    async fn save_channel_state(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        channel: Channel,
        state: &ChannelState,
    ) -> Result<bool, StoreError> {
        let saved = self.update(company_id, call_id, |c| {
            if c.delivery.sent(channel) {
                return false;
            }
            match channel {
                Channel::Email => c.delivery.email = Some(state.clone()),
                Channel::Webhook => c.delivery.webhook = Some(state.clone()),
            }
            true
        });
        Ok(saved.unwrap_or(false))
    }

    async fn mark_output_sent(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        external_reference: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update(company_id, call_id, |c| {
            c.output_status = OutputStatus::Sent;
            c.output_sent_at = Some(at);
            c.output_error = None;
            if let Some(r) = external_reference {
                c.external_reference = Some(r.to_string());
            }
        });
        Ok(())
    }

    async fn record_output_error(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        error: &str,
    ) -> Result<(), StoreError> {
        self.update(company_id, call_id, |c| c.output_error = Some(error.to_string()));
        Ok(())
    }
}

#[async_trait]
impl RedeliveryStore for MemoryCaseStore {
    async fn reset_for_redelivery(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        channels: &[Channel],
    ) -> Result<(), StoreError> {
        self.update(company_id, call_id, |c| {
            for ch in channels {
                match ch {
                    Channel::Email => c.delivery.email = None,
                    Channel::Webhook => c.delivery.webhook = None,
                }
            }
            c.output_status = OutputStatus::Pending;
            c.alerts = Default::default();
        });
        Ok(())
    }
}

#[async_trait]
impl AlertStore for MemoryCaseStore {
    async fn mark_output_failed(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        error: &str,
        _at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let marked = self.update(company_id, call_id, |c| {
            let unsent = c.output_status != OutputStatus::Sent;
            if unsent {
                c.output_status = OutputStatus::Failed;
                c.output_error = Some(error.to_string());
            }
            unsent
        });
        Ok(marked.unwrap_or(false))
    }

    async fn mark_alerted(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        channel: AlertChannel,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let marked = self.update(company_id, call_id, |c| {
            let slot = match channel {
                AlertChannel::Slack => &mut c.alerts.slack_at,
                AlertChannel::Email => &mut c.alerts.email_at,
            };
            let first = slot.is_none();
            if first {
                *slot = Some(at);
            }
            first
        });
        Ok(marked.unwrap_or(false))
    }
}

#[derive(Default)]
pub struct MemoryConfigStore {
    routes: Mutex<HashMap<RouteKey, CompanyId>>,
    tenants: Mutex<HashMap<CompanyId, Tenant>>,
    pub reads: AtomicUsize,
}

impl MemoryConfigStore {
    pub fn put_tenant(&self, tenant: Tenant) {
        lock(&self.tenants).insert(tenant.config.company_id.clone(), tenant);
    }

    pub fn put_route(&self, route: RouteKey, company_id: &CompanyId) {
        lock(&self.routes).insert(route, company_id.clone());
    }
}

#[async_trait]
impl ConfigStore for MemoryConfigStore {
    async fn company_for(&self, route: &RouteKey) -> Result<Option<CompanyId>, StoreError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        Ok(lock(&self.routes).get(route).cloned())
    }

    async fn tenant(&self, company_id: &CompanyId) -> Result<Option<Tenant>, StoreError> {
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
            return Err(StoreError::unavailable("send message", "injected queue failure"));
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
    customers: Mutex<BTreeMap<(CompanyId, String), Customer>>,
}

impl MemoryCustomerStore {
    pub fn list(&self, company_id: &CompanyId) -> Vec<Customer> {
        lock(&self.customers)
            .iter()
            .filter(|((c, _), _)| c == company_id)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

#[async_trait]
impl CustomerStore for MemoryCustomerStore {
    async fn customers_by_phone(&self, company_id: &CompanyId, e164: &str) -> Result<Vec<Customer>, StoreError> {
        Ok(self
            .list(company_id)
            .into_iter()
            .filter(|c| c.phone.as_deref() == Some(e164))
            .collect())
    }

    async fn customers_by_email(&self, company_id: &CompanyId, email: &str) -> Result<Vec<Customer>, StoreError> {
        Ok(self
            .list(company_id)
            .into_iter()
            .filter(|c| c.email.as_deref() == Some(email))
            .collect())
    }

    async fn all_customers(&self, company_id: &CompanyId) -> Result<Vec<Customer>, StoreError> {
        Ok(self.list(company_id))
    }

    async fn save_customer(&self, company_id: &CompanyId, customer: &Customer) -> Result<(), StoreError> {
        lock(&self.customers).insert((company_id.clone(), customer.customer_id.clone()), customer.clone());
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
    async fn copy(&self, url: &str, key: &str, _deadline: Deadline) -> Result<RecordingCopy, RecordingError> {
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
    pub entries: Mutex<Vec<(CompanyId, CaseId, ExchangeEntry)>>,
    /// Entries of appointments' logs (their notices).
    pub appointment_entries: Mutex<Vec<(CompanyId, AppointmentId, ExchangeEntry)>>,
}

impl MemoryExchangeLog {
    /// (operation, status) of an appointment's entries, in order.
    pub fn appointment_operations(&self, appointment_id: &AppointmentId) -> Vec<(String, u16)> {
        lock(&self.appointment_entries)
            .iter()
            .filter(|(_, a, _)| a == appointment_id)
            .map(|(_, _, e)| (e.operation.clone(), e.status_code))
            .collect()
    }

    pub fn operations(&self, case_id: &CaseId) -> Vec<(String, u16)> {
        lock(&self.entries)
            .iter()
            .filter(|(_, c, _)| c == case_id)
            .map(|(_, _, e)| (e.operation.clone(), e.status_code))
            .collect()
    }
}

#[async_trait]
impl ExchangeLog for MemoryExchangeLog {
    async fn append_to(
        &self,
        company_id: &CompanyId,
        subject: &LogSubject,
        entry: &ExchangeEntry,
    ) -> Result<(), StoreError> {
        match subject {
            LogSubject::Case(case_id) => lock(&self.entries).push((company_id.clone(), case_id.clone(), entry.clone())),
            LogSubject::Appointment(id) => {
                lock(&self.appointment_entries).push((company_id.clone(), id.clone(), entry.clone()))
            }
        }
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
    async fn post(&self, request: &WebhookRequest, _deadline: Deadline) -> Result<HttpResponse, TransportError> {
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

#[async_trait]
impl CostLedger for MemoryCaseStore {
    async fn costs_of_month(&self, company_id: &CompanyId, month: Month) -> Result<Vec<CostRecord>, StoreError> {
        let mut found: Vec<CostRecord> = lock(&self.costs)
            .iter()
            .filter(|((c, m, _), _)| c == company_id && *m == month)
            .map(|(_, r)| r.clone())
            .collect();
        found.sort_by(|a, b| (a.day, &a.call_id).cmp(&(b.day, &b.call_id)));
        Ok(found)
    }

    async fn all_costs_of_month(&self, month: Month) -> Result<Vec<CostRecord>, StoreError> {
        let mut found: Vec<CostRecord> = lock(&self.costs)
            .iter()
            .filter(|((_, m, _), _)| *m == month)
            .map(|(_, r)| r.clone())
            .collect();
        found.sort_by(|a, b| (&a.company_id, a.day, &a.call_id).cmp(&(&b.company_id, b.day, &b.call_id)));
        Ok(found)
    }
}
