//! The deliver Lambda's handler: each SQS record delivers one case. A failure that a retry can
//! fix sets the message's visibility to the next backoff step (60/120/300 s by
//! `ApproximateReceiveCount`) and reports the item failed; after the third receive SQS moves it
//! to the delivery DLQ. A permanent failure goes to the DLQ at once.

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::MessageAttributeValue;
use gateway_adapters::aws::{ConfigError, env_var};
use gateway_adapters::sqs::{parse_retry_schedule, receive_count, retry_later};
use gateway_adapters::{DynamoStore, HttpWebhooks, SesMailer};
use gateway_domain::cache::CachedConfigStore;
use gateway_domain::deliver::{DeliverError, DeliverPorts, Deliverer};
use gateway_domain::links::LinkSettings;
use gateway_domain::ports::{DeliverRequest, SystemClock};
use gateway_domain::ssrf::UrlPolicy;
use lambda_runtime::{Error, LambdaEvent};

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub delivery_queue_url: String,
    pub delivery_dlq_url: String,
    /// A verified SES identity.
    pub mail_from: String,
    /// Visibility after the 1st, 2nd, 3rd failed receive.
    pub backoff_seconds: Vec<u32>,
    pub url_policy: UrlPolicy,
    /// Public base URL of the HTTP API and the key that signs recording links.
    pub links: Option<LinkSettings>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            delivery_queue_url: env_var("DELIVERY_QUEUE_URL")?,
            delivery_dlq_url: env_var("DELIVERY_DLQ_URL")?,
            mail_from: env_var("MAIL_FROM")?,
            backoff_seconds: parse_retry_schedule(
                "BACKOFF_SECONDS",
                &std::env::var("BACKOFF_SECONDS").unwrap_or_else(|_| "60,120,300".into()),
            )?,
            url_policy: gateway_adapters::aws::url_policy(gateway_adapters::aws::local_mode_from_env()),
            links: gateway_adapters::aws::link_settings_from_env(),
        })
    }
}

pub struct App {
    deliverer: Deliverer,
    sqs: aws_sdk_sqs::Client,
    config: Config,
}

impl App {
    /// Wires the real adapters; no network call.
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let ports = DeliverPorts {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(
                store.clone(),
                clock.clone(),
                chrono::Duration::seconds(60),
            )),
            webhooks: Arc::new(HttpWebhooks::new(config.url_policy.clone())),
            mailer: Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(sdk), &config.mail_from)),
            log: Arc::new(store),
            clock,
        };
        Self {
            deliverer: Deliverer::new(ports, config.links.clone()),
            sqs: aws_sdk_sqs::Client::new(sdk),
            config,
        }
    }

    /// Sets when a failed message comes back.
    async fn back_off(&self, message: &SqsMessage, attempt: u32) {
        if let Some(handle) = message.receipt_handle.as_deref() {
            retry_later(
                &self.sqs,
                &self.config.delivery_queue_url,
                handle,
                &self.config.backoff_seconds,
                attempt,
            )
            .await;
        }
    }

    /// Moves a message that can never succeed to the dead-letter queue; `false` if that failed.
    async fn dead_letter(&self, message: &SqsMessage, reason: &str) -> bool {
        let reason_attr = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build();
        let mut req = self
            .sqs
            .send_message()
            .queue_url(&self.config.delivery_dlq_url)
            .message_body(message.body.clone().unwrap_or_default());
        if let Ok(attr) = reason_attr {
            req = req.message_attributes("failure_reason", attr);
        }
        match req.send().await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %aws_sdk_sqs::error::DisplayErrorContext(&e), "could not dead-letter a permanent failure");
                false
            }
        }
    }

    /// One record; `true` when it is done (delete it), `false` when SQS should redeliver it.
    async fn handle_record(&self, message: &SqsMessage) -> bool {
        let attempt = receive_count(&message.attributes);
        let Some(request) = message
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<DeliverRequest>(b).ok())
        else {
            tracing::error!(message_id = ?message.message_id, "not a delivery request");
            return self.dead_letter(message, "not a delivery request").await;
        };
        match self.deliverer.process(&request, attempt).await {
            Ok(outcome) => {
                tracing::info!(call_id = %request.call_id, ?outcome, attempt, "delivery done");
                true
            }
            Err(DeliverError::Permanent(reason)) => {
                tracing::error!(call_id = %request.call_id, %reason, "permanent delivery failure: dead-lettered");
                self.dead_letter(message, &reason).await
            }
            Err(err) => {
                tracing::warn!(call_id = %request.call_id, error = %err, attempt, "delivery failed; backing off");
                self.back_off(message, attempt).await;
                false
            }
        }
    }
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let records = &event.payload.records;
    if records.iter().any(|r| r.message_id.is_none()) {
        return Err("SQS record without messageId: failing the batch so nothing is dropped".into());
    }
    // Records are independent cases: deliver them concurrently.
    let results = futures_util::future::join_all(records.iter().map(|r| app.handle_record(r))).await;
    let mut response = SqsBatchResponse::default();
    for (record, done) in records.iter().zip(results) {
        if !done && let Some(id) = &record.message_id {
            response.add_failure(id.clone());
        }
    }
    Ok(response)
}
