//! Delivery against in-memory ports: per-channel exactly-once, retries, permanent failures, audit.

use gateway_domain::case::{CaseReader, Channel, OutputStatus, ServiceCase};
use gateway_domain::clock::Clock;
use gateway_domain::deadline::Deadline;
use gateway_domain::enrichment::EnrichmentStore;
use gateway_domain::ids::{CallId, CompanyId};
use std::sync::Arc;

use chrono::{TimeZone, Utc};

use gateway_domain::capture::retell::signature;
use gateway_domain::capture::service::{Ingest, IngestSettings, Ports};
use gateway_domain::delivery::HttpResponse;
use gateway_domain::delivery::*;
use gateway_domain::tenancy::tenant::TenantSpec;
use gateway_testkit::memory::{
    FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryExchangeLog, MemoryMailer, MemoryQueue, ScriptedWebhooks,
};

const NORDIT: &str = include_str!("../../../../infra/tenants/nordit.yaml");
const ANALYZED: &str = include_str!("../../../../events/retell/call_analyzed.json");
const CALL_ID: &str = "call_4b9e2f71c08d3a6e5f1b27c9d04";
const COMPANY: &str = "nordit-hannover";
const SECRET_HEADER_VALUE: &str = "demo-zammad-token";

struct World {
    deliverer: Deliverer,
    cases: Arc<MemoryCaseStore>,
    webhooks: Arc<ScriptedWebhooks>,
    mailer: Arc<MemoryMailer>,
    log: Arc<MemoryExchangeLog>,
    request: DeliverRequest,
}

