//! The contract every case store must keep, whatever its backend: run against the in-memory twin
//! (fast, in the domain's tests) and against DynamoDB on the emulator (the e2e tests), so the twin
//! the domain tests trust cannot drift from the real thing. Each check uses its own call ids, so
//! the suite can share a table with other tests.

use chrono::{DateTime, TimeZone, Utc};
use gateway_domain::alerting::{AlertChannel, AlertStore};
use gateway_domain::call_event::{CallEvent, CallEventReader};
use gateway_domain::capture::{CaptureStore, CapturedContent, CreateOutcome};
use gateway_domain::case::{Channel, ChannelState, Enrichment, EnrichmentStatus, OutputStatus, ServiceCase};
use gateway_domain::costs::{CostLedger, CostRecord, Month, ProviderCost};
use gateway_domain::delivery::template::sample_case;
use gateway_domain::delivery::{DeliveryStore, RedeliveryStore};
use gateway_domain::enrichment::customer::Customer;
use gateway_domain::enrichment::{CustomerStore, EnrichClaim, EnrichmentStore};
use gateway_domain::ids::{CallId, CaseId, CompanyId, TicketRef};

/// Everything a case store implements.
pub trait CaseStoreUnderTest:
    CaptureStore + CallEventReader + EnrichmentStore + DeliveryStore + RedeliveryStore + AlertStore + CostLedger
{
}

impl<T> CaseStoreUnderTest for T where
    T: CaptureStore + CallEventReader + EnrichmentStore + DeliveryStore + RedeliveryStore + AlertStore + CostLedger
{
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 18, 13, minute, 0)
        .single()
        .unwrap_or_default()
}

/// A fresh, not yet handed-off case of `company` for `call`.
pub fn new_case(company: &CompanyId, call: &str) -> ServiceCase {
    let mut case = sample_case();
    case.company_id = company.clone();
    case.call_id = CallId::new(call);
    case.call.call_id = case.call_id.clone();
    case.case_id = CaseId::new(format!("01J{}", call.to_uppercase()));
    case.ticket_ref = None;
    case.enqueued_at = None;
    case.enrichment_status = EnrichmentStatus::Pending;
    case.created_at = at(0);
    case.updated_at = at(0);
    case
}

fn event(company: Option<&CompanyId>, call: &CallId, kind: &str, minute: u32) -> CallEvent {
    let mut e = CallEvent::new(company, call, kind, at(minute));
    e.outcome = Some(format!("{kind} at {minute}"));
    e
}

/// Runs every check. `prefix` keeps this run's calls apart from other runs in a shared table.
pub async fn run_all<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    customers: &dyn CustomerStore,
    company: &CompanyId,
    other: &CompanyId,
    prefix: &str,
) {
    one_case_per_call(store, company, prefix).await;
    events_overwrite_per_type_and_stay_per_tenant(store, company, other, prefix).await;
    cost_entries_come_with_their_event_and_are_listed_by_month(store, company, other, prefix).await;
    a_merge_writes_only_what_capture_owns(store, company, prefix).await;
    a_stale_merge_is_refused(store, company, prefix).await;
    the_hand_off_lease(store, company, prefix).await;
    unfinished_hand_offs_are_listed_for_the_sweep(store, company, prefix).await;
    ticket_numbers_count_per_company_and_year(store, company, other).await;
    enrichment_moves_forward_only(store, company, prefix).await;
    a_delivered_channel_is_never_overwritten(store, company, prefix).await;
    failure_and_alerts_once(store, company, prefix).await;
    redelivery_resets_the_named_channels(store, company, prefix).await;
    customers_are_found_within_their_company(customers, company, other, prefix).await;
}

