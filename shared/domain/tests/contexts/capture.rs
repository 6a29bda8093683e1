//! Capture against in-memory ports: routing, modes, one case per call, hand-off retries.

use chrono::Duration;
use gateway_domain::call_event::{CallEvent, CallEventReader};
use gateway_domain::capture::CaptureStore;
use gateway_domain::capture::draft;
use gateway_domain::capture::handoff::Handoff;
use gateway_domain::capture::retell::signature;
use gateway_domain::case::{CaseReader, ServiceCase};
use gateway_domain::clock::Clock;
use gateway_domain::deadline::Deadline;
use gateway_domain::ids::{CallId, CompanyId, TicketRef};
use gateway_domain::tenancy::{ConfigStore, RouteKey, Tenant};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use gateway_domain::capture::service::*;
use gateway_domain::capture::*;
use gateway_domain::case::{CaptureSource, Priority};
use gateway_domain::tenancy::tenant::{CompanyConfig, GatewayMode, TenantSpec};
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryQueue};

const KEY: &str = "key_test_retell";
const ANALYZED: &str = include_str!("../../../../events/retell/call_analyzed.json");
const FINALIZE: &str = include_str!("../../../../events/retell/finalize_ticket.json");
const NORDIT: &str = include_str!("../../../../infra/tenants/nordit.yaml");
const CALL_ID: &str = "call_4b9e2f71c08d3a6e5f1b27c9d04";

struct World {
    ingest: Ingest,
    cases: Arc<MemoryCaseStore>,
    config: Arc<MemoryConfigStore>,
    queue: Arc<MemoryQueue>,
    clock: Arc<FixedClock>,
}

fn world() -> World {
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    let queue = Arc::new(MemoryQueue::default());
    let clock = Arc::new(FixedClock::new(Utc.with_ymd_and_hms(2026, 11, 18, 13, 5, 0).unwrap()));
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    for route in spec.route_keys() {
        config.put_route(route, &spec.company.company_id);
    }
    config.put_tenant(spec.tenant().unwrap());
    let ports = Ports {
        cases: cases.clone(),
        config: config.clone(),
        queue: queue.clone(),
        clock: clock.clone(),
    };
    World {
        ingest: Ingest::new(IngestSettings::new(KEY), ports),
        cases,
        config,
        queue,
        clock,
    }
}

impl World {
    fn sign(&self, body: &str) -> String {
        signature::sign(KEY, body.as_bytes(), self.clock.now().timestamp_millis() as u64)
    }

    async fn webhook(&self, body: &str) -> Result<WebhookReply, IngestError> {
        self.ingest.webhook(body.as_bytes(), Some(&self.sign(body))).await
    }

    async fn function(&self, body: &str) -> Result<FinalizeReply, IngestError> {
        let reply = self
            .ingest
            .function(body.as_bytes(), Some(&self.sign(body)), Deadline::none())
            .await?;
        Ok(FinalizeReply {
            success: reply["success"].as_bool().expect("success"),
            ticket_id: reply["ticket_id"].as_str().map(TicketRef::new),
            message: reply["message"].as_str().expect("message").to_string(),
            idempotent: reply["idempotent"].as_bool().expect("idempotent"),
        })
    }

    async fn ack(&self, body: &str) -> WebhookAck {
        match self.webhook(body).await.unwrap() {
            WebhookReply::Ack(a) => a,
            other => panic!("expected an ack, got {other:?}"),
        }
    }

    async fn cases_of(&self, company: &str) -> Vec<ServiceCase> {
        self.cases.cases_of(&CompanyId::new(company))
    }
}

fn with_event(fixture: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(fixture).unwrap();
    f(&mut v);
    serde_json::to_string(&v).unwrap()
}

