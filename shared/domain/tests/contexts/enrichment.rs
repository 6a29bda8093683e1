//! Enrichment against in-memory ports: matching order, tenant isolation, recordings, retries.

use gateway_domain::case::{CaseReader, EnrichmentStatus, MatchKind, PhoneSource, ServiceCase};
use gateway_domain::clock::Clock;
use gateway_domain::deadline::Deadline;
use gateway_domain::enrichment::CustomerStore;
use gateway_domain::ids::{CallId, CaseId, CompanyId};
use gateway_domain::tenancy::ConfigStore;
use std::sync::Arc;

use chrono::{TimeZone, Utc};

use gateway_domain::capture::retell::signature;
use gateway_domain::capture::service::{Ingest, IngestSettings, Ports};
use gateway_domain::enrichment::customer::Customer;
use gateway_domain::enrichment::*;
use gateway_domain::tenancy::tenant::TenantSpec;
use gateway_testkit::memory::{
    FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryCustomerStore, MemoryDeliveryQueue, MemoryExchangeLog,
    MemoryQueue, MemoryRecordings,
};

const KEY: &str = "k";
const ANALYZED: &str = include_str!("../../../../events/retell/call_analyzed.json");
const FINALIZE: &str = include_str!("../../../../events/retell/finalize_ticket.json");
const NORDIT: &str = include_str!("../../../../infra/tenants/nordit.yaml");
const CALL_ID: &str = "call_4b9e2f71c08d3a6e5f1b27c9d04";
const COMPANY: &str = "nordit-hannover";
const RECORDING: &str = "https://dxc03zgurdly9.cloudfront.net/7c2e9d41b06f5a83e1d4c9b2a7f03e6d58b1c4a92e7d0f36b8a5c1e94d27f0b3/recording.wav";

struct World {
    ingest: Ingest,
    enricher: Enricher,
    cases: Arc<MemoryCaseStore>,
    config: Arc<MemoryConfigStore>,
    customers: Arc<MemoryCustomerStore>,
    recordings: Arc<MemoryRecordings>,
    delivery: Arc<MemoryDeliveryQueue>,
    log: Arc<MemoryExchangeLog>,
    clock: Arc<FixedClock>,
}

fn world() -> World {
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    for route in spec.route_keys() {
        config.put_route(route, &CompanyId::new(COMPANY));
    }
    config.put_tenant(spec.tenant().unwrap());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 18, 13, 5, 0).unwrap()));
    let ports = Ports {
        cases: cases.clone(),
        config: config.clone(),
        queue: Arc::new(MemoryQueue::default()),
        clock: clock.clone(),
    };
    let customers = Arc::new(MemoryCustomerStore::default());
    let recordings = Arc::new(MemoryRecordings::default());
    let delivery = Arc::new(MemoryDeliveryQueue::default());
    let log = Arc::new(MemoryExchangeLog::default());
    let enricher = Enricher::new(
        EnrichPorts {
            cases: cases.clone(),
            config: config.clone(),
            customers: customers.clone(),
            recordings: recordings.clone(),
            delivery: delivery.clone(),
            log: log.clone(),
            clock: clock.clone(),
        },
        3,
    );
    World {
        ingest: Ingest::new(IngestSettings::new(KEY), ports),
        enricher,
        cases,
        config,
        customers,
        recordings,
        delivery,
        log,
        clock,
    }
}

impl World {
    async fn capture(&self, body: &str) {
        let sig = signature::sign(KEY, body.as_bytes(), self.clock.now().timestamp_millis() as u64);
        self.ingest.webhook(body.as_bytes(), Some(&sig)).await.unwrap();
    }

    async fn finalize(&self) {
        let sig = signature::sign(KEY, FINALIZE.as_bytes(), self.clock.now().timestamp_millis() as u64);
        self.ingest
            .function(
                FINALIZE.as_bytes(),
                Some(&sig),
                gateway_domain::deadline::Deadline::none(),
            )
            .await
            .unwrap();
    }