pub async fn one_case_per_call<S: CaseStoreUnderTest + ?Sized>(store: &S, company: &CompanyId, prefix: &str) {
    let case = new_case(company, &format!("{prefix}_one"));
    let first = event(Some(company), &case.call_id, "call_analyzed", 1);
    assert_eq!(store.create_case(&case, &first).await.unwrap(), CreateOutcome::Created);
    let mut second = case.clone();
    second.subject = "another subject".into();
    match store.create_case(&second, &first).await.unwrap() {
        CreateOutcome::Exists(stored) => assert_eq!(*stored, case, "the stored case comes back unchanged"),
        CreateOutcome::Created => panic!("a second case was created for one call"),
    }
    let stored = store.get_case(company, &case.call_id).await.unwrap();
    assert_eq!(stored.as_ref(), Some(&case));
    let events = store.call_events(Some(company), &case.call_id).await.unwrap();
    assert_eq!(events.len(), 1, "the case's event is written with it");
    assert!(
        store
            .get_case(company, &CallId::new(format!("{prefix}_none")))
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn events_overwrite_per_type_and_stay_per_tenant<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    other: &CompanyId,
    prefix: &str,
) {
    let call = CallId::new(format!("{prefix}_events"));
    store
        .record_event(&event(Some(company), &call, "call_started", 1))
        .await
        .unwrap();
    store
        .record_event(&event(Some(company), &call, "call_started", 2))
        .await
        .unwrap();
    let mut transfer = event(Some(company), &call, "transfer_started", 3);
    transfer.discriminator = Some("+4930123".into());
    store.record_event(&transfer).await.unwrap();
    store
        .record_event(&event(None, &call, "call_started", 4))
        .await
        .unwrap();
    let mut events = store.call_events(Some(company), &call).await.unwrap();
    events.sort_by_key(|e| e.received_at);
    let outcomes: Vec<_> = events.iter().map(|e| e.outcome.clone().unwrap_or_default()).collect();
    assert_eq!(
        outcomes,
        ["call_started at 2", "transfer_started at 3"],
        "a retry overwrites its event"
    );
    assert_eq!(
        store.call_events(None, &call).await.unwrap().len(),
        1,
        "unrouted events are kept apart"
    );
    assert!(
        store.call_events(Some(other), &call).await.unwrap().is_empty(),
        "another company sees none"
    );
}

/// Enrichment and a channel's `sent` mark land between a merge's read and its write: both
/// survive, because the merge writes only capture's attributes.
pub async fn a_merge_writes_only_what_capture_owns<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let case = new_case(company, &format!("{prefix}_merge"));
    store
        .create_case(
            &case,
            &event(Some(company), &case.call_id, "function:finalize_ticket", 1),
        )
        .await
        .unwrap();
    let snapshot = store.get_case(company, &case.call_id).await.unwrap().unwrap();
    // Other writers, meanwhile:
    store.claim_handoff(company, &case.call_id, 0, i64::MAX).await.unwrap();
    store
        .complete_handoff(company, &case.call_id, &TicketRef::format(2026, 7), at(2))
        .await
        .unwrap();
    assert!(matches!(
        store.begin_enrichment(company, &case.call_id).await.unwrap(),
        EnrichClaim::Started(_)
    ));
    let enrichment = Enrichment {
        audio_object_key: Some("c/case/recording.wav".into()),
        finished_at: Some(at(3)),
        ..Default::default()
    };
    assert!(
        store
            .finish_enrichment(company, &case.call_id, EnrichmentStatus::Enriched, &enrichment)
            .await
            .unwrap()
    );
    let sent = ChannelState {
        sent_at: Some(at(4)),
        external_id: Some("EXT-1".into()),
        recipients: Vec::new(),
    };
    assert!(
        store
            .save_channel_state(company, &case.call_id, Channel::Webhook, &sent)
            .await
            .unwrap()
    );
    store
        .mark_delivery_enqueued(company, &case.call_id, at(3))
        .await
        .unwrap();
    // The merge, from its (now stale) snapshot:
    let mut merged = snapshot.clone();
    merged.subject = "merged subject".into();
    merged.analysis.summary = Some("from call_analyzed".into());
    let content = CapturedContent::of(&merged);
    assert!(
        store
            .merge_content(company, &case.call_id, &content, snapshot.version)
            .await
            .unwrap()
    );
    let stored = store.get_case(company, &case.call_id).await.unwrap().unwrap();
    assert_eq!(stored.subject, "merged subject");
    assert_eq!(stored.analysis.summary.as_deref(), Some("from call_analyzed"));
    assert_eq!(stored.version, snapshot.version + 1, "the merge bumps the version");
    assert_eq!(
        stored.enrichment_status,
        EnrichmentStatus::Enriched,
        "enrichment survives the merge"
    );
    assert_eq!(stored.enrichment, enrichment);
    assert_eq!(stored.delivery.webhook, Some(sent), "the sent mark survives the merge");
    assert_eq!(
        stored.ticket_ref,
        Some(TicketRef::format(2026, 7)),
        "the hand-off survives the merge"
    );
    assert_eq!(stored.delivery_enqueued_at, Some(at(3)));
}

