//! The deliver function's batch behaviour in process, against real HTTP on loopback and
//! in-memory stores: a target that never answers fails its own record, with a classified error,
//! inside the invocation's deadline, while the other records of the batch are delivered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use deliver::{App, TIME_BUDGET, handle};
use gateway_adapters::HttpWebhooks;
use gateway_adapters::outbound::WEBHOOK_BUDGET;
use gateway_domain::call_event::CallEvent;
use gateway_domain::capture::CaptureStore;
use gateway_domain::case::{CaseReader, OutputStatus};
use gateway_domain::delivery::template::sample_case;
use gateway_domain::delivery::{DeliverPorts, DeliverRequest, Deliverer};
use gateway_domain::ids::{CallId, CaseId, TicketRef};
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::output::{OutputConfig, OutputType, WebhookOutput};
use gateway_domain::tenancy::{Category, TenantSpec};
use gateway_lambda::local_context;
use gateway_lambda::testing::{RecordingQueueControl, sqs_record};
use gateway_testkit::http_target;
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryExchangeLog, MemoryMailer};
use lambda_runtime::LambdaEvent;

fn webhook_output(id: &str, url: String) -> OutputConfig {
    OutputConfig {
        id: id.into(),
        name: id.into(),
        kind: OutputType::Webhook,
        email: None,
        webhook: Some(WebhookOutput {
            url,
            headers: Default::default(),
            preset: Some("generic-rest".into()),
            template: None,
            external_id_path: None,
            secret: None,
            include_transcript: false,
            include_case_link: false,
            enabled: true,
            idempotency_header: None,
            params: Default::default(),
            permanent_statuses: Vec::new(),
        }),
    }
}

#[tokio::test]
async fn a_hanging_target_fails_only_its_record_within_the_deadline() {
    let hanging = http_target::never_answering().await;
    let healthy = http_target::answering(201, r#"{"id": "T-1"}"#).await;
    let mut spec: TenantSpec = serde_norway::from_str(include_str!("../../../infra/tenants/nordit.yaml")).unwrap();
    spec.outputs = vec![
        webhook_output("hangs", hanging.url("/tickets")),
        webhook_output("answers", healthy.url("/tickets")),
    ];
    spec.categories = vec![
        Category {
            slug: "slow".into(),
            name: "Slow".into(),
            output: Some("hangs".into()),
            ..Default::default()
        },
        Category {
            slug: "fast".into(),
            name: "Fast".into(),
            output: Some("answers".into()),
            ..Default::default()
        },
    ];
    let company = spec.company.company_id.clone();
    let cases = Arc::new(MemoryCaseStore::default());
    let mut requests = Vec::new();
    for (call, category) in [("call_slow", "slow"), ("call_fast", "fast")] {
        let mut case = sample_case();
        case.company_id = company.clone();
        case.call_id = CallId::new(call);
        case.case_id = CaseId::new(format!("case_{call}"));
        case.category = Some(category.into());
        case.ticket_ref = Some(TicketRef::format(2026, 1));
        let event = CallEvent::new(Some(&company), &case.call_id, "call_analyzed", Utc::now());
        cases.create_case(&case, &event).await.unwrap();
        requests.push(DeliverRequest {
            company_id: company.clone(),
            call_id: case.call_id.clone(),
            case_id: case.case_id.clone(),
        });
    }
    let config = Arc::new(MemoryConfigStore::default());
    config.put_tenant(spec.tenant().unwrap());
    let policy = UrlPolicy::local(vec![hanging.host_port(), healthy.host_port()]);
    let deliverer = Deliverer::new(
        DeliverPorts {
            cases: cases.clone(),
            config,
            webhooks: Arc::new(HttpWebhooks::new(policy, WEBHOOK_BUDGET).unwrap()),
            mailer: Arc::new(MemoryMailer::default()),
            log: Arc::new(MemoryExchangeLog::default()),
            clock: Arc::new(FixedClock::new(Utc::now())),
        },
        None,
    );
    let control = Arc::new(RecordingQueueControl::default());
    let app = App::from_parts(deliverer, control.clone(), vec![60, 120, 300]);
    let mut event = SqsEvent::default();
    for (i, request) in requests.iter().enumerate() {
        event.records.push(sqs_record(
            &format!("m{i}"),
            &serde_json::to_string(request).unwrap(),
            1,
        ));
    }
    // An invocation with 8 s left: the deadline is 8 s minus the margin, far below the webhook's 30 s.
    let function_time = Duration::from_secs(8);
    let started = Instant::now();
    let response = handle(&app, LambdaEvent::new(event, local_context(function_time)))
        .await
        .unwrap();
    let elapsed = started.elapsed();

    assert!(
        elapsed < function_time - TIME_BUDGET.margin + Duration::from_secs(1),
        "the batch answered after {elapsed:?}, past the invocation's deadline"
    );
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m0"], "only the hanging target's record fails");
    let slow = cases
        .get_case(&company, &CallId::new("call_slow"))
        .await
        .unwrap()
        .unwrap();
    let error = slow.output_error.unwrap_or_default();
    assert!(
        error.contains("timed out"),
        "the failure is classified as a timeout: {error}"
    );
    assert_eq!(slow.output_status, OutputStatus::Pending, "it will be retried");
    assert_eq!(
        control.retries(),
        [("receipt-m0".to_string(), 60)],
        "it comes back after the first backoff step"
    );
    let fast = cases
        .get_case(&company, &CallId::new("call_fast"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fast.output_status, OutputStatus::Sent);
    assert_eq!(fast.external_reference.as_deref(), Some("T-1"));
}

#[tokio::test]
async fn a_body_that_is_no_delivery_request_is_dead_lettered() {
    let deliverer = Deliverer::new(
        DeliverPorts {
            cases: Arc::new(MemoryCaseStore::default()),
            config: Arc::new(MemoryConfigStore::default()),
            webhooks: Arc::new(HttpWebhooks::new(UrlPolicy::strict(), WEBHOOK_BUDGET).unwrap()),
            mailer: Arc::new(MemoryMailer::default()),
            log: Arc::new(MemoryExchangeLog::default()),
            clock: Arc::new(FixedClock::new(Utc::now())),
        },
        None,
    );
    let control = Arc::new(RecordingQueueControl::default());
    let app = App::from_parts(deliverer, control.clone(), vec![60]);
    let mut event = SqsEvent::default();
    event.records.push(sqs_record("junk", "{\"not\": \"a request\"}", 1));
    let response = handle(&app, LambdaEvent::new(event, local_context(Duration::from_secs(60))))
        .await
        .unwrap();
    assert!(
        response.batch_item_failures.is_empty(),
        "dead-lettered, so deleted from the queue"
    );
    assert_eq!(control.dead_letters().len(), 1);
    assert!(control.dead_letters()[0].1.contains("not a deliver message"));
}
