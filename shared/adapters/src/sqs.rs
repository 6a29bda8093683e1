//! SQS adapter: the enrich and delivery queues (JSON bodies).

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use gateway_domain::StoreError;
use gateway_domain::ports::{DeliverRequest, DeliveryQueue, EnrichQueue, EnrichRequest};
use serde::Serialize;

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
