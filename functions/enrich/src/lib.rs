//! The enrich Lambda's handler: SQS batch in, one enrichment per record, partial batch failures
//! out (a failed record is retried by SQS and reaches the enrich DLQ after its last receive).

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use gateway_adapters::aws::{ConfigError, env_var};
use gateway_adapters::provision::MAX_RECEIVE_COUNT;
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
            recordings_bucket: env_var("RECORDINGS_BUCKET")?,
            max_receives,
            url_policy: gateway_adapters::aws::url_policy(gateway_adapters::aws::local_mode_from_env()),
        })
    }
}

pub struct App {
    enricher: Enricher,
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
        Self::with_ports(ports, config.max_receives)
    }

    pub fn with_ports(ports: EnrichPorts, max_receives: u32) -> Self {
        Self {
            enricher: Enricher::new(ports, max_receives),
        }
    }
}

/// `ApproximateReceiveCount` as SQS sets it (1 on the first receive).
pub fn receive_count(message: &SqsMessage) -> u32 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
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
        let attempt = receive_count(message);
        match app.enricher.process(&request, attempt).await {
            Ok(outcome) => tracing::info!(call_id = %request.call_id, ?outcome, attempt, "enrichment done"),
            Err(err) => {
                tracing::warn!(call_id = %request.call_id, error = %err, attempt, "enrichment will be retried");
                response.add_failure(id);
            }
        }
    }
    Ok(response)
}
