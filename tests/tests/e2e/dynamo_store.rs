//! The DynamoDB adapter's guarantees, against the emulator: conditional writes that keep one
//! case per call, the hand-off lease, optimistic content updates and per-company counters.

use chrono::{Duration, Utc};
use gateway_domain::capture;
use gateway_domain::ports::{CaseStore, ConfigStore, CreateOutcome};
use gateway_domain::retell::payload::{WebhookEnvelope, parse_json};
use gateway_domain::tenant::RouteKey;
use gateway_e2e::*;

async fn draft(s: &Stack) -> (gateway_domain::case::ServiceCase, gateway_domain::ports::CallEvent) {
    let tenant = s.store.tenant(COMPANY).await.unwrap().expect("tenant");
    let envelope: WebhookEnvelope = parse_json(ANALYZED.as_bytes()).unwrap();
    let call = envelope.call.unwrap();
    let case = capture::from_analysis(&tenant, &call, CALL_ID, Utc::now());
    let event = gateway_domain::ports::CallEvent::new(Some(COMPANY), CALL_ID, "call_analyzed", Utc::now());
    (case, event)
}

#[tokio::test]
async fn tenant_configuration_round_trips() {
    let s = stack().await;
    let spec = nordit();
    let tenant = s.store.tenant(COMPANY).await.unwrap().unwrap();
    assert_eq!(tenant.config, spec.company);
    assert_eq!(tenant.categories.len(), spec.categories.len());
    for c in &spec.categories {
        assert_eq!(tenant.category(&c.slug), Some(c));
    }
    let agent = RouteKey::Agent(spec.routes.agents[0].clone());
    assert_eq!(s.store.company_for(&agent).await.unwrap().as_deref(), Some(COMPANY));
    assert_eq!(
        s.store
            .company_for(&RouteKey::Phone("+4951112345670".into()))
            .await
            .unwrap()
            .as_deref(),
        Some(COMPANY)
    );
    assert_eq!(
        s.store
            .company_for(&RouteKey::Agent("agent_other".into()))
            .await
            .unwrap(),
        None
    );
    assert!(s.store.tenant("someone-else").await.unwrap().is_none());
}

#[tokio::test]
async fn the_guard_returns_the_stored_case_and_the_lease_serialises_the_hand_off() {
    let s = stack().await;
    let (mut case, event) = draft(&s).await;
    let now = Utc::now().timestamp_millis();
    case.handoff_lease_until = now + 15_000;
    assert_eq!(
        s.store.create_case(&case, &event).await.unwrap(),
        CreateOutcome::Created
    );
    let mut other = case.clone();
    other.case_id = "another".into();
    match s.store.create_case(&other, &event).await.unwrap() {
        CreateOutcome::Exists(stored) => assert_eq!(stored.case_id, case.case_id),
        CreateOutcome::Created => panic!("a second case for the same call"),
    }
    assert!(
        !s.store
            .claim_handoff(COMPANY, CALL_ID, now, now + 15_000)
            .await
            .unwrap(),
        "lease still held"
    );
    assert!(
        s.store
            .claim_handoff(COMPANY, CALL_ID, now + 16_000, now + 31_000)
            .await
            .unwrap(),
        "expired lease"
    );
    assert!(
        !s.store
            .claim_handoff(COMPANY, CALL_ID, now + 17_000, now + 32_000)
            .await
            .unwrap(),
        "just claimed"
    );
    s.store
        .complete_handoff(COMPANY, CALL_ID, "TKT-2026-00001", Utc::now())
        .await
        .unwrap();
    assert!(
        !s.store
            .claim_handoff(COMPANY, CALL_ID, now + 99_000, now + 120_000)
            .await
            .unwrap(),
        "handed off"
    );
    let stored = s.store.get_case(COMPANY, CALL_ID).await.unwrap().unwrap();
    assert_eq!(stored.ticket_ref.as_deref(), Some("TKT-2026-00001"));
    assert!(stored.is_handed_off());
    assert_eq!(stored.handoff_lease_until, 0);
}

#[tokio::test]
async fn content_updates_are_optimistic_and_leave_the_hand_off_alone() {
    let s = stack().await;
    let (case, event) = draft(&s).await;
    s.store.create_case(&case, &event).await.unwrap();
    s.store
        .complete_handoff(COMPANY, CALL_ID, "TKT-2026-00007", Utc::now())
        .await
        .unwrap();
    let mut edited = case.clone();
    edited.subject = "Geänderter Betreff – mit Umlauten & \"Zitaten\"".into();
    edited.updated_at = Utc::now() + Duration::seconds(1);
    assert!(s.store.update_content(&edited, 0).await.unwrap());
    assert!(
        !s.store.update_content(&edited, 0).await.unwrap(),
        "stale version is refused"
    );
    let stored = s.store.get_case(COMPANY, CALL_ID).await.unwrap().unwrap();
    assert_eq!(stored.subject, edited.subject);
    assert_eq!(stored.version, 1);
    assert_eq!(
        stored.ticket_ref.as_deref(),
        Some("TKT-2026-00007"),
        "hand-off fields untouched"
    );
}

#[tokio::test]
async fn ticket_counters_are_per_company_and_year() {
    let s = stack().await;
    assert_eq!(s.store.next_ticket_number(COMPANY, 2026).await.unwrap(), 1);
    assert_eq!(s.store.next_ticket_number(COMPANY, 2026).await.unwrap(), 2);
    assert_eq!(s.store.next_ticket_number(COMPANY, 2027).await.unwrap(), 1);
    assert_eq!(s.store.next_ticket_number("kanzlei-berg", 2026).await.unwrap(), 1);
}

/// Concurrent tickets get distinct numbers. This leans on DynamoDB's atomic `ADD`, which plain
/// moto lacks under concurrency (`infra/moto_server.py` restores it).
#[tokio::test]
async fn concurrent_ticket_numbers_are_distinct() {
    let s = std::sync::Arc::new(stack().await);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.store.next_ticket_number(COMPANY, 2026).await.unwrap() })
        })
        .collect();
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=100).collect::<Vec<u64>>());
}

/// E-mail progress (no `sent_at`) can be saved again and again; once a channel is delivered,
/// nothing overwrites it.
#[tokio::test]
async fn channel_progress_is_saved_until_the_channel_is_delivered() {
    use gateway_domain::case::{Channel, ChannelState};
    let s = stack().await;
    s.post("/webhooks/retell", ANALYZED).await;
    let progress = |recipients: &[&str]| ChannelState {
        sent_at: None,
        external_id: Some("m-1".into()),
        recipients: recipients.iter().map(|r| r.to_string()).collect(),
    };
    let save = |state: ChannelState| {
        let store = s.store.clone();
        async move {
            store
                .save_channel_state(COMPANY, CALL_ID, Channel::Email, &state)
                .await
                .unwrap()
        }
    };
    assert!(save(progress(&["a@x.example"])).await);
    assert!(save(progress(&["a@x.example", "b@x.example"])).await);
    let done = ChannelState {
        sent_at: Some(Utc::now()),
        ..progress(&["a@x.example", "b@x.example"])
    };
    assert!(save(done.clone()).await);
    assert!(
        !save(progress(&["c@x.example"])).await,
        "a delivered channel is not overwritten"
    );
    let email = s
        .store
        .get_case(COMPANY, CALL_ID)
        .await
        .unwrap()
        .unwrap()
        .delivery
        .email
        .unwrap();
    assert_eq!(email.recipients, done.recipients);
    assert!(email.sent_at.is_some());
}
