//! Deliberate redelivery by a person (an operator in the console or `gatewayctl cases
//! redeliver`): the chosen channels forget their `sent` marks (a channel not named keeps it, so
//! what already arrived is not sent again), the case goes back to `pending`, the request is
//! audited on the case's trail with who asked, and the case is queued for delivery.

use chrono::{DateTime, Utc};

use crate::case::{Channel, ServiceCase};
use crate::delivery::ports::{DeliverRequest, DeliveryQueue, RedeliveryStore};
use crate::error::StoreError;
use crate::exchange::{ExchangeEntry, ExchangeLog};

/// What a redelivery writes to and sends on.
#[derive(Clone, Copy)]
pub struct RedeliveryPorts<'a> {
    pub store: &'a dyn RedeliveryStore,
    pub log: &'a dyn ExchangeLog,
    pub queue: &'a dyn DeliveryQueue,
}

/// Who asked, and through what (`gatewayctl`, `console`).
#[derive(Debug, Clone)]
pub struct Requester<'a> {
    pub handler: &'a str,
    pub operator: &'a str,
    pub at: DateTime<Utc>,
}

/// Resets `channels`, logs the request and enqueues the case.
pub async fn redeliver(
    ports: RedeliveryPorts<'_>,
    case: &ServiceCase,
    channels: &[Channel],
    by: &Requester<'_>,
) -> Result<(), StoreError> {
    ports
        .store
        .reset_for_redelivery(&case.company_id, &case.call_id, channels)
        .await?;
    ports
        .log
        .append(&case.company_id, &case.case_id, &entry(channels, by))
        .await?;
    let request = DeliverRequest {
        company_id: case.company_id.clone(),
        call_id: case.call_id.clone(),
        case_id: case.case_id.clone(),
    };
    ports.queue.enqueue(&request).await
}

/// The audit entry: `manual-redelivery`, 202, with the operator and the channels resent.
pub fn entry(channels: &[Channel], by: &Requester<'_>) -> ExchangeEntry {
    let mut entry = ExchangeEntry::internal(by.handler, "manual-redelivery", 202, 0, by.at);
    let reset: Vec<&str> = channels.iter().map(|c| c.as_str()).collect();
    entry.detail = Some(format!(
        "manual redelivery requested by {}; channels resent: {}",
        by.operator,
        if reset.is_empty() {
            "only those not yet delivered".to_string()
        } else {
            reset.join(", ")
        }
    ));
    entry.operator = Some(by.operator.to_string());
    entry
}