pub async fn a_stale_merge_is_refused<S: CaseStoreUnderTest + ?Sized>(store: &S, company: &CompanyId, prefix: &str) {
    let case = new_case(company, &format!("{prefix}_stale"));
    store
        .create_case(&case, &event(Some(company), &case.call_id, "call_analyzed", 1))
        .await
        .unwrap();
    let mut first = case.clone();
    first.subject = "first".into();
    assert!(
        store
            .merge_content(company, &case.call_id, &CapturedContent::of(&first), 0)
            .await
            .unwrap()
    );
    let mut second = case.clone();
    second.subject = "second".into();
    assert!(
        !store
            .merge_content(company, &case.call_id, &CapturedContent::of(&second), 0)
            .await
            .unwrap(),
        "a merge from an old version loses"
    );
    let stored = store.get_case(company, &case.call_id).await.unwrap().unwrap();
    assert_eq!((stored.subject.as_str(), stored.version), ("first", 1));
    let missing = CallId::new(format!("{prefix}_stale_missing"));
    assert!(
        !store
            .merge_content(company, &missing, &CapturedContent::of(&first), 0)
            .await
            .unwrap()
    );
}

pub async fn the_hand_off_lease<S: CaseStoreUnderTest + ?Sized>(store: &S, company: &CompanyId, prefix: &str) {
    let case = new_case(company, &format!("{prefix}_lease"));
    let call = &case.call_id;
    store
        .create_case(&case, &event(Some(company), call, "call_analyzed", 1))
        .await
        .unwrap();
    assert!(store.claim_handoff(company, call, 1_000, 16_000).await.unwrap());
    assert!(
        !store.claim_handoff(company, call, 2_000, 17_000).await.unwrap(),
        "the lease is held"
    );
    assert!(
        store.claim_handoff(company, call, 16_001, 31_000).await.unwrap(),
        "an expired lease is free"
    );
    store.release_handoff(company, call).await.unwrap();
    assert!(
        store.claim_handoff(company, call, 16_002, 31_000).await.unwrap(),
        "a released lease is free"
    );
    let ticket = TicketRef::format(2026, 1);
    store.complete_handoff(company, call, &ticket, at(2)).await.unwrap();
    let stored = store.get_case(company, call).await.unwrap().unwrap();
    assert!(stored.is_handed_off());
    assert_eq!(
        (stored.ticket_ref, stored.enqueued_at, stored.handoff_lease_until),
        (Some(ticket), Some(at(2)), 0)
    );
    assert!(
        !store
            .claim_handoff(company, call, i64::MAX - 1, i64::MAX)
            .await
            .unwrap(),
        "handed off: never again"
    );
    let missing = CallId::new(format!("{prefix}_lease_missing"));
    assert!(!store.claim_handoff(company, &missing, 0, 1).await.unwrap());
    assert!(
        store
            .complete_handoff(company, &missing, &TicketRef::format(2026, 2), at(2))
            .await
            .is_err()
    );
}

