//! An in-memory `QueueControl` that records what a batch asked of its queue.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::batch::QueueControl;

#[derive(Default)]
pub struct RecordingQueueControl {
    /// (receipt handle, seconds) of every retry delay set.
    pub retries: Mutex<Vec<(String, u32)>>,
    /// (body, reason) of every dead letter sent.
    pub dead_letters: Mutex<Vec<(String, String)>>,
}

impl RecordingQueueControl {
    pub fn retries(&self) -> Vec<(String, u32)> {
        self.retries.lock().map(|r| r.clone()).unwrap_or_default()
    }

    pub fn dead_letters(&self) -> Vec<(String, String)> {
        self.dead_letters.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl QueueControl for RecordingQueueControl {
    async fn retry_after(&self, receipt_handle: &str, seconds: u32) {
        if let Ok(mut r) = self.retries.lock() {
            r.push((receipt_handle.to_string(), seconds));
        }
    }

    async fn dead_letter(&self, body: &str, reason: &str) -> bool {
        if let Ok(mut d) = self.dead_letters.lock() {
            d.push((body.to_string(), reason.to_string()));
        }
        true
    }
}

/// An SQS record as the event source mapping hands it over, on its `attempt`-th receive.
pub fn sqs_record(message_id: &str, body: &str, attempt: u32) -> aws_lambda_events::event::sqs::SqsMessage {
    let mut record = aws_lambda_events::event::sqs::SqsMessage::default();
    record.message_id = Some(message_id.into());
    record.receipt_handle = Some(format!("receipt-{message_id}"));
    record.body = Some(body.into());
    record
        .attributes
        .insert("ApproximateReceiveCount".into(), attempt.to_string());
    record
}
