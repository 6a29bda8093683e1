//! Alerting against in-memory ports: the failed mark and one alert per channel.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use gateway_domain::alerting::*;
use gateway_domain::capture::retell::signature;
use gateway_domain::capture::service::{Ingest, IngestSettings, Ports};
use gateway_domain::case::{CaseReader, OutputStatus};
use gateway_domain::clock::Clock;
use gateway_domain::deadline::Deadline;
use gateway_domain::delivery::{DeliverRequest, DeliveryStore};
use gateway_domain::delivery::{HttpResponse, TransportError};
use gateway_domain::ids::{CallId, CompanyId};
use gateway_domain::links::LinkSettings;
use gateway_domain::tenancy::tenant::TenantSpec;
use gateway_testkit::memory::{
    FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryExchangeLog, MemoryMailer, MemoryQueue, ScriptedWebhooks,
};

async fn world(
    edit: impl FnOnce(&mut TenantSpec),
) -> (
    Alerter,
    Arc<MemoryCaseStore>,
    Arc<MemoryMailer>,
    Arc<ScriptedWebhooks>,
    DeliverRequest,
) {
    let mut spec: TenantSpec = serde_norway::from_str(include_str!("../../../../infra/tenants/nordit.yaml")).unwrap();
    spec.company.slack_webhook_url = Some("https://hooks.slack.com/services/T0/B0/secret".into());
    edit(&mut spec);
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    for r in spec.route_keys() {
        config.put_route(r, &CompanyId::new("nordit-hannover"));
    }
    config.put_tenant(spec.tenant().unwrap());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 18, 13, 5, 0).unwrap()));
    let body = include_str!("../../../../events/retell/call_analyzed.json");
    let ingest = Ingest::new(
        IngestSettings::new("k"),
        Ports {
            cases: cases.clone(),
            config: config.clone(),
            queue: Arc::new(MemoryQueue::default()),
            clock: clock.clone(),
        },
    );
    let sig = signature::sign("k", body.as_bytes(), clock.now().timestamp_millis() as u64);
    ingest.webhook(body.as_bytes(), Some(&sig)).await.unwrap();
    let case = cases
        .get_case(
            &CompanyId::new("nordit-hannover"),
            &CallId::new("call_4b9e2f71c08d3a6e5f1b27c9d04"),
        )
        .await
        .unwrap()
        .unwrap();
    cases
        .record_output_error(&case.company_id, &case.call_id, "webhook: HTTP 500")
        .await
        .unwrap();
    let mailer = Arc::new(MemoryMailer::default());
    let slack = Arc::new(ScriptedWebhooks::default());
    let alerter = Alerter::new(
        AlertPorts {
            cases: cases.clone(),
            config,
            mailer: mailer.clone(),
            slack: slack.clone(),
            log: Arc::new(MemoryExchangeLog::default()),
            clock,
        },
        Some(LinkSettings {
            base_url: "https://gw.example".into(),
            signing_key: "link-key".into(),
        }),
    );
    let req = DeliverRequest {
        company_id: case.company_id,
        call_id: case.call_id,
        case_id: case.case_id,
    };
    (alerter, cases, mailer, slack, req)
}

#[tokio::test]
async fn marks_failed_and_alerts_once_per_channel() {
    let (alerter, cases, mailer, slack, req) = world(|_| {}).await;
    let out = alerter.process(&req, None, Deadline::none()).await.unwrap();
    assert_eq!(
        out,
        AlertOutcome::Failed {
            alerts: vec!["email", "slack"]
        }
    );
    let case = cases.get_case(&req.company_id, &req.call_id).await.unwrap().unwrap();
    assert_eq!(case.output_status, OutputStatus::Failed);
    assert_eq!(case.output_error.as_deref(), Some("webhook: HTTP 500"));
    assert_eq!(mailer.sent().len(), 1);
    assert!(
        mailer.sent()[0]
            .subject
            .starts_with("[ALERT] Zustellung fehlgeschlagen: TKT-")
    );
    let slack_body: serde_json::Value = serde_json::from_str(&slack.received()[0].body).unwrap();
    assert!(
        slack_body["blocks"][1]["fields"][0]["text"]
            .as_str()
            .unwrap()
            .contains("NordIT")
    );
    // Both carry the signed link to the case's page.
    let case_link = "https://gw.example/cases/nordit-hannover/call_4b9e2f71c08d3a6e5f1b27c9d04?expires=";
    assert!(mailer.sent()[0].text.contains(&format!("Fall:       {case_link}")));
    let button = &slack_body["blocks"][3]["elements"][0];
    assert_eq!(button["text"]["text"], "Fall ansehen");
    assert!(button["url"].as_str().unwrap().starts_with(case_link), "{button}");
    // The same dead letter again: no second alert.
    assert_eq!(
        alerter.process(&req, None, Deadline::none()).await.unwrap(),
        AlertOutcome::Failed { alerts: vec![] }
    );
    assert_eq!((mailer.sent().len(), slack.received().len()), (1, 1));
}

#[tokio::test]
async fn a_failing_alert_is_retried_without_undoing_failed_and_alerts_can_be_off() {
    let (alerter, cases, mailer, slack, req) = world(|_| {}).await;
    slack.answer(vec![
        Err(TransportError::Failed("connection reset".into())),
        Ok(HttpResponse {
            status: 200,
            body: "ok".into(),
        }),
    ]);
    assert!(matches!(
        alerter.process(&req, None, Deadline::none()).await,
        Err(AlertError::Send(_))
    ));
    let case = cases.get_case(&req.company_id, &req.call_id).await.unwrap().unwrap();
    assert_eq!(case.output_status, OutputStatus::Failed, "failed stays failed");
    assert_eq!(
        alerter.process(&req, None, Deadline::none()).await.unwrap(),
        AlertOutcome::Failed { alerts: vec!["slack"] }
    );
    assert_eq!(mailer.sent().len(), 1, "the e-mail alert is not repeated");

    let (alerter, _, mailer, slack, req) = world(|s| s.company.alerts_enabled = false).await;
    assert_eq!(
        alerter.process(&req, Some("HTTP 410"), Deadline::none()).await.unwrap(),
        AlertOutcome::Failed { alerts: vec![] }
    );
    assert!(mailer.sent().is_empty() && slack.received().is_empty());
}
