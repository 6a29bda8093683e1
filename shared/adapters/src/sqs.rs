//! SQS adapter: the enrich and delivery queues (JSON bodies), and the retry timing their
//! consumers set on a failed message.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use gateway_domain::StoreError;
use gateway_domain::ports::{DeliverRequest, DeliveryQueue, EnrichQueue, EnrichRequest};
use serde::Serialize;

use crate::aws::ConfigError;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    async fn send<T: Serialize>(&self, message: &T, delay_seconds: u32) -> Result<(), StoreError> {
        let body = serde_json::to_string(message).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_seconds.min(900) as i32)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("send to {}: {}", self.queue_url, DisplayErrorContext(&e))))?;
        Ok(())
    }
}

#[async_trait]
impl EnrichQueue for SqsQueue {
    async fn enqueue(&self, request: &EnrichRequest, delay_seconds: u32) -> Result<(), StoreError> {
        self.send(request, delay_seconds).await
    }
}

#[async_trait]
impl DeliveryQueue for SqsQueue {
    async fn enqueue(&self, request: &DeliverRequest) -> Result<(), StoreError> {
        self.send(request, 0).await
    }
}

/// `ApproximateReceiveCount` from a record's attributes, as SQS sets it (1 on the first receive).
pub fn receive_count(attributes: &HashMap<String, String>) -> u32 {
    attributes
        .get("ApproximateReceiveCount")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}

/// A retry schedule from the environment, e.g. "60,120,300": seconds until a failed message comes
/// back after its 1st, 2nd, 3rd receive (each at most 12 h, SQS's visibility limit).
pub fn parse_retry_schedule(name: &str, value: &str) -> Result<Vec<u32>, ConfigError> {
    let steps: Result<Vec<u32>, _> = value.split(',').map(|s| s.trim().parse::<u32>()).collect();
    match steps {
        Ok(s) if !s.is_empty() && s.iter().all(|v| *v <= 43_200) => Ok(s),
        _ => Err(ConfigError::Invalid {
            name: name.into(),
            reason: format!("'{value}' is not a comma-separated list of seconds (each at most 43200)"),
        }),
    }
}

/// The schedule's step for the `receive_count`-th failed receive; the last step repeats.
pub fn retry_delay(schedule: &[u32], receive_count: u32) -> u32 {
    let i = (receive_count.max(1) - 1) as usize;
    schedule.get(i).or(schedule.last()).copied().unwrap_or(60)
}

/// Makes a failed message visible again after its schedule's step instead of the queue's
/// visibility timeout. If SQS refuses, the queue's timeout applies: later, never not at all.
pub async fn retry_later(client: &Client, queue_url: &str, receipt_handle: &str, schedule: &[u32], receive_count: u32) {
    let seconds = retry_delay(schedule, receive_count);
    let result = client
        .change_message_visibility()
        .queue_url(queue_url)
        .receipt_handle(receipt_handle)
        .visibility_timeout(seconds.min(43_200) as i32)
        .send()
        .await;
    if let Err(e) = result {
        tracing::warn!(error = %DisplayErrorContext(&e), queue_url, "could not set the retry delay");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_schedules_are_validated() {
        assert_eq!(parse_retry_schedule("X", "60, 120,300").unwrap(), [60, 120, 300]);
        assert_eq!(parse_retry_schedule("X", "1").unwrap(), [1]);
        for bad in ["", "a,b", "60,,", "99999", "-1"] {
            let err = parse_retry_schedule("BACKOFF_SECONDS", bad).unwrap_err().to_string();
            assert!(err.contains("BACKOFF_SECONDS"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_delay_follows_the_receive_count() {
        assert_eq!(
            [1, 2, 3, 4].map(|n| retry_delay(&[60, 120, 300], n)),
            [60, 120, 300, 300]
        );
    }

    #[test]
    fn receive_count_defaults_to_the_first_receive() {
        let attrs = |v: &str| HashMap::from([("ApproximateReceiveCount".to_string(), v.to_string())]);
        assert_eq!(receive_count(&attrs("3")), 3);
        assert_eq!(receive_count(&attrs("x")), 1);
        assert_eq!(receive_count(&HashMap::new()), 1);
    }
}
