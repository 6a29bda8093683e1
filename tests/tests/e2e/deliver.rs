//! Delivery end to end: the real deliver handler against the emulator (DynamoDB, SQS, SES) and
//! a local webhook sink, from a captured call to a sent case.

use std::time::{Duration, Instant};

use gateway_domain::case::{Channel, OutputStatus};
use gateway_domain::tenancy::TenantSpec;
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

const SECRET: &str = "whsec_bm9yZGl0LWRlbW8td2ViaG9vay1zZWNyZXQtMzJieXQ=";

/// The demo tenant, delivering at once to this stack's sink and to a per-test mailbox.
fn tenant_for(s: &Stack, preset: &str) -> TenantSpec {
    let mut spec = nordit();
    spec.company.enrichment_delay_seconds = 0;
    let out = &mut spec.outputs[0];
    let email = out.email.as_mut().unwrap();
    email.recipients = vec![format!("desk+{}@nordit.example", s.prefix)];
    email.muted.clear();
    let hook = out.webhook.as_mut().unwrap();
    hook.url = s.sink.url("/api/v1/tickets");
    hook.preset = Some(preset.into());
    hook.secret = Some(SECRET.into());
    spec
}

async fn capture_and_enrich(s: &Stack) -> String {
    let call = edited(ANALYZED, |v| {
        v["call"]["recording_url"] = json!(s.recording_url("/rec/2048.wav"))
    });
    let (status, body) = s.post("/webhooks/retell", &call).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.run_enrich_once(5).await, (1, 0));
    body["ticket_id"].as_str().unwrap().to_string()
}

fn mails_to<'a>(mails: &'a [Value], s: &Stack) -> Vec<&'a Value> {
    let to = format!("desk+{}@nordit.example", s.prefix);
    mails.iter().filter(|m| m.to_string().contains(&to)).collect()
}