async fn world(edit: impl FnOnce(&mut TenantSpec)) -> World {
    let mut spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    edit(&mut spec);
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
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
    let ingest = Ingest::new(IngestSettings::new("k"), ports);
    let sig = signature::sign("k", ANALYZED.as_bytes(), clock.now().timestamp_millis() as u64);
    ingest.webhook(ANALYZED.as_bytes(), Some(&sig)).await.unwrap();
    let case = cases
        .get_case(&CompanyId::new(COMPANY), &CallId::new(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    let webhooks = Arc::new(ScriptedWebhooks::default());
    let mailer = Arc::new(MemoryMailer::default());
    let log = Arc::new(MemoryExchangeLog::default());
    let links = gateway_domain::links::LinkSettings {
        base_url: "https://gw.example".into(),
        signing_key: "link-key".into(),
    };
    let deliverer = Deliverer::new(
        DeliverPorts {
            cases: cases.clone(),
            config,
            webhooks: webhooks.clone(),
            mailer: mailer.clone(),
            log: log.clone(),
            clock,
        },
        Some(links),
    );
    let request = DeliverRequest {
        company_id: COMPANY.into(),
        call_id: CALL_ID.into(),
        case_id: case.case_id,
    };
    World {
        deliverer,
        cases,
        webhooks,
        mailer,
        log,
        request,
    }
}

fn ok(status: u16, body: &str) -> Result<HttpResponse, TransportError> {
    Ok(HttpResponse {
        status,
        body: body.into(),
    })
}

impl World {
    async fn case(&self) -> ServiceCase {
        self.cases
            .get_case(&CompanyId::new(COMPANY), &CallId::new(CALL_ID))
            .await
            .unwrap()
            .unwrap()
    }
}

#[tokio::test]
async fn hybrid_delivers_both_channels_and_stores_the_external_id() {
    let w = world(|_| {}).await;
    w.webhooks.answer(vec![ok(201, r#"{"id": 981, "number": "31042"}"#)]);
    assert_eq!(
        w.deliverer.process(&w.request, 1, Deadline::none()).await.unwrap(),
        DeliverOutcome::Sent
    );
    let case = w.case().await;
    assert_eq!(case.output_status, OutputStatus::Sent);
    assert_eq!(
        case.external_reference.as_deref(),
        Some("31042"),
        "zammad's ticket number"
    );
    assert_eq!(w.mailer.sent().len(), 1, "servicedesk@ only: leitstand@ is muted");
    assert_eq!(w.mailer.sent()[0].to, "servicedesk@nordit.example");
    assert!(
        w.mailer.sent()[0]
            .subject
            .starts_with("[DRINGEND] [Drucker & Scanner] TKT-2026-00001: ")
    );
    let request = &w.webhooks.received()[0];
    serde_json::from_str::<serde_json::Value>(&request.body).unwrap();
    assert_eq!(
        w.deliverer.process(&w.request, 1, Deadline::none()).await.unwrap(),
        DeliverOutcome::Duplicate
    );
    assert_eq!(w.mailer.sent().len(), 1);
    assert_eq!(w.webhooks.received().len(), 1);
}

#[tokio::test]
async fn a_failing_webhook_is_retried_without_sending_the_email_again() {
    let w = world(|_| {}).await;
    w.webhooks.answer(vec![
        ok(503, "maintenance"),
        ok(200, r#"{"success": false, "message": "invalid HMAC"}"#),
        ok(201, r#"{"id": 7}"#),
    ]);
    assert!(
        matches!(w.deliverer.process(&w.request, 1, Deadline::none()).await, Err(DeliverError::Retry(m)) if m.contains("503"))
    );
    let case = w.case().await;
    assert_eq!(
        case.output_status,
        OutputStatus::Pending,
        "still pending while retries remain"
    );
    assert!(case.delivery.sent(Channel::Email));
    assert!(case.output_error.as_deref().unwrap().contains("webhook"));
    assert!(
        matches!(w.deliverer.process(&w.request, 2, Deadline::none()).await, Err(DeliverError::Retry(m)) if m.contains("invalid HMAC")),
        "a 200 with an error body is a failure"
    );
    assert_eq!(
        w.deliverer.process(&w.request, 3, Deadline::none()).await.unwrap(),
        DeliverOutcome::Sent
    );
    assert_eq!(w.mailer.sent().len(), 1, "the e-mail went out exactly once");
    assert_eq!(w.webhooks.received().len(), 3);
    let ids: Vec<String> = w
        .webhooks
        .received()
        .iter()
        .map(|r| r.headers.iter().find(|(k, _)| k == "webhook-id").unwrap().1.clone())
        .collect();
    assert!(
        ids.windows(2).all(|p| p[0] == p[1]),
        "the same webhook-id on every retry"
    );
}

#[tokio::test]
async fn gone_refused_and_misconfigured_targets_are_permanent() {
    let w = world(|_| {}).await;
    w.webhooks.answer(vec![ok(410, "gone")]);
    assert!(
        matches!(w.deliverer.process(&w.request, 1, Deadline::none()).await, Err(DeliverError::Permanent(m)) if m.contains("410"))
    );
    let w = world(|_| {}).await;
    w.webhooks
        .answer(vec![Err(TransportError::Refused("resolves to 10.0.0.1".into()))]);
    assert!(matches!(
        w.deliverer.process(&w.request, 1, Deadline::none()).await,
        Err(DeliverError::Permanent(_))
    ));
    let w = world(|s| s.categories.iter_mut().for_each(|c| c.output = None)).await;
    assert!(
        matches!(w.deliverer.process(&w.request, 1, Deadline::none()).await, Err(DeliverError::Permanent(m)) if m.contains("no output"))
    );
}

#[tokio::test]
async fn one_rejected_address_does_not_stop_the_others() {
    let w = world(|s| {
        let email = s.outputs[0].email.as_mut().unwrap();
        email.muted.clear();
    })
    .await;
    w.mailer
        .reject
        .lock()
        .unwrap()
        .push("servicedesk@nordit.example".into());
    w.deliverer.process(&w.request, 1, Deadline::none()).await.unwrap();
    let case = w.case().await;
    assert_eq!(case.delivery.email.unwrap().recipients, ["leitstand@nordit.example"]);
    // All rejected: permanent; mail service down: retry.
    let w = world(|_| {}).await;
    w.mailer
        .reject
        .lock()
        .unwrap()
        .push("servicedesk@nordit.example".into());
    assert!(matches!(
        w.deliverer.process(&w.request, 1, Deadline::none()).await,
        Err(DeliverError::Permanent(_))
    ));
    let w = world(|_| {}).await;
    w.mailer.unavailable.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(matches!(
        w.deliverer.process(&w.request, 1, Deadline::none()).await,
        Err(DeliverError::Retry(_))
    ));
}

#[tokio::test]
async fn an_unavailable_recipient_is_retried_without_mailing_the_others_again() {
    let w = world(|s| s.outputs[0].email.as_mut().unwrap().muted.clear()).await;
    let (desk, leitstand) = ("servicedesk@nordit.example", "leitstand@nordit.example");
    w.mailer.unavailable_for.lock().unwrap().push(leitstand.into());
    assert!(matches!(
        w.deliverer.process(&w.request, 1, Deadline::none()).await,
        Err(DeliverError::Retry(m)) if m.contains("unavailable for 1 of 2")
    ));
    let progress = w.case().await.delivery.email.unwrap();
    assert_eq!((progress.sent_at, progress.recipients), (None, vec![desk.to_string()]));
    assert_eq!(w.case().await.output_status, OutputStatus::Pending);

    w.mailer.unavailable_for.lock().unwrap().clear();
    assert_eq!(
        w.deliverer.process(&w.request, 2, Deadline::none()).await.unwrap(),
        DeliverOutcome::Sent
    );
    let to: Vec<String> = w.mailer.sent().into_iter().map(|m| m.to).collect();
    assert_eq!(to, [desk, leitstand], "each recipient mailed exactly once");
    let email = w.case().await.delivery.email.unwrap();
    assert!(email.sent_at.is_some());
    assert_eq!(email.recipients, [desk, leitstand]);
    assert_eq!(
        email.external_id.as_deref(),
        Some("mem-1"),
        "the first message id is kept"
    );
}

#[tokio::test]
async fn a_recipient_reached_after_an_unavailable_one_is_not_mailed_again() {
    let w = world(|s| s.outputs[0].email.as_mut().unwrap().muted.clear()).await;
    let (desk, leitstand) = ("servicedesk@nordit.example", "leitstand@nordit.example");
    w.mailer.unavailable_for.lock().unwrap().push(desk.into());
    assert!(w.deliverer.process(&w.request, 1, Deadline::none()).await.is_err());
    w.mailer.unavailable_for.lock().unwrap().clear();
    w.deliverer.process(&w.request, 2, Deadline::none()).await.unwrap();
    let to: Vec<String> = w.mailer.sent().into_iter().map(|m| m.to).collect();
    assert_eq!(to, [leitstand, desk], "each recipient mailed exactly once");
}

#[tokio::test]
async fn the_case_link_is_signed_for_the_company_ttl_and_sent_only_where_asked_for() {
    // Not in a webhook unless it asks for it: ticket systems are read by many.
    let w = world(|s| s.outputs[0].webhook.as_mut().unwrap().preset = Some("generic-rest".into())).await;
    w.deliverer.process(&w.request, 1, Deadline::none()).await.unwrap();
    let payload: serde_json::Value = serde_json::from_str(&w.webhooks.received()[0].body).unwrap();
    assert_eq!(payload["links"]["case_url"], serde_json::Value::Null);

    let w = world(|s| {
        s.company.case_link_ttl_hours = 24;
        let hook = s.outputs[0].webhook.as_mut().unwrap();
        hook.preset = Some("generic-rest".into());
        hook.include_case_link = true;
    })
    .await;
    w.deliverer.process(&w.request, 1, Deadline::none()).await.unwrap();
    let payload: serde_json::Value = serde_json::from_str(&w.webhooks.received()[0].body).unwrap();
    let link = payload["links"]["case_url"].as_str().expect("case link in the payload");
    let (path, query) = link.trim_start_matches("https://gw.example").split_once('?').unwrap();
    assert_eq!(path, format!("/cases/{COMPANY}/{CALL_ID}"));
    let now = Utc.with_ymd_and_hms(2026, 11, 18, 13, 5, 0).unwrap();
    assert_eq!(
        gateway_domain::links::verify("link-key", path, query, now + chrono::Duration::hours(23)),
        Ok(())
    );
    assert!(gateway_domain::links::verify("link-key", path, query, now + chrono::Duration::hours(25)).is_err());
    assert!(!w.mailer.sent()[0].text.contains("/cases/"), "show_admin_link is off");

    let w = world(|s| s.outputs[0].email.as_mut().unwrap().show_admin_link = true).await;
    w.deliverer.process(&w.request, 1, Deadline::none()).await.unwrap();
    let mail = &w.mailer.sent()[0];
    assert!(mail.text.contains(&format!(
        "Fall im Service Gateway: https://gw.example/cases/{COMPANY}/{CALL_ID}?expires="
    )));
    assert!(mail.html.contains("Fall im Service Gateway ansehen"));
}

#[tokio::test]
async fn the_exchange_log_never_holds_a_secret() {
    let w = world(|s| {
        let hook = s.outputs[0].webhook.as_mut().unwrap();
        hook.template =
            Some(r#"{"title": "{{ case.subject }}", "api_token": "tok-123-secret", "password": "hunter2"}"#.into());
        hook.preset = None;
    })
    .await;
    w.webhooks
        .answer(vec![ok(500, r#"{"error": "boom", "token": "resp-secret"}"#)]);
    let _ = w.deliverer.process(&w.request, 1, Deadline::none()).await;
    let log = serde_json::to_string(&*w.log.entries.lock().unwrap()).unwrap();
    for secret in [
        SECRET_HEADER_VALUE,
        "whsec_",
        "v1,",
        "tok-123-secret",
        "hunter2",
        "resp-secret",
    ] {
        assert!(!log.contains(secret), "{secret} leaked into the exchange log");
    }
    assert!(log.contains("[REDACTED]"));
}

#[tokio::test]
async fn a_stored_recording_travels_as_a_signed_link_with_the_company_ttl() {
    let w = world(|_| {}).await;
    let mut info = w.case().await.enrichment;
    info.audio_object_key = Some("nordit-hannover/01K/recording.wav".into());
    w.cases
        .begin_enrichment(&CompanyId::new(COMPANY), &CallId::new(CALL_ID))
        .await
        .unwrap();
    w.cases
        .finish_enrichment(
            &CompanyId::new(COMPANY),
            &CallId::new(CALL_ID),
            gateway_domain::case::EnrichmentStatus::Enriched,
            &info,
        )
        .await
        .unwrap();
    w.webhooks.answer(vec![ok(201, "{}")]);
    w.deliverer.process(&w.request, 1, Deadline::none()).await.unwrap();
    let mail = &w.mailer.sent()[0];
    let link = mail
        .html
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#x2F;", "/");
    assert!(
        link.starts_with("https://gw.example/recordings/nordit-hannover/01K/recording.wav?expires="),
        "{link}"
    );
    let (path, query) = link.trim_start_matches("https://gw.example").split_once('?').unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 18, 13, 5, 0).unwrap();
    assert_eq!(
        gateway_domain::links::verify("link-key", path, query, now + chrono::Duration::minutes(59)),
        Ok(())
    );
    assert!(
        gateway_domain::links::verify("link-key", path, query, now + chrono::Duration::minutes(61)).is_err(),
        "60 min TTL"
    );
}