pub async fn unfinished_hand_offs_are_listed_for_the_sweep<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let case = new_case(company, &format!("{prefix}_sweep"));
    let call = &case.call_id;
    store
        .create_case(&case, &event(Some(company), call, "call_analyzed", 1))
        .await
        .unwrap();
    let listed = |list: Vec<(CompanyId, CallId)>| list.contains(&(company.clone(), call.clone()));
    assert!(
        listed(store.pending_handoffs(at(1), 1000).await.unwrap()),
        "a case not handed off is on the sweep's list"
    );
    assert!(
        !listed(store.pending_handoffs(at(0), 1000).await.unwrap()),
        "only cases created before the cut-off"
    );
    store.claim_handoff(company, call, 0, 1).await.unwrap();
    store
        .complete_handoff(company, call, &TicketRef::format(2026, 3), at(2))
        .await
        .unwrap();
    assert!(
        !listed(store.pending_handoffs(at(59), 1000).await.unwrap()),
        "a handed-off case leaves the list"
    );
}

pub async fn ticket_numbers_count_per_company_and_year<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    other: &CompanyId,
) {
    // A year no other check uses, so the numbers start at 1 in a shared table.
    let year = 1999;
    let mine: Vec<u64> = [
        store.next_ticket_number(company, year).await.unwrap(),
        store.next_ticket_number(company, year).await.unwrap(),
        store.next_ticket_number(company, year).await.unwrap(),
    ]
    .into();
    assert_eq!(mine, [1, 2, 3]);
    assert_eq!(
        store.next_ticket_number(company, year + 1).await.unwrap(),
        1,
        "a new year starts at 1"
    );
    assert_eq!(
        store.next_ticket_number(other, year).await.unwrap(),
        1,
        "each company counts for itself"
    );
}

pub async fn enrichment_moves_forward_only<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let case = new_case(company, &format!("{prefix}_enrich"));
    let call = &case.call_id;
    store
        .create_case(&case, &event(Some(company), call, "call_analyzed", 1))
        .await
        .unwrap();
    let info = Enrichment::default();
    assert!(
        !store
            .finish_enrichment(company, call, EnrichmentStatus::Enriched, &info)
            .await
            .unwrap(),
        "not enriching yet"
    );
    for _ in 0..2 {
        match store.begin_enrichment(company, call).await.unwrap() {
            EnrichClaim::Started(c) => assert_eq!(c.enrichment_status, EnrichmentStatus::Enriching),
            other => panic!("expected Started, got {other:?}"),
        }
    }
    assert!(
        store
            .finish_enrichment(company, call, EnrichmentStatus::Timeout, &info)
            .await
            .unwrap()
    );
    assert!(matches!(
        store.begin_enrichment(company, call).await.unwrap(),
        EnrichClaim::Finished(_)
    ));
    assert!(
        !store
            .finish_enrichment(company, call, EnrichmentStatus::Enriched, &info)
            .await
            .unwrap()
    );
    let stored = store.get_case(company, call).await.unwrap().unwrap();
    assert_eq!(
        stored.enrichment_status,
        EnrichmentStatus::Timeout,
        "a finished enrichment stays finished"
    );
    let missing = CallId::new(format!("{prefix}_enrich_missing"));
    assert_eq!(
        store.begin_enrichment(company, &missing).await.unwrap(),
        EnrichClaim::Missing
    );
}

pub async fn a_delivered_channel_is_never_overwritten<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let case = new_case(company, &format!("{prefix}_deliver"));
    let call = &case.call_id;
    store
        .create_case(&case, &event(Some(company), call, "call_analyzed", 1))
        .await
        .unwrap();
    let progress = ChannelState {
        sent_at: None,
        external_id: Some("m-1".into()),
        recipients: vec!["a@x.example".into()],
    };
    assert!(
        store
            .save_channel_state(company, call, Channel::Email, &progress)
            .await
            .unwrap()
    );
    let sent = ChannelState {
        sent_at: Some(at(5)),
        recipients: vec!["a@x.example".into(), "b@x.example".into()],
        ..progress.clone()
    };
    assert!(
        store
            .save_channel_state(company, call, Channel::Email, &sent)
            .await
            .unwrap()
    );
    assert!(
        !store
            .save_channel_state(company, call, Channel::Email, &progress)
            .await
            .unwrap(),
        "sent stays sent"
    );
    store
        .record_output_error(company, call, "webhook: HTTP 500")
        .await
        .unwrap();
    let stored = store.get_case(company, call).await.unwrap().unwrap();
    assert_eq!(stored.delivery.email, Some(sent));
    assert_eq!(stored.output_error.as_deref(), Some("webhook: HTTP 500"));
    assert_eq!(
        stored.output_status,
        OutputStatus::Pending,
        "an error while retrying keeps it pending"
    );
    store
        .mark_output_sent(company, call, Some("EXT-9"), at(6))
        .await
        .unwrap();
    let stored = store.get_case(company, call).await.unwrap().unwrap();
    assert_eq!(stored.output_status, OutputStatus::Sent);
    assert_eq!(stored.external_reference.as_deref(), Some("EXT-9"));
    assert_eq!((stored.output_sent_at, stored.output_error), (Some(at(6)), None));
}

