//! SQS adapter for the enrich queue.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use gateway_domain::StoreError;
use gateway_domain::ports::{EnrichQueue, EnrichRequest};

#[derive(Clone)]
pub struct SqsEnrichQueue {
    client: Client,
    queue_url: String,
}

impl SqsEnrichQueue {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

#[async_trait]
impl EnrichQueue for SqsEnrichQueue {
    async fn enqueue(&self, request: &EnrichRequest, delay_seconds: u32) -> Result<(), StoreError> {
        let body = serde_json::to_string(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_seconds.min(900) as i32)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("send to enrich queue: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }
}