#[tokio::test]
async fn call_analyzed_captures_a_complete_case_and_enqueues_it_delayed() {
    let w = world();
    let ack = w.ack(ANALYZED).await;
    assert_eq!(ack.status, AckStatus::Captured);
    assert_eq!(ack.ticket_id.as_deref(), Some("TKT-2026-00001"));
    let cases = w.cases_of("nordit-hannover").await;
    assert_eq!(cases.len(), 1);
    let c = &cases[0];
    assert_eq!(
        c.category.as_deref(),
        Some("print"),
        "flow slug 'drucker' names the print category"
    );
    assert_eq!(c.priority, Priority::High, "urgency 'hoch' and six affected users");
    assert_eq!(c.caller.caller_id.as_deref(), Some("+4951187654321"));
    assert!(c.analysis.summary.as_deref().unwrap().contains("Kyocera"));
    assert_eq!(c.analysis.sentiment.as_deref(), Some("Neutral"));
    assert_eq!(c.transcript.len(), 9);
    assert_eq!(c.call.duration_ms, Some(66_840));
    assert!(c.sla_response_due_at.is_some());
    let json = serde_json::to_string(c).unwrap();
    assert!(
        !json.contains("recording.wav"),
        "Retell's recording URL never lives on the case"
    );
    let sent = w.queue.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].1, 90);
    assert_eq!(sent[0].0.case_id, c.case_id);
    let events = w
        .cases
        .call_events(Some(&CompanyId::new("nordit-hannover")), &CallId::new(CALL_ID))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(
        events[0]
            .recording
            .recording_url
            .as_deref()
            .unwrap()
            .ends_with("recording.wav")
    );
}