pub async fn failure_and_alerts_once<S: CaseStoreUnderTest + ?Sized>(store: &S, company: &CompanyId, prefix: &str) {
    let case = new_case(company, &format!("{prefix}_alert"));
    let call = &case.call_id;
    store
        .create_case(&case, &event(Some(company), call, "call_analyzed", 1))
        .await
        .unwrap();
    assert!(
        store
            .mark_output_failed(company, call, "HTTP 410", at(7))
            .await
            .unwrap()
    );
    for channel in [AlertChannel::Email, AlertChannel::Slack] {
        assert!(store.mark_alerted(company, call, channel, at(8)).await.unwrap());
        assert!(
            !store.mark_alerted(company, call, channel, at(9)).await.unwrap(),
            "{} once",
            channel.as_str()
        );
    }
    let stored = store.get_case(company, call).await.unwrap().unwrap();
    assert_eq!(stored.output_status, OutputStatus::Failed);
    assert_eq!(stored.output_error.as_deref(), Some("HTTP 410"));
    assert_eq!(
        (stored.alerts.email_at, stored.alerts.slack_at),
        (Some(at(8)), Some(at(8)))
    );
    // A case that was sent is never marked failed.
    let sent = new_case(company, &format!("{prefix}_alert_sent"));
    store
        .create_case(&sent, &event(Some(company), &sent.call_id, "call_analyzed", 1))
        .await
        .unwrap();
    store
        .mark_output_sent(company, &sent.call_id, None, at(7))
        .await
        .unwrap();
    assert!(
        !store
            .mark_output_failed(company, &sent.call_id, "late", at(8))
            .await
            .unwrap()
    );
}

pub async fn redelivery_resets_the_named_channels<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let case = new_case(company, &format!("{prefix}_redeliver"));
    let call = &case.call_id;
    store
        .create_case(&case, &event(Some(company), call, "call_analyzed", 1))
        .await
        .unwrap();
    let sent = ChannelState {
        sent_at: Some(at(5)),
        ..Default::default()
    };
    for channel in [Channel::Email, Channel::Webhook] {
        store.save_channel_state(company, call, channel, &sent).await.unwrap();
    }
    store.mark_output_failed(company, call, "x", at(6)).await.unwrap();
    store
        .mark_alerted(company, call, AlertChannel::Email, at(6))
        .await
        .unwrap();
    store
        .reset_for_redelivery(company, call, &[Channel::Webhook])
        .await
        .unwrap();
    let stored = store.get_case(company, call).await.unwrap().unwrap();
    assert_eq!(stored.output_status, OutputStatus::Pending);
    assert!(
        stored.delivery.sent(Channel::Email),
        "channels not named keep their mark"
    );
    assert!(!stored.delivery.sent(Channel::Webhook));
    assert_eq!(stored.alerts, Default::default(), "alerts may go out again");
}

