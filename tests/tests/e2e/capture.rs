//! Capture end to end: Retell-signed requests through the real ingest handler against the
//! emulator's DynamoDB and SQS.

use std::sync::Arc;

use gateway_domain::case::{CaptureSource, Priority};
use gateway_domain::tenancy::{CompanyConfig, GatewayMode, Routes, TenantSpec};
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use lambda_http::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_signed_german_call_analyzed_becomes_a_case_and_one_delayed_enrich_message() {
    let s = stack().await;
    let (status, body) = s.post("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "captured");
    let ticket = body["ticket_id"].as_str().unwrap().to_string();
    assert!(ticket.starts_with("TKT-") && ticket.ends_with("-00001"), "{ticket}");

    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .expect("case stored");
    assert_eq!(case.ticket_ref.as_deref(), Some(ticket.as_str()));
    assert_eq!(case.category.as_deref(), Some("print"));
    assert_eq!(case.priority, Priority::High);
    assert_eq!(case.caller.caller_id.as_deref(), Some("+4951187654321"));
    assert!(case.analysis.summary.as_deref().unwrap().contains("C6000"));
    assert!(case.subject.contains("Kyocera") || case.description.contains("Kyocera"));
    assert_eq!(case.transcript.len(), 9);
    assert!(case.enqueued_at.is_some());

    // The message waits out the company's 90 s delay: not receivable now, counted as delayed.
    assert!(
        s.receive_enrich(0).await.is_empty(),
        "the enrich message must be delayed"
    );
    let (visible, delayed, _) = s.queue_counts().await;
    assert_eq!((visible, delayed), (0, 1));

    let events = s
        .store
        .call_events(Some(&company_id(COMPANY)), &call_id(CALL_ID))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, "call_analyzed");
    assert!(
        events[0].recording.recording_url.is_some(),
        "recording link kept for enrichment, on the event"
    );
}

#[tokio::test]
async fn the_enrich_message_arrives_after_the_company_delay() {
    let mut tenant = nordit();
    tenant.company.enrichment_delay_seconds = 1;
    let s = stack_with(&[tenant]).await;
    let (status, _) = s.post("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::OK);
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    let mut messages = Vec::new();
    for _ in 0..5 {
        messages.extend(s.receive_enrich(2).await);
        if !messages.is_empty() {
            break;
        }
    }
    assert_eq!(
        messages,
        vec![json!({"company_id": COMPANY, "call_id": CALL_ID, "case_id": case.case_id})]
    );
}

#[tokio::test]
async fn twenty_concurrent_identical_deliveries_make_one_case_and_one_enqueue() {
    let s = Arc::new(stack().await);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.post("/webhooks/retell", ANALYZED).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap().0);
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::OK));
    assert_eq!(s.store.list_cases(&company_id(COMPANY)).await.unwrap().len(), 1);
    let (visible, delayed, in_flight) = s.queue_counts().await;
    assert_eq!(
        visible + delayed + in_flight,
        1,
        "exactly one enqueue: {statuses:?}, queue (visible, delayed, in flight) = {:?}",
        (visible, delayed, in_flight)
    );
    // Whoever got a 503 is retried by Retell and then told the same ticket.
    let (status, body) = s.post("/webhooks/retell", ANALYZED).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("duplicate")));
    let (visible, delayed, in_flight) = s.queue_counts().await;
    assert_eq!(visible + delayed + in_flight, 1);
}