#[tokio::test]
async fn every_lifecycle_event_is_recorded_once_per_kind() {
    let w = world();
    for fixture in [
        include_str!("../../../../events/retell/call_started.json"),
        include_str!("../../../../events/retell/call_ended.json"),
        include_str!("../../../../events/retell/transcript_updated.json"),
        include_str!("../../../../events/retell/transfer_started.json"),
    ] {
        let ack = w.ack(fixture).await;
        assert_eq!(ack.status, AckStatus::Recorded, "{}", ack.event);
        w.ack(fixture).await; // Retell's retry overwrites, it does not add.
    }
    for kind in [
        "transfer_bridged",
        "transfer_cancelled",
        "transfer_ended",
        "some_future_event",
    ] {
        let body = with_event(include_str!("../../../../events/retell/call_started.json"), |v| {
            v["event"] = json!(kind)
        });
        assert_eq!(w.ack(&body).await.status, AckStatus::Recorded, "{kind}");
    }
    let events = w
        .cases
        .call_events(Some(&CompanyId::new("nordit-hannover")), &CallId::new(CALL_ID))
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    for kind in [
        "call_started",
        "call_ended",
        "transcript_updated",
        "transfer_started",
        "transfer_ended",
        "some_future_event",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!(events.len(), 8);
    assert_eq!(
        events
            .iter()
            .find(|e| e.event == "transfer_started")
            .unwrap()
            .discriminator
            .as_deref(),
        Some("+4951112345699")
    );
    assert!(
        w.cases_of("nordit-hannover").await.is_empty(),
        "only call_analyzed and finalize_ticket create cases"
    );
    assert!(w.queue.sent().is_empty());
}

#[tokio::test]
async fn finalize_ticket_answers_with_the_reference_in_german() {
    let w = world();
    let reply = w.function(FINALIZE).await.unwrap();
    assert!(reply.success);
    assert_eq!(reply.ticket_id.as_deref(), Some("TKT-2026-00001"));
    assert!(reply.message.contains("TKT-2026-00001") && reply.message.contains("Ticket"));
    assert!(!reply.idempotent);
    let c = &w.cases_of("nordit-hannover").await[0];
    assert_eq!(c.caller.name.as_deref(), Some("Jonas Weber"));
    assert_eq!(c.caller.company.as_deref(), Some("Brandt Elektrotechnik GmbH"));
    assert_eq!(c.caller.phone.as_deref(), Some("+4951187654321"));
    assert_eq!(c.caller.location.as_deref(), Some("Hannover, 2. OG"));
    assert_eq!(c.caller.others_affected, Some(true));
    assert_eq!(c.priority, Priority::High);
    assert_eq!(c.category.as_deref(), Some("print"));
    assert_eq!(c.captured_by, vec![CaptureSource::FinalizeTicket]);
    // Retell retries the tool call: same ticket, still one case, still one message.
    let again = w.function(FINALIZE).await.unwrap();
    assert_eq!(again.ticket_id.as_deref(), Some("TKT-2026-00001"));
    assert!(again.idempotent);
    assert_eq!(w.cases_of("nordit-hannover").await.len(), 1);
    assert_eq!(w.queue.sent().len(), 1);
}

#[tokio::test]
async fn finalize_then_call_analyzed_makes_one_case_holding_both() {
    let w = world();
    w.function(FINALIZE).await.unwrap();
    let ack = w.ack(ANALYZED).await;
    assert_eq!(ack.status, AckStatus::Completed);
    assert_eq!(ack.ticket_id.as_deref(), Some("TKT-2026-00001"));
    let cases = w.cases_of("nordit-hannover").await;
    assert_eq!(cases.len(), 1);
    let c = &cases[0];
    assert_eq!(
        c.captured_by,
        vec![CaptureSource::FinalizeTicket, CaptureSource::CallAnalyzed]
    );
    assert!(
        c.description.starts_with("Der Etagendrucker Kyocera"),
        "the agent's description stays"
    );
    assert!(c.analysis.summary.is_some(), "the analysis was added");
    assert_eq!(c.transcript.len(), 9);
    assert_eq!(c.caller.email.as_deref(), Some("j.weber@brandt-elektro.example"));
    assert_eq!(w.queue.sent().len(), 1, "the second path does not enqueue again");
    assert_eq!(w.ack(ANALYZED).await.status, AckStatus::Duplicate);
}

#[tokio::test]
async fn call_analyzed_then_finalize_also_merges() {
    let w = world();
    w.ack(ANALYZED).await;
    let reply = w.function(FINALIZE).await.unwrap();
    assert!(reply.idempotent);
    let c = &w.cases_of("nordit-hannover").await[0];
    assert_eq!(c.caller.name.as_deref(), Some("Jonas Weber"));
    assert!(c.description.starts_with("Der Etagendrucker Kyocera"));
    assert_eq!(w.queue.sent().len(), 1);
}

#[tokio::test]
async fn twenty_concurrent_identical_deliveries_make_one_case_and_one_message() {
    let w = Arc::new(world());
    let body = Arc::new(ANALYZED.to_string());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (w, body) = (w.clone(), body.clone());
            tokio::spawn(async move { w.webhook(&body).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(matches!(e, IngestError::InProgress(_)), "{e:?}"),
        }
    }
    assert!(ok >= 1);
    assert_eq!(w.cases_of("nordit-hannover").await.len(), 1);
    assert_eq!(w.queue.sent().len(), 1);
}

#[tokio::test]
async fn failed_enqueue_answers_retryable_and_the_retry_enqueues_once() {
    let w = world();
    w.queue.fail_next(1);
    let err = w.webhook(ANALYZED).await.unwrap_err();
    assert!(matches!(err, IngestError::Enqueue(_)) && err.is_retryable(), "{err:?}");
    assert_eq!(w.cases_of("nordit-hannover").await.len(), 1, "the case is kept");
    assert!(w.queue.sent().is_empty());
    // Retell retries right away: the lease was released, so the retry finishes the hand-off.
    let ack = w.ack(ANALYZED).await;
    assert_eq!(ack.status, AckStatus::Duplicate);
    assert!(ack.ticket_id.is_some());
    assert_eq!(w.queue.sent().len(), 1);
    assert_eq!(w.cases_of("nordit-hannover").await.len(), 1);
    w.ack(ANALYZED).await;
    assert_eq!(w.queue.sent().len(), 1, "a further retry does not enqueue again");
}

#[tokio::test]
async fn an_abandoned_hand_off_is_finished_by_a_retry_after_the_lease() {
    let w = world();
    // Simulate a request that wrote the case and died before enqueueing (lease still held).
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    let call: gateway_domain::capture::retell::payload::WebhookEnvelope = serde_json::from_str(ANALYZED).unwrap();
    let call_id = CallId::new(CALL_ID);
    let mut draft = draft::from_analysis(
        &spec.tenant().unwrap(),
        call.call.as_ref().unwrap(),
        &call_id,
        w.clock.now(),
    );
    draft.handoff_lease_until = (w.clock.now() + Duration::seconds(15)).timestamp_millis();
    let record = CallEvent::new(Some(&draft.company_id), &call_id, "call_analyzed", w.clock.now());
    w.cases.create_case(&draft, &record).await.unwrap();
    let err = w.webhook(ANALYZED).await.unwrap_err();
    assert!(matches!(err, IngestError::InProgress(_)), "{err:?}");
    w.clock.advance(Duration::seconds(16));
    let ack = w.ack(ANALYZED).await;
    assert!(ack.ticket_id.is_some());
    assert_eq!(w.queue.sent().len(), 1);
}

/// A request that wrote the case and died (Retell's retries all came while its lease held): the
/// sweep finds the case once the lease has expired and hands it off, exactly once.
#[tokio::test]
async fn the_sweep_hands_off_a_case_whose_request_died_and_only_once() {
    let w = world();
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    let call: gateway_domain::capture::retell::payload::WebhookEnvelope = serde_json::from_str(ANALYZED).unwrap();
    let call_id = CallId::new(CALL_ID);
    let mut draft = draft::from_analysis(
        &spec.tenant().unwrap(),
        call.call.as_ref().unwrap(),
        &call_id,
        w.clock.now(),
    );
    draft.handoff_lease_until = (w.clock.now() + Duration::seconds(10)).timestamp_millis();
    let record = CallEvent::new(Some(&draft.company_id), &call_id, "call_analyzed", w.clock.now());
    w.cases.create_case(&draft, &record).await.unwrap();
    let sweep = Handoff {
        cases: w.cases.clone(),
        queue: w.queue.clone(),
        clock: w.clock.clone(),
        lease: Duration::seconds(10),
    };
    let report = sweep.sweep(w.config.as_ref(), 100).await.unwrap();
    assert_eq!(report.handed_off, 0, "too young: its request may still be at it");
    w.clock.advance(Duration::seconds(11));
    let report = sweep.sweep(w.config.as_ref(), 100).await.unwrap();
    assert_eq!((report.pending, report.handed_off), (1, 1));
    let case = w.cases.get_case(&draft.company_id, &call_id).await.unwrap().unwrap();
    assert!(case.is_handed_off() && case.ticket_ref.is_some());
    assert_eq!(w.queue.sent().len(), 1);
    let report = sweep.sweep(w.config.as_ref(), 100).await.unwrap();
    assert_eq!(report.pending, 0, "handed off: off the list");
    let ack = w.ack(ANALYZED).await;
    assert_eq!(
        ack.ticket_id, case.ticket_ref,
        "a late Retell retry gets the same ticket"
    );
    assert_eq!(w.queue.sent().len(), 1, "and enqueues nothing more");
}

#[tokio::test]
async fn tenant_is_resolved_by_agent_then_by_called_number() {
    let w = world();
    let by_number = with_event(ANALYZED, |v| v["call"]["agent_id"] = json!("agent_unknown"));
    assert_eq!(w.ack(&by_number).await.status, AckStatus::Captured);
    let outbound = with_event(include_str!("../../../../events/retell/call_started.json"), |v| {
        v["call"]["agent_id"] = json!("agent_unknown");
        v["call"]["direction"] = json!("outbound");
        v["call"]["from_number"] = json!("+4951112345670");
        v["call"]["to_number"] = json!("+4917612345678");
        v["call"]["call_id"] = json!("call_outbound");
    });
    assert_eq!(
        w.ack(&outbound).await.status,
        AckStatus::Recorded,
        "outbound calls route by the caller number"
    );
    assert_eq!(
        w.cases
            .call_events(Some(&CompanyId::new("nordit-hannover")), &CallId::new("call_outbound"))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_agent_and_number_are_kept_as_unrouted_with_the_body() {
    let w = world();
    let body = with_event(ANALYZED, |v| {
        v["call"]["agent_id"] = json!("agent_nobody");
        v["call"]["to_number"] = json!("+4930999999");
    });
    let ack = w.ack(&body).await;
    assert_eq!(ack.status, AckStatus::Unrouted);
    let events = w.cases.call_events(None, &CallId::new(CALL_ID)).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].raw_body.as_deref(),
        Some(body.as_str()),
        "an operator can replay it"
    );
    assert!(w.queue.sent().is_empty());
    let mut unrouted_fn: Value = serde_json::from_str(FINALIZE).unwrap();
    unrouted_fn["call"]["agent_id"] = json!("agent_nobody");
    unrouted_fn["call"]["to_number"] = json!("+4930999999");
    let reply = w.function(&unrouted_fn.to_string()).await.unwrap();
    assert!(!reply.success && reply.ticket_id.is_none());
}

#[tokio::test]
async fn call_inbound_answers_with_date_variables_and_the_company_name() {
    let w = world();
    let reply = w
        .webhook(include_str!("../../../../events/retell/call_inbound.json"))
        .await
        .unwrap();
    let WebhookReply::Inbound(v) = reply else {
        panic!("expected inbound answer")
    };
    let vars = &v["call_inbound"]["dynamic_variables"];
    assert_eq!(vars["company_name"], "NordIT Systemhaus GmbH");
    assert_eq!(vars["current_date"], "2026-11-18");
    assert_eq!(vars["current_time"], "14:05");
    assert_eq!(vars["current_weekday"], "Mittwoch");
    let unknown = with_event(include_str!("../../../../events/retell/call_inbound.json"), |v| {
        v["call_inbound"]["agent_id"] = json!("agent_nobody");
        v["call_inbound"]["to_number"] = json!("+4930999999");
    });
    let WebhookReply::Inbound(v) = w.webhook(&unknown).await.unwrap() else {
        panic!()
    };
    assert!(v["call_inbound"]["dynamic_variables"].get("company_name").is_none());
    assert_eq!(v["call_inbound"]["dynamic_variables"]["current_date"], "2026-11-18");
}

#[tokio::test]
async fn appointment_and_hybrid_modes() {
    let w = world();
    let mut tenant = w
        .config
        .tenant(&CompanyId::new("nordit-hannover"))
        .await
        .unwrap()
        .unwrap();
    tenant.config.mode = GatewayMode::Appointment;
    w.config.put_tenant(tenant.clone());
    assert_eq!(w.ack(ANALYZED).await.status, AckStatus::Acknowledged);
    assert!(w.cases_of("nordit-hannover").await.is_empty());

    tenant.config.mode = GatewayMode::Hybrid;
    w.config.put_tenant(tenant);
    let booking = with_event(ANALYZED, |v| {
        v["call"]["call_id"] = json!("call_booking");
        v["call"]["transcript_object"] =
            json!([{"role": "user", "content": "Ich möchte einen Termin für nächste Woche vereinbaren."}]);
        v["call"]["call_analysis"] = json!({"call_summary": "Der Anrufer möchte einen Beratungstermin buchen."});
    });
    assert_eq!(w.ack(&booking).await.status, AckStatus::Acknowledged);
    let outage = with_event(ANALYZED, |v| v["call"]["call_id"] = json!("call_outage"));
    assert_eq!(w.ack(&outage).await.status, AckStatus::Captured);
    let explicit = with_event(&booking, |v| {
        v["call"]["call_id"] = json!("call_explicit");
        v["call"]["call_analysis"]["custom_analysis_data"] =
            json!({"intent": "service_desk", "problem_description": "Beamer defekt"});
    });
    assert_eq!(w.ack(&explicit).await.status, AckStatus::Captured);
    assert_eq!(w.cases_of("nordit-hannover").await.len(), 2);
}

#[tokio::test]
async fn voicemail_makes_no_case() {
    let w = world();
    let body = with_event(ANALYZED, |v| v["call"]["call_analysis"]["in_voicemail"] = json!(true));
    assert_eq!(w.ack(&body).await.status, AckStatus::Recorded);
    assert!(w.cases_of("nordit-hannover").await.is_empty());
}

#[tokio::test]
async fn bad_requests_name_the_problem() {
    let w = world();
    let cases: [(&str, &str); 5] = [
        (r#"{"call":{"call_id":"x"}}"#, "event"),
        (r#"{"event":"call_ended"}"#, "call"),
        (r#"{"event":"call_ended","call":{"agent_id":"a"}}"#, "call.call_id"),
        (r#"{"event":"call_ended","call":{"call_id":7}}"#, "call.call_id"),
        ("{oops", "body"),
    ];
    for (body, field) in cases {
        match w.webhook(body).await {
            Err(IngestError::BadRequest { field: f, .. }) => assert_eq!(f, field, "{body}"),
            other => panic!("{body}: {other:?}"),
        }
    }
    let no_description = with_event(FINALIZE, |v| {
        v["args"].as_object_mut().unwrap().remove("problem_description");
    });
    assert!(
        matches!(w.function(&no_description).await, Err(IngestError::BadRequest { ref field, .. }) if field == "args.problem_description")
    );
    let unknown = with_event(FINALIZE, |v| v["name"] = json!("order_pizza"));
    assert!(matches!(w.function(&unknown).await, Err(IngestError::UnknownFunction(ref n)) if n == "order_pizza"));
    let versioned = with_event(FINALIZE, |v| v["name"] = json!("finalize_ticket_v3"));
    assert!(w.function(&versioned).await.unwrap().success);
}

#[tokio::test]
async fn signatures_and_size_are_checked_before_anything_else() {
    let w = world();
    let now = w.clock.now().timestamp_millis() as u64;
    let stale = signature::sign(KEY, ANALYZED.as_bytes(), now - 300_001);
    for sig in [
        None,
        Some("garbage".to_string()),
        Some(stale),
        Some(signature::sign("other", ANALYZED.as_bytes(), now)),
    ] {
        let err = w.ingest.webhook(ANALYZED.as_bytes(), sig.as_deref()).await.unwrap_err();
        assert!(matches!(err, IngestError::Unauthorized(_)), "{sig:?}: {err:?}");
        let err = w
            .ingest
            .function(FINALIZE.as_bytes(), sig.as_deref(), Deadline::none())
            .await
            .unwrap_err();
        assert!(matches!(err, IngestError::Unauthorized(_)));
    }
    let tampered = ANALYZED.replace("Jonas", "Jonah");
    let err = w
        .ingest
        .webhook(tampered.as_bytes(), Some(&w.sign(ANALYZED)))
        .await
        .unwrap_err();
    assert!(matches!(err, IngestError::Unauthorized(_)));
    let huge = format!(
        "{{\"event\":\"call_ended\",\"pad\":\"{}\"}}",
        "x".repeat(MAX_BODY_BYTES)
    );
    assert!(matches!(
        w.webhook(&huge).await,
        Err(IngestError::PayloadTooLarge { .. })
    ));
    assert!(
        w.cases
            .call_events(Some(&CompanyId::new("nordit-hannover")), &CallId::new(CALL_ID))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_second_company_sees_nothing_of_the_first() {
    let w = world();
    let other = Tenant {
        config: CompanyConfig {
            company_id: "kanzlei-berg".into(),
            name: "Kanzlei Berg".into(),
            mode: GatewayMode::ServiceDesk,
            ..Default::default()
        },
        categories: vec![],
        ..Default::default()
    };
    w.config.put_tenant(other);
    w.config
        .put_route(RouteKey::Agent("agent_berg".into()), &CompanyId::new("kanzlei-berg"));
    w.ack(ANALYZED).await;
    let berg_call = with_event(ANALYZED, |v| {
        v["call"]["agent_id"] = json!("agent_berg");
        v["call"]["call_id"] = json!("call_berg_1");
    });
    let ack = w.ack(&berg_call).await;
    assert_eq!(
        ack.ticket_id.as_deref(),
        Some("TKT-2026-00001"),
        "each company counts its own tickets"
    );
    let berg = w.cases_of("kanzlei-berg").await;
    assert_eq!(berg.len(), 1);
    assert_eq!(berg[0].call_id, "call_berg_1");
    assert!(
        w.cases
            .get_case(&CompanyId::new("kanzlei-berg"), &CallId::new(CALL_ID))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        w.cases
            .call_events(Some(&CompanyId::new("kanzlei-berg")), &CallId::new(CALL_ID))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(berg[0].category, None, "no categories: no match, still a case");
}
