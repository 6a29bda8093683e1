//! The enrich function's batch behaviour in process: a recording host that never answers on the
//! last receive still ends with the case finished (`timeout`) and handed to delivery, inside the
//! invocation's deadline; earlier receives come back after the retry schedule's step.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use enrich::{App, TIME_BUDGET, handle};
use gateway_adapters::S3Recordings;
use gateway_adapters::http::Budget;
use gateway_domain::call_event::CallEvent;
use gateway_domain::capture::CaptureStore;
use gateway_domain::case::{CaseReader, EnrichmentStatus};
use gateway_domain::clock::Clock;
use gateway_domain::delivery::template::sample_case;
use gateway_domain::enrichment::{EnrichPorts, EnrichRequest, Enricher};
use gateway_domain::ids::{CallId, CaseId, CompanyId};
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::TenantSpec;
use gateway_lambda::local_context;
use gateway_lambda::testing::{RecordingQueueControl, sqs_record};
use gateway_testkit::http_target::{self, Target};
use gateway_testkit::memory::{
    FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryCustomerStore, MemoryDeliveryQueue, MemoryExchangeLog,
};
use lambda_runtime::LambdaEvent;

struct World {
    app: App,
    cases: Arc<MemoryCaseStore>,
    delivery: Arc<MemoryDeliveryQueue>,
    control: Arc<RecordingQueueControl>,
    company: CompanyId,
    request: EnrichRequest,
    _targets: (Target, Target),
}

/// A case whose call ended with a recording on a host that never answers; S3 is a loopback
/// target that has no stored copy (HeadObject 404).
async fn world() -> World {
    let recording_host = http_target::never_answering().await;
    let s3_endpoint = http_target::answering(404, "").await;
    let spec: TenantSpec = serde_norway::from_str(include_str!("../../../infra/tenants/nordit.yaml")).unwrap();
    let company = spec.company.company_id.clone();
    let config = Arc::new(MemoryConfigStore::default());
    config.put_tenant(spec.tenant().unwrap());
    let cases = Arc::new(MemoryCaseStore::default());
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let mut case = sample_case();
    case.company_id = company.clone();
    case.call_id = CallId::new("call_hanging_recording");
    case.case_id = CaseId::new("case_hanging_recording");
    case.enrichment_status = EnrichmentStatus::Pending;
    let mut ended = CallEvent::new(Some(&company), &case.call_id, "call_ended", clock.now());
    ended.recording.recording_url = Some(recording_host.url("/recording.wav"));
    cases.create_case(&case, &ended).await.unwrap();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(format!("http://{}", s3_endpoint.host_port()))
        .region(aws_config::Region::new("eu-central-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test"))
        .load()
        .await;
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
    let policy = UrlPolicy::local(vec![recording_host.host_port()]);
    let budget = Budget {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(30),
        total: Duration::from_secs(240),
    };
    let delivery = Arc::new(MemoryDeliveryQueue::default());
    let enricher = Enricher::new(
        EnrichPorts {
            cases: cases.clone(),
            config,
            customers: Arc::new(MemoryCustomerStore::default()),
            recordings: Arc::new(S3Recordings::with_budget(s3, "recordings", policy, budget).unwrap()),
            delivery: delivery.clone(),
            log: Arc::new(MemoryExchangeLog::default()),
            clock,
        },
        3,
    );
    let control = Arc::new(RecordingQueueControl::default());
    let app = App::from_parts(enricher, control.clone(), vec![30, 90]);
    let request = EnrichRequest {
        company_id: company.clone(),
        call_id: case.call_id.clone(),
        case_id: case.case_id.clone(),
    };
    World {
        app,
        cases,
        delivery,
        control,
        company,
        request,
        _targets: (recording_host, s3_endpoint),
    }
}

fn batch(w: &World, attempt: u32) -> SqsEvent {
    let mut event = SqsEvent::default();
    event
        .records
        .push(sqs_record("m1", &serde_json::to_string(&w.request).unwrap(), attempt));
    event
}

/// 20 s of invocation time: 5 s for the copy after the margin and the wrap-up.
const FUNCTION_TIME: Duration = Duration::from_secs(22);

#[tokio::test]
async fn a_hanging_recording_on_the_last_receive_still_finishes_and_hands_over_the_case() {
    let w = world().await;
    let started = Instant::now();
    let response = handle(&w.app, LambdaEvent::new(batch(&w, 3), local_context(FUNCTION_TIME)))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < FUNCTION_TIME - TIME_BUDGET.margin,
        "answered after {elapsed:?}, past the invocation's deadline"
    );
    assert!(response.batch_item_failures.is_empty(), "the last receive is done");
    let case = w.cases.get_case(&w.company, &w.request.call_id).await.unwrap().unwrap();
    assert_eq!(case.enrichment_status, EnrichmentStatus::Timeout);
    assert_eq!(w.delivery.sent().len(), 1, "handed to delivery all the same");
}

#[tokio::test]
async fn an_earlier_receive_comes_back_after_the_retry_step() {
    let w = world().await;
    let response = handle(&w.app, LambdaEvent::new(batch(&w, 1), local_context(FUNCTION_TIME)))
        .await
        .unwrap();
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(w.control.retries(), [("receipt-m1".to_string(), 30)]);
    assert!(w.delivery.sent().is_empty());
    let case = w.cases.get_case(&w.company, &w.request.call_id).await.unwrap().unwrap();
    assert_eq!(case.enrichment_status, EnrichmentStatus::Enriching, "it is tried again");
}
