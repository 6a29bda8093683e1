//! SQS adapter: the enrich and delivery queues (JSON bodies; the delivery queue carries cases and
//! appointment notices), and the retry schedules their
//! consumers read from the environment.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use gateway_domain::StoreError;
use gateway_domain::delivery::{DeliverRequest, DeliveryQueue};
use gateway_domain::enrichment::{EnrichQueue, EnrichRequest};
use gateway_domain::notices::{NoticeMessage, NoticeQueue, NoticeRef};
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
            .map_err(|e| StoreError::unavailable(format!("send message to {}", self.queue_url), e))?;
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

#[async_trait]
impl NoticeQueue for SqsQueue {
    async fn enqueue_notice(&self, notice: &NoticeRef) -> Result<(), StoreError> {
        self.send(&NoticeMessage::from(notice), 0).await
    }
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
}