pub async fn customers_are_found_within_their_company(
    store: &dyn CustomerStore,
    company: &CompanyId,
    other: &CompanyId,
    prefix: &str,
) {
    let phone = format!("+49511{:07}", prefix.len() * 7919 % 10_000_000);
    let customer = Customer {
        customer_id: format!("{prefix}-k1"),
        name: "Jonas Weber".into(),
        phone: Some(phone.clone()),
        email: Some(format!("{prefix}@brandt.example")),
        company: Some("Brandt".into()),
        external_id: None,
    };
    store.save_customer(company, &customer).await.unwrap();
    let by_phone = store.customers_by_phone(company, &phone).await.unwrap();
    assert!(by_phone.contains(&customer), "by phone: {by_phone:?}");
    let by_email = store
        .customers_by_email(company, &format!("{prefix}@brandt.example"))
        .await
        .unwrap();
    assert!(by_email.contains(&customer), "by e-mail: {by_email:?}");
    assert!(store.all_customers(company).await.unwrap().contains(&customer));
    assert!(
        store.customers_by_phone(other, &phone).await.unwrap().is_empty(),
        "never another company's"
    );
    assert!(!store.all_customers(other).await.unwrap().contains(&customer));
}

/// A cost-ledger entry travels with its event (with the case's write or alone), is kept apart
/// from the event, overwritten by a retry, and listed under the company and month of the call.
pub async fn cost_entries_come_with_their_event_and_are_listed_by_month<S: CaseStoreUnderTest + ?Sized>(
    store: &S,
    company: &CompanyId,
    other: &CompanyId,
    prefix: &str,
) {
    let month: Month = "2031-02".parse().unwrap();
    let entry = |call: &CallId, day: &str, cents: &str| {
        let provider = ProviderCost::from_retell(
            Some(&serde_json::json!({"combined_cost": cents.parse::<f64>().unwrap(), "total_duration_seconds": 60})),
            None,
        )
        .unwrap();
        CostRecord::new(company, call, day.parse().unwrap(), provider, true, None, at(0))
    };
    // With a new case (one transaction), and with an event alone.
    let with_case = CallId::new(format!("{prefix}_cost_case"));
    let mut analyzed = event(Some(company), &with_case, "call_analyzed", 1);
    analyzed.cost = Some(entry(&with_case, "2031-02-03", "10.5"));
    assert_eq!(
        store
            .create_case(&new_case(company, with_case.as_str()), &analyzed)
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    let alone = CallId::new(format!("{prefix}_cost_alone"));
    let mut analyzed = event(Some(company), &alone, "call_analyzed", 2);
    analyzed.cost = Some(entry(&alone, "2031-02-01", "3"));
    store.record_event(&analyzed).await.unwrap();
    // A retry overwrites; another month and another company stay apart.
    analyzed.cost = Some(entry(&alone, "2031-02-01", "4"));
    store.record_event(&analyzed).await.unwrap();
    let march = CallId::new(format!("{prefix}_cost_march"));
    let mut later = event(Some(company), &march, "call_analyzed", 3);
    later.cost = Some(entry(&march, "2031-03-01", "1"));
    store.record_event(&later).await.unwrap();

    let listed: Vec<CostRecord> = store
        .costs_of_month(company, month)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.call_id.as_str().starts_with(prefix))
        .collect();
    let seen: Vec<(String, String)> = listed
        .iter()
        .map(|r| (r.call_id.to_string(), r.provider.combined_cents.normalize().to_string()))
        .collect();
    assert_eq!(
        seen,
        [
            (alone.to_string(), "4".to_string()),
            (with_case.to_string(), "10.5".to_string())
        ],
        "by day, retries overwritten, March apart"
    );
    assert_eq!(listed[1], entry(&with_case, "2031-02-03", "10.5"), "stored as written");
    assert!(store.costs_of_month(other, month).await.unwrap().is_empty());
    let platform: Vec<String> = store
        .all_costs_of_month(month)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.call_id.as_str().starts_with(prefix))
        .map(|r| format!("{}/{}", r.company_id, r.call_id))
        .collect();
    assert_eq!(
        platform,
        [format!("{company}/{alone}"), format!("{company}/{with_case}")],
        "the platform's month"
    );
    let events = store.call_events(Some(company), &alone).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].cost, None, "the entry is not part of the event");
}
