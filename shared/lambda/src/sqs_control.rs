//! `QueueControl` on SQS: the retry delay (ChangeMessageVisibility) and the dead-letter send.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::MessageAttributeValue;

use crate::batch::QueueControl;

pub struct SqsControl {
    client: Client,
    queue_url: String,
    dead_letter_url: Option<String>,
}

impl SqsControl {
    pub fn new(client: Client, queue_url: impl Into<String>, dead_letter_url: Option<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            dead_letter_url,
        }
    }
}

#[async_trait]
impl QueueControl for SqsControl {
    /// If SQS refuses, the queue's visibility timeout applies: later, never not at all.
    async fn retry_after(&self, receipt_handle: &str, seconds: u32) {
        let result = self
            .client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds.min(43_200) as i32)
            .send()
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %DisplayErrorContext(&e), queue_url = %self.queue_url, "could not set the retry delay");
        }
    }

    async fn dead_letter(&self, body: &str, reason: &str) -> bool {
        let Some(dlq) = &self.dead_letter_url else {
            return false;
        };
        let mut request = self.client.send_message().queue_url(dlq).message_body(body);
        if let Ok(attr) = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
        {
            request = request.message_attributes("failure_reason", attr);
        }
        match request.send().await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %DisplayErrorContext(&e), "could not dead-letter a permanent failure");
                false
            }
        }
    }
}
