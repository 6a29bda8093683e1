//! The alert function's batch behaviour in process: a Slack webhook that never answers fails its
//! record inside the invocation's deadline (to be retried), while the case is marked failed and
//! the e-mail alert goes out; the next record of the batch is still handled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alert::{App, TIME_BUDGET, handle};
use aws_lambda_events::event::sqs::SqsEvent;
use chrono::Utc;
use gateway_adapters::HttpWebhooks;
use gateway_adapters::outbound::SLACK_BUDGET;
use gateway_domain::alerting::{AlertPorts, Alerter};
use gateway_domain::call_event::CallEvent;
use gateway_domain::capture::CaptureStore;
use gateway_domain::case::{CaseReader, OutputStatus};
use gateway_domain::delivery::DeliverRequest;
use gateway_domain::delivery::template::sample_case;
use gateway_domain::ids::{CallId, CaseId};
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::TenantSpec;
use gateway_lambda::local_context;
use gateway_lambda::testing::sqs_record;
use gateway_testkit::http_target;
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryExchangeLog, MemoryMailer};
use lambda_runtime::LambdaEvent;

#[tokio::test]
async fn a_hanging_slack_fails_its_record_inside_the_deadline_and_the_case_is_failed() {
    let slack = http_target::never_answering().await;
    let mut spec: TenantSpec = serde_norway::from_str(include_str!("../../../infra/tenants/nordit.yaml")).unwrap();
    spec.company.slack_webhook_url = Some(slack.url("/services/T0/B0/secret"));
    let company = spec.company.company_id.clone();
    let config = Arc::new(MemoryConfigStore::default());
    config.put_tenant(spec.tenant().unwrap());
    let cases = Arc::new(MemoryCaseStore::default());
    let mut event = SqsEvent::default();
    for n in 0..2 {
        let mut case = sample_case();
        case.company_id = company.clone();
        case.call_id = CallId::new(format!("call_dead_{n}"));
        case.case_id = CaseId::new(format!("case_dead_{n}"));
        let call_event = CallEvent::new(Some(&company), &case.call_id, "call_analyzed", Utc::now());
        cases.create_case(&case, &call_event).await.unwrap();
        let request = DeliverRequest {
            company_id: company.clone(),
            call_id: case.call_id.clone(),
            case_id: case.case_id.clone(),
        };
        event.records.push(sqs_record(
            &format!("d{n}"),
            &serde_json::to_string(&request).unwrap(),
            1,
        ));
    }
    let mailer = Arc::new(MemoryMailer::default());
    let policy = UrlPolicy::local(vec![slack.host_port()]);
    let alerter = Alerter::new(
        AlertPorts {
            cases: cases.clone(),
            config,
            mailer: mailer.clone(),
            slack: Arc::new(HttpWebhooks::new(policy, SLACK_BUDGET).unwrap()),
            log: Arc::new(MemoryExchangeLog::default()),
            clock: Arc::new(FixedClock::new(Utc::now())),
        },
        None,
    );
    let app = App::from_alerter(alerter);
    let function_time = Duration::from_secs(9);
    let started = Instant::now();
    let response = handle(&app, LambdaEvent::new(event, local_context(function_time)))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert!(
        elapsed < function_time - TIME_BUDGET.margin,
        "answered after {elapsed:?}"
    );
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["d0", "d1"], "both come back for their Slack alert");
    for n in 0..2 {
        let case = cases
            .get_case(&company, &CallId::new(format!("call_dead_{n}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(case.output_status, OutputStatus::Failed);
        assert!(case.alerts.email_at.is_some() && case.alerts.slack_at.is_none());
    }
    assert_eq!(mailer.sent().len(), 2, "one e-mail alert per case");
}
