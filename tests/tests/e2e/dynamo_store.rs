//! The DynamoDB adapter's guarantees, against the emulator: the store contract the in-memory
//! twin keeps too (one case per call, the hand-off lease, merges that write only capture's
//! attributes, state moves, per-company counters), the tenant configuration round trip, and
//! distinct ticket numbers under concurrency.

use gateway_e2e::prelude::*;
use gateway_e2e::*;
use gateway_testkit::contract;

#[tokio::test]
async fn dynamodb_keeps_the_appointment_store_contract() {
    let s = stack().await;
    gateway_testkit::appointment_contract::run_all(&s.store, &company_id(COMPANY), &s.prefix).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_notice_outbox_contract() {
    let s = stack().await;
    gateway_testkit::notice_contract::run_all(&s.store, &company_id(COMPANY), &s.prefix).await;
}

#[tokio::test]
async fn dynamodb_keeps_the_store_contract() {
    let s = stack().await;
    contract::run_all(
        &s.store,
        &s.store,
        &company_id(COMPANY),
        &company_id("kanzlei-berg"),
        &s.prefix,
    )
    .await;
}

#[tokio::test]
async fn tenant_configuration_round_trips() {
    let s = stack().await;
    let spec = nordit();
    let tenant = s.store.tenant(&company_id(COMPANY)).await.unwrap().unwrap();
    assert_eq!(tenant.config, spec.company);
    assert_eq!(tenant.categories.len(), spec.categories.len());
    for c in &spec.categories {
        assert_eq!(tenant.category(&c.slug), Some(c));
    }
    let agent = RouteKey::Agent(spec.routes.agents[0].clone());
    assert_eq!(s.store.company_for(&agent).await.unwrap(), Some(company_id(COMPANY)));
    assert_eq!(
        s.store
            .company_for(&RouteKey::Phone("+4951112345670".into()))
            .await
            .unwrap(),
        Some(company_id(COMPANY))
    );
    assert_eq!(
        s.store
            .company_for(&RouteKey::Agent("agent_other".into()))
            .await
            .unwrap(),
        None
    );
    assert!(s.store.tenant(&company_id("someone-else")).await.unwrap().is_none());
}

/// Concurrent tickets get distinct numbers. This leans on DynamoDB's atomic `ADD`, which plain
/// moto lacks under concurrency (`infra/moto_server.py` restores it).
#[tokio::test]
async fn concurrent_ticket_numbers_are_distinct() {
    let s = std::sync::Arc::new(stack().await);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.store.next_ticket_number(&company_id(COMPANY), 2026).await.unwrap() })
        })
        .collect();
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=100).collect::<Vec<u64>>());
}