    fn request(&self, case: &ServiceCase) -> EnrichRequest {
        EnrichRequest {
            company_id: COMPANY.into(),
            call_id: case.call_id.clone(),
            case_id: case.case_id.clone(),
        }
    }

    async fn case(&self) -> ServiceCase {
        self.cases
            .get_case(&CompanyId::new(COMPANY), &CallId::new(CALL_ID))
            .await
            .unwrap()
            .unwrap()
    }

    async fn enrich(&self, receive: u32) -> Result<EnrichOutcome, EnrichError> {
        let case = self.case().await;
        self.enricher
            .process(&self.request(&case), receive, Deadline::none())
            .await
    }

    async fn add_customer(&self, company: &str, id: &str, name: &str, phone: Option<&str>, email: Option<&str>) {
        let c = Customer {
            customer_id: id.into(),
            name: name.into(),
            phone: phone.map(Into::into),
            email: email.map(Into::into),
            company: None,
            external_id: None,
        };
        self.customers
            .save_customer(&CompanyId::new(company), &c)
            .await
            .unwrap();
    }

    fn recording(&self, url: &str, bytes: Result<Vec<u8>, RecordingError>) {
        self.recordings.sources.lock().unwrap().insert(url.to_string(), bytes);
    }
}

/// The enrich message went out but the request that sent it failed before recording the hand-off
/// (its SendMessage timed out after SQS took the message): enrichment waits for the ticket number
/// (a retry or the sweep records it) instead of delivering a case without one, except on the last
/// receive, where delivering beats never delivering.
#[tokio::test]
async fn a_case_whose_hand_off_is_not_recorded_waits_for_its_ticket_number() {
    let w = world();
    w.capture(ANALYZED).await;
    let case = w.case().await;
    // Undo the recorded hand-off, as if complete_handoff never ran.
    let mut unrecorded = case.clone();
    unrecorded.call_id = CallId::new("call_unrecorded");
    unrecorded.ticket_ref = None;
    unrecorded.enqueued_at = None;
    let event = gateway_domain::call_event::CallEvent::new(
        Some(&unrecorded.company_id),
        &unrecorded.call_id,
        "call_ended",
        w.clock.now(),
    );
    gateway_domain::capture::CaptureStore::create_case(w.cases.as_ref(), &unrecorded, &event)
        .await
        .unwrap();
    let request = EnrichRequest {
        company_id: COMPANY.into(),
        call_id: unrecorded.call_id.clone(),
        case_id: unrecorded.case_id.clone(),
    };
    let first = w.enricher.process(&request, 1, Deadline::none()).await;
    assert!(matches!(first, Err(EnrichError::NotReady(_))), "{first:?}");
    assert!(w.delivery.sent().is_empty(), "not delivered without a ticket number");
    let last = w.enricher.process(&request, 3, Deadline::none()).await;
    assert!(last.is_ok(), "{last:?}");
    assert_eq!(w.delivery.sent().len(), 1, "the last receive goes on rather than never");
}

