//! The in-memory store keeps the same contract as DynamoDB (the e2e tests run it there).

use gateway_domain::ids::CompanyId;
use gateway_testkit::contract;
use gateway_testkit::memory::{MemoryCaseStore, MemoryCustomerStore};

#[tokio::test]
async fn the_memory_store_keeps_the_store_contract() {
    let store = MemoryCaseStore::default();
    let customers = MemoryCustomerStore::default();
    contract::run_all(
        &store,
        &customers,
        &CompanyId::new("nordit"),
        &CompanyId::new("berg"),
        "mem",
    )
    .await;
}

#[tokio::test]
async fn the_memory_appointment_store_keeps_its_contract() {
    let store = gateway_testkit::appointments::MemoryAppointmentStore::default();
    gateway_testkit::appointment_contract::run_all(&store, &CompanyId::new("praxis"), "mem").await;
}

#[tokio::test]
async fn the_memory_notice_outbox_keeps_its_contract() {
    let store = gateway_testkit::appointments::MemoryAppointmentStore::default();
    gateway_testkit::notice_contract::run_all(&store, &CompanyId::new("praxis"), "mem").await;
}
