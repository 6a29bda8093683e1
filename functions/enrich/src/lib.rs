//! The enrich Lambda's handler: SQS batch in, one enrichment per record, partial batch failures
//! out. A failed record comes back after a short retry delay (30 s, 90 s by default) rather than
//! the queue's 6-minute visibility timeout, so every attempt falls inside the 10 minutes a Retell
//! recording link may live; the last receive finishes the case whatever happens.

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use gateway_adapters::aws::{ConfigError, env_var};
use gateway_adapters::provision::MAX_RECEIVE_COUNT;
use gateway_adapters::sqs::{parse_retry_schedule, receive_count, retry_later};
use gateway_adapters::{DynamoStore, S3Recordings, SqsQueue};
use gateway_domain::cache::CachedConfigStore;
use gateway_domain::enrich::{EnrichPorts, Enricher};
use gateway_domain::ports::{EnrichRequest, SystemClock};
use gateway_domain::ssrf::UrlPolicy;
use lambda_runtime::{Error, LambdaEvent};

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub delivery_queue_url: String,
    /// The queue this function consumes, for setting a failed message's retry delay.
    pub enrich_queue_url: String,
    /// Seconds until a failed message comes back after its 1st, 2nd, … receive.
    pub retry_seconds: Vec<u32>,
    pub recordings_bucket: String,
    /// The enrich queue's maxReceiveCount: the receive that must finish, come what may.
    pub max_receives: u32,
    /// Local mode only: http allowed and these `host:port`s exempt from the SSRF guard.
    pub url_policy: UrlPolicy,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let max_receives = match std::env::var("MAX_RECEIVE_COUNT") {
            Ok(v) => v.parse().map_err(|_| ConfigError::Invalid {
                name: "MAX_RECEIVE_COUNT".into(),
                reason: format!("'{v}' is not a number"),
            })?,
            Err(_) => MAX_RECEIVE_COUNT,
        };
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            delivery_queue_url: env_var("DELIVERY_QUEUE_URL")?,
            enrich_queue_url: env_var("ENRICH_QUEUE_URL")?,
            retry_seconds: parse_retry_schedule(
                "ENRICH_RETRY_SECONDS",
                &std::env::var("ENRICH_RETRY_SECONDS").unwrap_or_else(|_| "30,90".into()),
            )?,
            recordings_bucket: env_var("RECORDINGS_BUCKET")?,
            max_receives,
            url_policy: gateway_adapters::aws::url_policy(gateway_adapters::aws::local_mode_from_env()),
        })
    }
}

pub struct App {
    enricher: Enricher,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    retry_seconds: Vec<u32>,
}

impl App {
    /// Wires the real adapters; no network call. `s3` must use path style against the emulator.
    pub fn new(config: &Config, sdk: &SdkConfig, s3: aws_sdk_s3::Client) -> Self {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let ports = EnrichPorts {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(
                store.clone(),
                clock.clone(),
                chrono::Duration::seconds(60),
            )),
            customers: Arc::new(store.clone()),
            recordings: Arc::new(S3Recordings::new(
                s3,
                &config.recordings_bucket,
                config.url_policy.clone(),
            )),
            delivery: Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.delivery_queue_url)),
            log: Arc::new(store),
            clock,
        };
        Self {
            enricher: Enricher::new(ports, config.max_receives),
            sqs: aws_sdk_sqs::Client::new(sdk),
            queue_url: config.enrich_queue_url.clone(),
            retry_seconds: config.retry_seconds.clone(),
        }
    }

    /// Sets when a failed message comes back.
    async fn back_off(&self, message: &SqsMessage, attempt: u32) {
        if let Some(handle) = message.receipt_handle.as_deref() {
            retry_later(&self.sqs, &self.queue_url, handle, &self.retry_seconds, attempt).await;
        }
    }
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    // One at a time: each recording copy holds up to one 8 MiB part in memory.
    for message in &event.payload.records {
        let Some(id) = message.message_id.clone() else {
            return Err("SQS record without messageId: failing the batch so nothing is dropped".into());
        };
        let request: EnrichRequest = match message.body.as_deref().map(serde_json::from_str) {
            Some(Ok(r)) => r,
            _ => {
                // Left to fail until SQS moves it to the dead-letter queue, where an operator sees it.
                tracing::error!(message_id = %id, "enrich message is not an enrich request");
                response.add_failure(id);
                continue;
            }
        };
        let attempt = receive_count(&message.attributes);
        match app.enricher.process(&request, attempt).await {
            Ok(outcome) => tracing::info!(call_id = %request.call_id, ?outcome, attempt, "enrichment done"),
            Err(err) => {
                tracing::warn!(call_id = %request.call_id, error = %err, attempt, "enrichment will be retried");
                app.back_off(message, attempt).await;
                response.add_failure(id);
            }
        }
    }
    Ok(response)
}