#[tokio::test]
async fn enriches_matches_by_caller_id_stores_the_recording_and_hands_off_once() {
    let w = world();
    w.capture(ANALYZED).await;
    w.add_customer(COMPANY, "k-1", "Brandt Elektrotechnik", Some("+4951187654321"), None)
        .await;
    w.recording(RECORDING, Ok(vec![7u8; 1024]));
    assert_eq!(
        w.enrich(1).await.unwrap(),
        EnrichOutcome::Finished(EnrichmentStatus::Enriched)
    );
    let case = w.case().await;
    assert_eq!(case.enrichment_status, EnrichmentStatus::Enriched);
    let m = case.enrichment.customer.as_ref().unwrap();
    assert_eq!((m.customer_id.as_str(), m.kind), ("k-1", MatchKind::CallerId));
    let key = format!("{COMPANY}/{}/recording.wav", case.case_id);
    assert_eq!(case.enrichment.audio_object_key.as_deref(), Some(key.as_str()));
    assert_eq!(case.enrichment.audio_bytes, Some(1024));
    assert_eq!(w.recordings.stored.lock().unwrap()[&key].len(), 1024);
    assert_eq!(case.enrichment.transcript_segment_count, Some(9));
    assert!(case.enrichment.transcript_char_count.unwrap() > 500);
    assert!(
        !serde_json::to_string(&case).unwrap().contains("cloudfront"),
        "Retell's URL never lands on the case"
    );
    assert_eq!(w.delivery.sent().len(), 1);
    let ops = w.log.operations(&case.case_id);
    assert_eq!(
        ops,
        [
            ("customer-match".to_string(), 200),
            ("audio-storage".into(), 200),
            ("enrichment".into(), 200),
            ("delivery-enqueue".into(), 200)
        ]
    );
    // A duplicate message changes nothing and sends nothing.
    assert_eq!(w.enrich(1).await.unwrap(), EnrichOutcome::Duplicate);
    assert_eq!(w.delivery.sent().len(), 1);
}

#[tokio::test]
async fn matching_order_agent_phone_caller_id_email_name() {
    let w = world();
    w.finalize().await; // agent collected 0511 87654321 (= caller id here) and an e-mail
    let mut case = w.case().await;
    assert_eq!(case.caller.phone_source, Some(PhoneSource::Agent));
    w.add_customer(COMPANY, "by-name", "Jonas Weber", None, None).await;
    w.add_customer(
        COMPANY,
        "by-mail",
        "Someone",
        None,
        Some("j.weber@brandt-elektro.example"),
    )
    .await;
    w.add_customer(COMPANY, "by-phone", "Brandt", Some("+4951187654321"), None)
        .await;
    let tenant = w.config.tenant(&CompanyId::new(COMPANY)).await.unwrap().unwrap();
    let found = |case: ServiceCase| {
        let (e, t) = (&w.enricher, tenant.clone());
        async move { e.find_customer(&t, &case).await.unwrap() }
    };
    assert_eq!(found(case.clone()).await.unwrap().kind, MatchKind::AgentPhone);
    case.caller.phone_source = Some(PhoneSource::CallRecord);
    assert_eq!(found(case.clone()).await.unwrap().kind, MatchKind::CallerId);
    case.caller.caller_id = None;
    assert_eq!(found(case.clone()).await.unwrap().customer_id, "by-mail");
    case.caller.email = Some("J.WEBER@Brandt-Elektro.example".into());
    assert_eq!(
        found(case.clone()).await.unwrap().customer_id,
        "by-mail",
        "e-mail is case-insensitive"
    );
    case.caller.email = None;
    let m = found(case.clone()).await.unwrap();
    assert_eq!((m.customer_id.as_str(), m.kind), ("by-name", MatchKind::Name));
    case.caller.name = Some("Ganz Anders".into());
    case.caller.company = None;
    assert!(found(case.clone()).await.is_none());
}

#[tokio::test]
async fn a_customer_of_another_company_never_matches() {
    let w = world();
    w.capture(ANALYZED).await;
    w.add_customer(
        "kanzlei-berg",
        "foreign",
        "Brandt Elektrotechnik",
        Some("+4951187654321"),
        None,
    )
    .await;
    w.recording(RECORDING, Ok(vec![1, 2, 3]));
    w.enrich(1).await.unwrap();
    assert_eq!(w.case().await.enrichment.customer, None);
}

#[tokio::test]
async fn unknown_callers_are_created_when_the_company_wants_it() {
    let w = world();
    let mut tenant = w.config.tenant(&CompanyId::new(COMPANY)).await.unwrap().unwrap();
    tenant.config.create_unknown_callers = true;
    w.config.put_tenant(tenant);
    w.capture(ANALYZED).await;
    w.recording(RECORDING, Ok(vec![]));
    w.enrich(1).await.unwrap();
    let m = w.case().await.enrichment.customer.unwrap();
    assert_eq!(
        (m.customer_id.as_str(), m.kind),
        ("tel-4951187654321", MatchKind::Created)
    );
    assert_eq!(w.customers.list(&CompanyId::new(COMPANY))[0].name, "Unbekannt #4321");
}

