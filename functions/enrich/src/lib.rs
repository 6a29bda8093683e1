//! The enrich Lambda's handler: SQS batch in, one enrichment per record (one after the other:
//! each recording copy holds up to one 8 MiB part in memory), partial batch failures out. A
//! failed record comes back after a short retry delay (30 s, 90 s by default) rather than the
//! queue's visibility timeout, so every attempt falls inside the 10 minutes a Retell recording
//! link may live; the last receive finishes the case whatever happens, inside the deadline.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use gateway_adapters::aws::{ConfigError, SdkTimeouts, config_cache_from_env, env_var};
use gateway_adapters::http::ClientBuildError;
use gateway_adapters::provision::MAX_RECEIVE_COUNT;
use gateway_adapters::recordings::RECORDING_BUDGET;
use gateway_adapters::sqs::parse_retry_schedule;
use gateway_adapters::{DynamoStore, S3Recordings, SqsQueue};
use gateway_domain::clock::SystemClock;
use gateway_domain::enrichment::{EnrichPorts, EnrichRequest, Enricher};
use gateway_domain::error::chain;
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::cache::CachedConfigStore;
use gateway_lambda::TimeBudget;
use gateway_lambda::batch::{BatchRunner, Concurrency, QueueControl, Record, RecordOutcome};
use gateway_lambda::sqs_control::SqsControl;
use lambda_runtime::{Error, LambdaEvent};

/// AWS calls: DynamoDB, SQS, and S3 (an 8 MiB part goes up well inside an attempt).
pub const SDK_TIMEOUTS: SdkTimeouts = SdkTimeouts {
    attempt: Duration::from_secs(20),
    operation: Duration::from_secs(30),
};

/// `Timeout` in template.yaml: the recording copy's 240 s plus the margin to finish the case
/// (mark it, log it, hand it to delivery) even when the copy is cut off.
pub const TIME_BUDGET: TimeBudget = TimeBudget {
    function_timeout: Duration::from_secs(300),
    margin: Duration::from_secs(15),
    calls: &[
        ("recording copy", RECORDING_BUDGET.total),
        ("aws", SDK_TIMEOUTS.operation),
    ],
};

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
    pub config_cache: chrono::Duration,
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
            config_cache: config_cache_from_env()?,
        })
    }
}

pub struct App {
    enricher: Enricher,
    runner: BatchRunner,
}

impl App {
    /// Wires the real adapters; no network call. S3 uses path style against the emulator.
    pub fn new(config: Config, sdk: &SdkConfig) -> Result<Self, ClientBuildError> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let s3 = gateway_adapters::aws::s3_client(sdk);
        let ports = EnrichPorts {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(
                store.clone(),
                clock.clone(),
                config.config_cache,
            )),
            customers: Arc::new(store.clone()),
            recordings: Arc::new(S3Recordings::new(
                s3,
                &config.recordings_bucket,
                config.url_policy.clone(),
            )?),
            delivery: Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.delivery_queue_url)),
            log: Arc::new(store),
            clock,
        };
        let control = SqsControl::new(aws_sdk_sqs::Client::new(sdk), &config.enrich_queue_url, None);
        let metrics = gateway_lambda::metrics::from_env();
        Ok(Self::from_parts(
            Enricher::new(ports, config.max_receives).with_metrics(metrics.clone()),
            Arc::new(control),
            config.retry_seconds,
        )
        .with_metrics(metrics))
    }

    /// Counts every record's attempt and handler time.
    pub fn with_metrics(mut self, metrics: Arc<dyn gateway_domain::metrics::MetricSink>) -> Self {
        self.runner = self.runner.with_metrics(metrics);
        self
    }

    /// Any enricher and queue (in-memory ones for fast tests of the batch behaviour).
    pub fn from_parts(enricher: Enricher, control: Arc<dyn QueueControl>, retry_seconds: Vec<u32>) -> Self {
        // No dead letters of its own: a record that keeps failing reaches the enrich DLQ by the
        // queue's maxReceiveCount, where an alarm fires.
        let runner = BatchRunner::new("enrich", Concurrency::Sequential).with_retry_schedule(control, retry_seconds);
        Self { enricher, runner }
    }

    async fn enrich(&self, record: Record<EnrichRequest>) -> RecordOutcome {
        match self
            .enricher
            .process(&record.message, record.attempt, record.deadline)
            .await
        {
            Ok(outcome) => {
                tracing::info!(?outcome, "enrichment done");
                RecordOutcome::Done
            }
            Err(err) => RecordOutcome::Retry(chain(&err)),
        }
    }
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let deadline = TIME_BUDGET.deadline(&event.context);
    app.runner.run(&event.payload, deadline, |r| app.enrich(r)).await
}