#[tokio::test]
async fn finalize_ticket_then_call_analyzed_is_one_case_holding_both() {
    let s = stack().await;
    let (status, reply) = s.post("/retell/functions", FINALIZE).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["success"], true);
    let ticket = reply["ticket_id"].as_str().unwrap().to_string();
    assert!(reply["message"].as_str().unwrap().contains(&ticket));

    let (status, ack) = s.post("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (ack["status"].as_str(), ack["ticket_id"].as_str()),
        (Some("completed"), Some(ticket.as_str()))
    );

    let cases = s.store.list_cases(&company_id(COMPANY)).await.unwrap();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!(
        case.captured_by,
        vec![CaptureSource::FinalizeTicket, CaptureSource::CallAnalyzed]
    );
    assert_eq!(case.caller.name.as_deref(), Some("Jonas Weber"), "from finalize_ticket");
    assert!(case.analysis.summary.is_some(), "from call_analyzed");
    assert_eq!(case.transcript.len(), 9);
    assert_eq!(case.version, 1);
    let (visible, delayed, in_flight) = s.queue_counts().await;
    assert_eq!(visible + delayed + in_flight, 1);
    let kinds: Vec<String> = s
        .store
        .call_events(Some(&company_id(COMPANY)), &call_id(CALL_ID))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(
        kinds.contains(&"call_analyzed".to_string()) && kinds.contains(&"function:finalize_ticket".to_string()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_failed_enqueue_answers_503_and_the_retry_enqueues_without_a_second_case() {
    let s = stack().await;
    // The same table with a queue that does not exist: SendMessage fails.
    let mut broken =
        gateway_local::ingest_config(&s.resources, API_KEY, gateway_domain::ssrf::UrlPolicy::local(vec![]));
    broken.enrich_queue_url = format!("{}-missing", s.resources.enrich_queue_url);
    let broken_router = ingest::App::new(&broken, &s.sdk).into_router();
    let resp = tower::ServiceExt::oneshot(
        broken_router,
        request("/webhooks/retell", ANALYZED, Some(sign(ANALYZED))),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        s.store.list_cases(&company_id(COMPANY)).await.unwrap().len(),
        1,
        "the case is kept"
    );
    assert_eq!(s.queue_counts().await, (0, 0, 0));

    let (status, body) = s.post("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["ticket_id"].is_string());
    assert_eq!(s.store.list_cases(&company_id(COMPANY)).await.unwrap().len(), 1);
    let (_, delayed, _) = s.queue_counts().await;
    assert_eq!(delayed, 1);
}

#[tokio::test]
async fn every_lifecycle_event_and_unrouted_calls_are_recorded() {
    let s = stack().await;
    for fixture in [
        include_str!("../../../events/retell/call_started.json"),
        include_str!("../../../events/retell/call_ended.json"),
        include_str!("../../../events/retell/transcript_updated.json"),
        include_str!("../../../events/retell/transfer_started.json"),
    ] {
        let (status, body) = s.post("/webhooks/retell", fixture).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("recorded")),
            "{body}"
        );
    }
    let events = s
        .store
        .call_events(Some(&company_id(COMPANY)), &call_id(CALL_ID))
        .await
        .unwrap();
    assert_eq!(events.len(), 4);
    let ended = events.iter().find(|e| e.event == "call_ended").unwrap();
    assert_eq!(ended.disconnection_reason.as_deref(), Some("user_hangup"));

    let stray = edited(ANALYZED, |v| {
        v["call"]["agent_id"] = json!("agent_unknown");
        v["call"]["to_number"] = json!("+4930111111");
    });
    let (status, body) = s.post("/webhooks/retell", &stray).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("unrouted")));
    let unrouted = s.store.call_events(None, &call_id(CALL_ID)).await.unwrap();
    assert_eq!(unrouted.len(), 1);
    assert_eq!(unrouted[0].raw_body.as_deref(), Some(stray.as_str()));
    assert!(
        s.store
            .get_case(&company_id(COMPANY), &call_id(CALL_ID))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn call_inbound_answers_with_the_companys_variables() {
    let s = stack().await;
    let (status, body) = s
        .post(
            "/webhooks/retell",
            include_str!("../../../events/retell/call_inbound.json"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let vars = &body["call_inbound"]["dynamic_variables"];
    assert_eq!(vars["company_name"], "NordIT Systemhaus GmbH");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(vars["current_date"], today);
}

#[tokio::test]
async fn a_second_company_sees_none_of_the_first_companys_data() {
    let berg = TenantSpec {
        company: CompanyConfig {
            company_id: "kanzlei-berg".into(),
            name: "Kanzlei Berg".into(),
            mode: GatewayMode::ServiceDesk,
            ..Default::default()
        },
        routes: Routes {
            agents: vec!["agent_berg".into()],
            phones: vec!["+498912345678".into()],
        },
        categories: vec![],
        outputs: vec![],
        presets: vec![],
        appointments: None,
    };
    let s = stack_with(&[nordit(), berg.clone()]).await;
    s.post("/webhooks/retell", ANALYZED).await;
    s.post(
        "/webhooks/retell",
        include_str!("../../../events/retell/call_ended.json"),
    )
    .await;
    assert!(
        s.store
            .list_cases(&company_id("kanzlei-berg"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.store
            .get_case(&company_id("kanzlei-berg"), &call_id(CALL_ID))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.store
            .call_events(Some(&company_id("kanzlei-berg")), &call_id(CALL_ID))
            .await
            .unwrap()
            .is_empty()
    );
    let berg_call = edited(ANALYZED, |v| {
        v["call"]["agent_id"] = json!("agent_berg");
        v["call"]["call_id"] = json!("call_berg");
    });
    let (_, body) = s.post("/webhooks/retell", &berg_call).await;
    assert!(
        body["ticket_id"].as_str().unwrap().ends_with("-00001"),
        "own counter: {body}"
    );
    let berg_cases = s.store.list_cases(&company_id("kanzlei-berg")).await.unwrap();
    assert_eq!(berg_cases.len(), 1);
    assert_eq!(s.store.list_cases(&company_id(COMPANY)).await.unwrap().len(), 1);
    // A route already owned by one company cannot be taken by another.
    let mut thief = berg;
    thief.routes.agents.push("agent_9f3a1c7e52b84d06a1e3c8f27b".into());
    assert!(s.store.apply_spec(&thief).await.is_err());
}

/// A request wrote the case and then died (its SDK call timed out after DynamoDB committed):
/// Retell's retries all met the lease. The sweep, on DynamoDB and SQS, finds the case on its
/// pending list once the lease has expired and hands it off: ticket number, one enrich message.
#[tokio::test]
async fn the_sweep_hands_off_a_case_its_request_left_behind() {
    use gateway_domain::capture::Handoff;
    let s = stack().await;
    let tenant = s.store.tenant(&company_id(COMPANY)).await.unwrap().unwrap();
    let envelope: gateway_domain::capture::retell::payload::WebhookEnvelope = serde_json::from_str(ANALYZED).unwrap();
    let now = chrono::Utc::now();
    let mut case =
        gateway_domain::capture::draft::from_analysis(&tenant, envelope.call.as_ref().unwrap(), &call_id(CALL_ID), now);
    case.handoff_lease_until = (now + chrono::Duration::seconds(1)).timestamp_millis();
    let event = CallEvent::new(Some(&company_id(COMPANY)), &call_id(CALL_ID), "call_analyzed", now);
    s.store.create_case(&case, &event).await.unwrap();
    let handoff = Handoff {
        cases: std::sync::Arc::new(s.store.clone()),
        queue: std::sync::Arc::new(gateway_adapters::SqsQueue::new(
            s.sqs.clone(),
            &s.resources.enrich_queue_url,
        )),
        clock: std::sync::Arc::new(gateway_domain::clock::SystemClock),
        lease: chrono::Duration::seconds(1),
    };
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let report = handoff.sweep(&s.store, 100).await.unwrap();
    assert_eq!((report.pending, report.handed_off), (1, 1), "{report:?}");
    let stored = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.is_handed_off(), "{stored:?}");
    let (_, delayed, _) = s.queue_counts().await;
    assert_eq!(
        delayed, 1,
        "one enrich message, delayed by the company's enrichment delay"
    );
    let again = handoff.sweep(&s.store, 100).await.unwrap();
    assert_eq!(again.pending, 0, "off the list once handed off");
}

/// Key rotation against the emulator as an operator runs it: the keys live in Secrets Manager,
/// `gatewayctl keys rotate` makes a new key current, a fresh container reads both at cold start
/// and accepts the previous one; after `gatewayctl keys finish` the next cold start refuses it.
#[tokio::test]
async fn during_a_key_rotation_the_previous_retell_and_link_keys_pass_and_retired_ones_are_refused() {
    use gateway_domain::capture::retell::signature;
    use gateway_domain::keys::KeyRing;
    use gatewayctl::KeysRequest;
    let s = stack().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&s.sdk);
    let run = ulid::Ulid::new();
    let retell_secret = gateway_local::store_key_ring(&s.sdk, &format!("e2e/{run}/retell"), &KeyRing::new(API_KEY))
        .await
        .unwrap();
    let link_secret = gateway_local::store_key_ring(
        &s.sdk,
        &format!("e2e/{run}/link"),
        &KeyRing::new(gateway_local::LINK_SIGNING_KEY),
    )
    .await
    .unwrap();
    const RETELL_NEW: &str = "key_e2e_retell_new_0123456789";
    const LINK_NEW: &str = "local-link-signing-key-new";
    // Retell's key: the gateway only checks it, so the new key is current at once.
    let said = gatewayctl::keys(
        &secrets,
        KeysRequest::Rotate {
            secret: retell_secret.clone(),
            new_key: format!("{RETELL_NEW}\n"),
        },
    )
    .await
    .unwrap();
    assert!(said.contains("also accepted"), "{said}");
    assert!(!said.contains(RETELL_NEW), "gatewayctl never prints a key: {said}");
    // The link key signs: the new one is accepted everywhere before anything signs with it.
    let said = gatewayctl::keys(
        &secrets,
        KeysRequest::Prepare {
            secret: link_secret.clone(),
            new_key: LINK_NEW.into(),
        },
    )
    .await
    .unwrap();
    assert!(!said.contains(LINK_NEW), "{said}");
    let prepared = gateway_adapters::secrets::read_ring(&secrets, &link_secret)
        .await
        .unwrap();
    assert_eq!(
        prepared.current(),
        gateway_local::LINK_SIGNING_KEY,
        "the old key still signs"
    );
    assert_eq!(prepared.previous(), Some(LINK_NEW), "the new key is accepted");
    gatewayctl::keys(
        &secrets,
        KeysRequest::Promote {
            secret: link_secret.clone(),
        },
    )
    .await
    .unwrap();
    // A second rotation before the first is finished would drop a key still in use.
    let refused = gatewayctl::keys(
        &secrets,
        KeysRequest::Rotate {
            secret: retell_secret.clone(),
            new_key: "key_e2e_retell_newer_0123456789".into(),
        },
    )
    .await;
    assert!(matches!(refused, Err(gatewayctl::CtlError::Invalid(_))), "{refused:?}");

    // A fresh container: the keys as the function reads them at cold start.
    let cold_start = || async {
        let mut rings = gateway_adapters::secrets::load(
            &secrets,
            [
                ("RETELL_API_KEY_SECRET_ARN".to_string(), retell_secret.clone()),
                ("LINK_SIGNING_KEY_SECRET_ARN".to_string(), link_secret.clone()),
                ("TABLE_NAME".to_string(), "not a secret".to_string()),
            ],
        )
        .await
        .unwrap();
        let mut config = gateway_local::ingest_config(
            &s.resources,
            rings.remove("RETELL_API_KEY").unwrap(),
            gateway_domain::ssrf::UrlPolicy::local(vec![]),
        );
        let (bucket, _) = config.recording_links.clone().unwrap();
        config.recording_links = Some((bucket, rings.remove("LINK_SIGNING_KEY").unwrap()));
        assert!(rings.is_empty(), "only *_SECRET_ARN variables name secrets");
        ingest::App::new(&config, &s.sdk).into_router()
    };
    let rotating = cold_start().await;

    let send = |req| tower::ServiceExt::oneshot(rotating.clone(), req);
    let now = chrono::Utc::now().timestamp_millis() as u64;

    let retired = signature::sign("key_e2e_retell_retired", ANALYZED.as_bytes(), now);
    let resp = send(request("/webhooks/retell", ANALYZED, Some(retired)))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(s.store.list_cases(&company_id(COMPANY)).await.unwrap().is_empty());

    // Signed with the previous key (Retell not switched yet): captured.
    let resp = send(request("/webhooks/retell", ANALYZED, Some(sign(ANALYZED))))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(s.store.list_cases(&company_id(COMPANY)).await.unwrap().len(), 1);

    // A case link signed before the rotation still opens the page; a retired key's does not.
    let path = gateway_domain::links::case_path(&company_id(COMPANY), &call_id(CALL_ID));
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let get = |uri: String| {
        lambda_http::http::Request::builder()
            .method("GET")
            .uri(uri)
            .body(lambda_http::Body::Empty)
            .unwrap()
    };
    let by_previous = gateway_domain::links::sign("", gateway_local::LINK_SIGNING_KEY, &path, expires);
    assert_eq!(send(get(by_previous)).await.unwrap().status(), StatusCode::OK);
    let by_retired = gateway_domain::links::sign("", "local-link-signing-key-retired", &path, expires);
    assert_eq!(send(get(by_retired)).await.unwrap().status(), StatusCode::FORBIDDEN);

    // Retell switched: the rotation is finished, the next cold start knows only the new keys.
    for secret in [&retell_secret, &link_secret] {
        let said = gatewayctl::keys(&secrets, KeysRequest::Finish { secret: secret.clone() })
            .await
            .unwrap();
        assert!(said.contains("no rotation under way"), "{said}");
    }
    let finished = cold_start().await;
    let send = |req| tower::ServiceExt::oneshot(finished.clone(), req);
    let by_old_key = signature::sign(API_KEY, ANALYZED.as_bytes(), now);
    let resp = send(request("/webhooks/retell", ANALYZED, Some(by_old_key)))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "the replaced key is retired");
    let by_new_key = signature::sign(RETELL_NEW, ANALYZED.as_bytes(), now);
    let resp = send(request("/webhooks/retell", ANALYZED, Some(by_new_key)))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let by_previous = gateway_domain::links::sign("", gateway_local::LINK_SIGNING_KEY, &path, expires);
    assert_eq!(send(get(by_previous)).await.unwrap().status(), StatusCode::FORBIDDEN);
    let by_new = gateway_domain::links::sign("", "local-link-signing-key-new", &path, expires);
    assert_eq!(send(get(by_new)).await.unwrap().status(), StatusCode::OK);
}