#[tokio::test]
async fn download_errors_are_retried_then_failed_and_still_delivered() {
    let w = world();
    w.capture(ANALYZED).await;
    w.recording(
        RECORDING,
        Err(RecordingError::Failed(
            "HTTP 503 from https://dxc03zgurdly9.cloudfront.net/x/recording.wav".into(),
        )),
    );
    assert!(matches!(w.enrich(1).await, Err(EnrichError::Recording(_))));
    assert!(matches!(w.enrich(2).await, Err(EnrichError::Recording(_))));
    assert_eq!(w.case().await.enrichment_status, EnrichmentStatus::Enriching);
    assert!(w.delivery.sent().is_empty(), "no delivery while retries remain");
    assert_eq!(
        w.enrich(3).await.unwrap(),
        EnrichOutcome::Finished(EnrichmentStatus::Failed)
    );
    let case = w.case().await;
    assert_eq!(case.enrichment_status, EnrichmentStatus::Failed);
    let error = case.enrichment.error.unwrap();
    assert!(
        error.contains("HTTP 503") && !error.contains("recording.wav"),
        "{error}"
    );
    assert_eq!(w.delivery.sent().len(), 1, "delivered anyway");
}

#[tokio::test]
async fn a_timeout_on_the_last_attempt_is_marked_timeout() {
    let w = world();
    w.capture(ANALYZED).await;
    w.recording(RECORDING, Err(RecordingError::Timeout("no data for 30 s".into())));
    assert_eq!(
        w.enrich(3).await.unwrap(),
        EnrichOutcome::Finished(EnrichmentStatus::Timeout)
    );
    assert_eq!(
        w.log.operations(&w.case().await.case_id)[1],
        ("audio-storage".into(), 408)
    );
    assert_eq!(w.delivery.sent().len(), 1);
}

#[tokio::test]
async fn without_a_recording_enrichment_waits_for_the_call_end_then_skips() {
    let w = world();
    w.finalize().await; // during the call: no recording yet
    assert!(matches!(w.enrich(1).await, Err(EnrichError::NotReady(_))));
    assert_eq!(
        w.enrich(3).await.unwrap(),
        EnrichOutcome::Finished(EnrichmentStatus::Enriched)
    );
    let case = w.case().await;
    assert!(case.enrichment.audio_object_key.is_none());
    assert!(
        case.enrichment
            .recording_note
            .as_deref()
            .unwrap()
            .contains("had not ended")
    );
    assert_eq!(w.delivery.sent().len(), 1);
}

#[tokio::test]
async fn a_stored_recording_is_not_copied_again_and_scrubbed_is_honoured() {
    let w = world();
    let mut tenant = w.config.tenant(&CompanyId::new(COMPANY)).await.unwrap().unwrap();
    tenant.config.use_scrubbed_recording = true;
    w.config.put_tenant(tenant);
    w.capture(ANALYZED).await; // the sample has no scrubbed recording
    w.recording(RECORDING, Ok(vec![1; 10]));
    w.enrich(1).await.unwrap();
    let case = w.case().await;
    assert!(
        case.enrichment.audio_object_key.is_none(),
        "the unscrubbed original is not copied"
    );
    assert!(case.enrichment.recording_note.unwrap().contains("scrubbed"));
    assert_eq!(
        recording_key(
            &CompanyId::new("c"),
            &CaseId::new("k"),
            "https://x/a/recording_multichannel.mp3?sig=1"
        ),
        "c/k/recording.mp3"
    );
    assert_eq!(
        recording_key(&CompanyId::new("c"), &CaseId::new("k"), "https://x/a/download"),
        "c/k/recording.wav"
    );
}