#[tokio::test]
async fn a_case_is_delivered_by_webhook_and_email_with_a_verifiable_signature() {
    let s = stack_with(&[]).await;
    s.store.apply_spec(&tenant_for(&s, "zammad-ticket")).await.unwrap();
    s.sink.script(&[(201, r#"{"id": 981, "number": "31042"}"#)]);
    let ticket = capture_and_enrich(&s).await;
    assert_eq!(s.run_deliver_once(5).await, (1, 0));

    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.output_status, OutputStatus::Sent);
    assert_eq!(case.external_reference.as_deref(), Some("31042"));
    assert!(case.delivery.sent(Channel::Email) && case.delivery.sent(Channel::Webhook));

    let received = s.sink.received();
    assert_eq!(received.len(), 1);
    let hook = &received[0];
    let payload: Value = serde_json::from_slice(&hook.body).expect("valid JSON");
    assert_eq!(
        payload["title"].as_str().unwrap(),
        format!("{ticket}: {}", case.subject)
    );
    // An independent implementation (the standardwebhooks crate) accepts the signature.
    standardwebhooks::Webhook::new(SECRET)
        .unwrap()
        .verify(&hook.body, &hook.headers)
        .expect("signature verifies");
    let legacy = gateway_domain::delivery::webhook::legacy_signature(SECRET, &hook.body);
    assert_eq!(hook.headers["x-signature"], legacy.as_str());
    assert_eq!(hook.headers["idempotency-key"], hook.headers["webhook-id"]);
    assert_eq!(hook.headers["authorization"], "Token token=demo-zammad-token");

    let mails = s.sent_emails().await;
    let mine = mails_to(&mails, &s);
    assert_eq!(mine.len(), 1, "{mails:?}");
    let subject = mine[0]["subject"].as_str().unwrap();
    assert_eq!(
        subject,
        format!("[DRINGEND] [Drucker & Scanner] {ticket}: {}", case.subject)
    );
    assert!(
        mine[0]["source"]
            .as_str()
            .unwrap()
            .contains("gateway@service-gateway.example")
    );
    // The technical layout goes out as raw MIME, so the emulator keeps what simple content lost:
    // the text part and the case as a JSON attachment.
    assert!(mine[0]["text"].as_str().unwrap().contains(&ticket), "{}", mine[0]);
    let attachment = &mine[0]["attachments"][0];
    assert!(
        attachment["filename"]
            .as_str()
            .unwrap()
            .starts_with(&format!("case_{ticket}_")),
        "{attachment}"
    );
    assert!(
        attachment["content_type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    let json: Value = serde_json::from_str(attachment["content"].as_str().unwrap()).expect("the case as JSON");
    assert_eq!(json["reference"], ticket.as_str());

    // The same message again: nothing is sent twice.
    let again = json!({"company_id": COMPANY, "call_id": CALL_ID, "case_id": case.case_id}).to_string();
    s.sqs
        .send_message()
        .queue_url(&s.resources.delivery_queue_url)
        .message_body(again)
        .send()
        .await
        .unwrap();
    assert_eq!(s.run_deliver_once(5).await, (1, 0));
    assert_eq!(s.sink.received().len(), 1);
    assert_eq!(mails_to(&s.sent_emails().await, &s).len(), 1);
}

#[tokio::test]
async fn hybrid_with_a_recovering_webhook_sends_the_email_exactly_once() {
    let s = stack_with(&[]).await;
    s.store.apply_spec(&tenant_for(&s, "generic-rest")).await.unwrap();
    s.sink.script(&[
        (503, "down"),
        (200, r#"{"status": "error", "message": "invalid HMAC"}"#),
        (201, r#"{"id": "EXT-9"}"#),
    ]);
    capture_and_enrich(&s).await;
    assert_eq!(s.run_deliver_once(5).await, (1, 1), "503: retried");
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.output_status, OutputStatus::Pending);
    assert!(case.delivery.sent(Channel::Email));
    assert_eq!(s.run_deliver_once(5).await, (1, 1), "200 with an error body: retried");
    assert_eq!(s.run_deliver_once(5).await, (1, 0), "recovered");
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (case.output_status, case.external_reference.as_deref()),
        (OutputStatus::Sent, Some("EXT-9"))
    );
    assert_eq!(s.sink.received().len(), 3);
    assert_eq!(
        mails_to(&s.sent_emails().await, &s).len(),
        1,
        "the e-mail went out once"
    );
}

#[tokio::test]
async fn backoff_is_observed_through_sqs_and_the_third_failure_ends_in_the_dlq() {
    let s = stack_with(&[]).await;
    let mut spec = tenant_for(&s, "generic-rest");
    spec.outputs[0].kind = gateway_domain::tenancy::output::OutputType::Webhook;
    spec.outputs[0].email = None;
    s.store.apply_spec(&spec).await.unwrap();
    s.sink.script(&[(500, r#"{"error": "boom"}"#)]);
    capture_and_enrich(&s).await;
    let mut attempts = Vec::new();
    while attempts.len() < 3 {
        let (received, failed) = s.run_deliver_once(5).await;
        if received > 0 {
            assert_eq!(failed, 1);
            attempts.push(Instant::now());
        }
    }
    // The message reappears only after 1 s, then 2 s (the configured backoff).
    let gaps: Vec<Duration> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= Duration::from_millis(900), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(1900), "{gaps:?}");
    // After the third failure SQS moves it to the DLQ on the next receive (3 s later).
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.counts(&s.resources.delivery_dlq_url).await.0 == 0 {
        assert!(Instant::now() < deadline, "the message never reached the DLQ");
        assert_eq!(s.run_deliver_once(2).await.0, 0, "no fourth attempt");
    }
    assert_eq!(s.sink.received().len(), 3);
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        case.output_status,
        OutputStatus::Pending,
        "the alert function marks it failed"
    );
    assert!(case.output_error.as_deref().unwrap().contains("HTTP 500"));
}

#[tokio::test]
async fn permanent_failures_skip_the_retries() {
    let s = stack_with(&[]).await;
    let mut spec = tenant_for(&s, "generic-rest");
    spec.outputs[0].kind = gateway_domain::tenancy::output::OutputType::Webhook;
    spec.outputs[0].email = None;
    // Written without validation, as an operator could not: a private address.
    spec.outputs[0].webhook.as_mut().unwrap().url = "https://10.1.2.3/hook".into();
    s.store.apply_spec(&spec).await.unwrap();
    capture_and_enrich(&s).await;
    assert_eq!(s.run_deliver_once(5).await, (1, 0), "dead-lettered, not retried");
    assert_eq!(s.counts(&s.resources.delivery_dlq_url).await.0, 1);
    assert!(s.sink.received().is_empty());
}

#[tokio::test]
async fn the_stored_exchange_log_never_contains_the_secret() {
    let s = stack_with(&[]).await;
    s.store.apply_spec(&tenant_for(&s, "zammad-ticket")).await.unwrap();
    s.sink.script(&[
        (500, r#"{"error": "bad", "token": "echoed-secret-token"}"#),
        (201, r#"{"id": 1}"#),
    ]);
    capture_and_enrich(&s).await;
    s.run_deliver_once(5).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.run_deliver_once(5).await;
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    let log = s.store.exchange_log(&company_id(COMPANY), &case.case_id).await.unwrap();
    assert!(
        log.iter().filter(|e| e["operation"] == "webhook").count() >= 2,
        "{log:?}"
    );
    // Everything stored in the table, as text.
    let scan = s.ddb.scan().table_name(&s.resources.table).send().await.unwrap();
    let dump = format!("{:?}", scan.items());
    assert!(dump.contains("[REDACTED]"));
    for needle in [
        "echoed-secret-token",
        "bm9yZGl0LWRlbW8td2ViaG9vay1zZWNyZXQtMzJieXQ",
        "v1,",
        &gateway_domain::delivery::webhook::legacy_signature(SECRET, b"x")[..8],
    ] {
        let in_log = serde_json::to_string(&log).unwrap().contains(needle);
        assert!(!in_log, "{needle} leaked into the exchange log");
    }
    assert!(
        !dump.contains("echoed-secret-token"),
        "a secret echoed by the target was stored"
    );
}

#[tokio::test]
async fn the_payload_carries_signed_recording_and_case_links_that_the_gateway_redeems() {
    let s = stack_with(&[]).await;
    let mut spec = tenant_for(&s, "generic-rest");
    let hook = spec.outputs[0].webhook.as_mut().unwrap();
    hook.include_case_link = true;
    hook.include_transcript = true;
    s.store.apply_spec(&spec).await.unwrap();
    capture_and_enrich(&s).await;
    assert_eq!(s.run_deliver_once(5).await, (1, 0));
    let payload: Value = serde_json::from_slice(&s.sink.received()[0].body).unwrap();
    let link = payload["enrichment"]["audio_url"]
        .as_str()
        .expect("audio link in the payload")
        .to_string();
    let expires = payload["enrichment"]["audio_expires_at"].as_str().unwrap();
    let ttl = chrono::DateTime::parse_from_rfc3339(expires)
        .unwrap()
        .with_timezone(&chrono::Utc)
        - chrono::Utc::now();
    assert!(
        ttl > chrono::Duration::minutes(58) && ttl <= chrono::Duration::minutes(60),
        "company TTL: {ttl}"
    );
    let path_and_query = link.trim_start_matches("http://127.0.0.1:3000");
    let get = |uri: String| {
        lambda_http::http::Request::builder()
            .method("GET")
            .uri(uri)
            .body(lambda_http::Body::Empty)
            .unwrap()
    };
    let (status, headers, _) = s.send_raw(get(path_and_query.to_string())).await;
    assert_eq!(status, StatusCode::FOUND);
    let presigned = headers["location"].to_str().unwrap().to_string();
    assert!(presigned.contains("X-Amz-Expires=60"), "{presigned}");
    let bytes = reqwest::get(&presigned).await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.len(), 2048, "the stored recording");
    let tampered = path_and_query.replace("sig=", "sig=00");
    assert_eq!(s.send_raw(get(tampered)).await.0, StatusCode::FORBIDDEN);
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    let path = gateway_domain::links::recording_path(case.enrichment.audio_object_key.as_deref().unwrap());
    let old = gateway_domain::links::sign(
        "",
        gateway_local::LINK_SIGNING_KEY,
        &path,
        chrono::Utc::now() - chrono::Duration::minutes(1),
    );
    assert_eq!(s.send_raw(get(old)).await.0, StatusCode::GONE);

    // The case link (opted into) opens a read-only page of the case, with a fresh recording link
    // of its own and the transcript, which every channel of this output carries.
    let case_link = payload["links"]["case_url"].as_str().expect("case link in the payload");
    let case_path_and_query = case_link.trim_start_matches("http://127.0.0.1:3000").to_string();
    let (status, headers, body) = s.send_raw(get(case_path_and_query.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains(case.ticket_ref.as_deref().unwrap()), "{html}");
    assert!(html.contains("Gesprächsverlauf"));
    let page_audio = html
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&")
        .replace("&#x2F;", "/");
    assert_eq!(
        s.send_raw(get(page_audio)).await.0,
        StatusCode::FOUND,
        "the page's recording link is redeemable"
    );
    // Another company's path under the same signature, or a changed signature: refused; expired: gone.
    let foreign = case_path_and_query.replacen(COMPANY, "kanzlei-berg", 1);
    let forged = case_path_and_query.replace("sig=", "sig=00");
    for bad in [foreign, forged] {
        assert_eq!(s.send_raw(get(bad)).await.0, StatusCode::FORBIDDEN);
    }
    let expired = gateway_domain::links::sign(
        "",
        gateway_local::LINK_SIGNING_KEY,
        &gateway_domain::links::case_path(&company_id(COMPANY), &call_id(CALL_ID)),
        chrono::Utc::now() - chrono::Duration::minutes(1),
    );
    assert_eq!(s.send_raw(get(expired)).await.0, StatusCode::GONE);
}

/// A ticket system on the same machine, allow-listed the way `make run` takes it
/// (`GATEWAY_URL_ALLOW_LIST`): a tenant `gatewayctl` accepts against that list is delivered to it.
#[tokio::test]
async fn a_tenant_pointing_at_an_allow_listed_local_system_is_delivered_to() {
    let own_system = gateway_local::webhook_sink::Sink::start().await.unwrap();
    own_system.script(&[(201, r#"{"data": {"id": "17", "link": "http://127.0.0.1/issue17"}}"#)]);
    let allow = own_system.addr.clone();
    let s = stack_allowing(&[], Some(&allow)).await;
    // The operator applies a second tenant with gatewayctl against the same allow-list.
    let mut spec = nordit();
    spec.company.company_id = company_id("roundup-lokal");
    spec.company.enrichment_delay_seconds = 0;
    spec.routes.agents = vec!["agent_roundup_local".into()];
    spec.routes.phones = vec!["+4951199999999".into()];
    let out = &mut spec.outputs[0];
    out.kind = gateway_domain::tenancy::output::OutputType::Webhook;
    out.email = None;
    let hook = out.webhook.as_mut().unwrap();
    hook.url = own_system.url("/rest/data/issue");
    hook.preset = None;
    hook.template = Some(r#"{"title": "{{ case.subject }}", "priority": "{{ case.priority }}"}"#.into());
    hook.external_id_path = Some("data.id".into());
    hook.secret = None;
    hook.headers.clear();
    spec.presets.clear();
    let dir = std::env::temp_dir().join(format!("roundup-{}", s.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("roundup.yaml");
    std::fs::write(&file, serde_norway::to_string(&spec).unwrap()).unwrap();
    let ctl = gatewayctl::Ctl {
        store: s.store.clone(),
        policy: gateway_local::local_url_policy(&[], Some(&allow)),
    };
    ctl.apply(&file, false)
        .await
        .expect("gatewayctl accepts the allow-listed URL");

    let call = edited(ANALYZED, |v| {
        v["call"]["agent_id"] = json!("agent_roundup_local");
        v["call"]["recording_url"] = json!(s.recording_url("/rec/1024.wav"));
    });
    let (status, body) = s.post("/webhooks/retell", &call).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.run_enrich_once(5).await, (1, 0));
    assert_eq!(
        s.run_deliver_once(5).await,
        (1, 0),
        "delivered, not refused by the SSRF guard"
    );
    let case = s
        .store
        .get_case(&company_id("roundup-lokal"), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.output_status, OutputStatus::Sent);
    assert_eq!(
        case.external_reference.as_deref(),
        Some("17"),
        "the id from Roundup's data.id"
    );
    assert_eq!(own_system.received().len(), 1);
}
