//! What Lambda's SQS event source mapping does, for local runs and tests: long-poll a batch,
//! hand it to the real handler as an `SqsEvent`, delete what succeeded, leave the reported
//! failures to come back (with `ApproximateReceiveCount` as SQS counts it).

use std::collections::HashMap;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::MessageSystemAttributeName;

use crate::BoxError;

/// Receives up to `max` (≤ 10) messages, waiting up to `wait_seconds` for the first.
pub async fn receive_batch(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    max: i32,
    wait_seconds: i32,
) -> Result<SqsEvent, BoxError> {
    let out = sqs
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(max.clamp(1, 10))
        .wait_time_seconds(wait_seconds)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await?;
    let mut event = SqsEvent::default();
    for m in out.messages.unwrap_or_default() {
        let mut record = SqsMessage::default();
        record.message_id = m.message_id;
        record.receipt_handle = m.receipt_handle;
        record.body = m.body;
        record.attributes = m
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str().to_string(), v))
            .collect::<HashMap<_, _>>();
        record.message_attributes = m
            .message_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let mut attr = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
                attr.string_value = v.string_value;
                attr.data_type = Some(v.data_type);
                (k, attr)
            })
            .collect();
        record.event_source = Some("aws:sqs".into());
        record.event_source_arn = Some(queue_url.to_string());
        event.records.push(record);
    }
    Ok(event)
}

/// Deletes the records the handler did not report as failed. Returns the failed message ids.
pub async fn settle(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    event: &SqsEvent,
    response: &SqsBatchResponse,
) -> Result<Vec<String>, BoxError> {
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    for record in &event.records {
        let (Some(id), Some(handle)) = (&record.message_id, &record.receipt_handle) else {
            continue;
        };
        if !failed.contains(id) {
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .send()
                .await?;
        }
    }
    Ok(failed)
}

/// Runs one consumer forever, as Lambda's event source mapping would: long-poll up to 10
/// messages, hand them to `handler`, delete the successes. Errors are logged and retried.
pub async fn consume<F, Fut>(sqs: aws_sdk_sqs::Client, queue_url: String, name: &'static str, handler: F)
where
    F: Fn(SqsEvent) -> Fut,
    Fut: std::future::Future<Output = Result<SqsBatchResponse, lambda_runtime::Error>>,
{
    loop {
        let event = match receive_batch(&sqs, &queue_url, 10, 5).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(consumer = name, error = %e, "receive failed");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        if event.records.is_empty() {
            continue;
        }
        match handler(event.clone()).await {
            Ok(response) => {
                if let Err(e) = settle(&sqs, &queue_url, &event, &response).await {
                    tracing::warn!(consumer = name, error = %e, "could not delete handled messages");
                }
            }
            // A batch-level error: like Lambda, leave every message to come back.
            Err(e) => tracing::warn!(consumer = name, error = %e, "handler failed for the whole batch"),
        }
    }
}
