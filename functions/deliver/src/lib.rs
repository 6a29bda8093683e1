//! The deliver Lambda's handler: each SQS record delivers one case or one appointment notice
//! (records of a batch run concurrently). A failure a retry can fix comes back after the next
//! backoff step (60/120/300 s by `ApproximateReceiveCount`); after the third receive SQS moves it
//! to the delivery DLQ. A permanent failure goes to the DLQ at once. Every outbound call ends by the invocation's
//! deadline, so one hanging target fails its own record, not the batch.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use gateway_adapters::aws::{ConfigError, SdkTimeouts, config_cache_from_env, env_var};
use gateway_adapters::http::ClientBuildError;
use gateway_adapters::outbound::WEBHOOK_BUDGET;
use gateway_adapters::outbound::mailbox_parts;
use gateway_adapters::sqs::parse_retry_schedule;
use gateway_adapters::{DynamoStore, HttpWebhooks, SesMailer};
use gateway_domain::clock::SystemClock;
use gateway_domain::delivery::{DeliverError, DeliverPorts, Deliverer};
use gateway_domain::error::chain;
use gateway_domain::links::LinkSettings;
use gateway_domain::notices::{DeliveryMessage, NoticeDeliverer, NoticePorts};
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::cache::CachedConfigStore;
use gateway_lambda::TimeBudget;
use gateway_lambda::batch::{BatchRunner, Concurrency, QueueControl, Record, RecordOutcome};
use gateway_lambda::sqs_control::SqsControl;
use lambda_runtime::{Error, LambdaEvent};

/// AWS calls: SES, DynamoDB, SQS.
pub const SDK_TIMEOUTS: SdkTimeouts = SdkTimeouts {
    attempt: Duration::from_secs(5),
    operation: Duration::from_secs(10),
};

/// `Timeout` in template.yaml. A record's webhook (30 s) plus its e-mails fit; the margin is kept
/// to record the outcome (channel marks, retry delay, dead letter) before Lambda stops us.
pub const TIME_BUDGET: TimeBudget = TimeBudget {
    function_timeout: Duration::from_secs(60),
    margin: Duration::from_secs(5),
    calls: &[("webhook", WEBHOOK_BUDGET.total), ("aws", SDK_TIMEOUTS.operation)],
};

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
    pub config_cache: chrono::Duration,
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
            config_cache: config_cache_from_env()?,
        })
    }
}

pub struct App {
    deliverer: Deliverer,
    /// Appointment notices (the other kind of message on the delivery queue).
    notices: Option<NoticeDeliverer>,
    runner: BatchRunner,
}

impl App {
    /// Wires the real adapters; no network call. Fails (at cold start) if the guarded HTTP
    /// client cannot be built.
    pub fn new(config: Config, sdk: &SdkConfig) -> Result<Self, ClientBuildError> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let ports = DeliverPorts {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(
                store.clone(),
                clock.clone(),
                config.config_cache,
            )),
            webhooks: Arc::new(HttpWebhooks::new(config.url_policy.clone(), WEBHOOK_BUDGET)?),
            mailer: Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(sdk), &config.mail_from)),
            log: Arc::new(store.clone()),
            clock,
        };
        let notices = NoticeDeliverer::new(
            NoticePorts {
                notices: Arc::new(store),
                config: ports.config.clone(),
                webhooks: ports.webhooks.clone(),
                mailer: ports.mailer.clone(),
                log: ports.log.clone(),
                clock: ports.clock.clone(),
            },
            // The organizer of callers' calendar entries unless the company names its own.
            mailbox_parts(&config.mail_from).1,
        );
        let control = SqsControl::new(
            aws_sdk_sqs::Client::new(sdk),
            &config.delivery_queue_url,
            Some(config.delivery_dlq_url.clone()),
        );
        let metrics = gateway_lambda::metrics::from_env();
        Ok(Self::from_parts(
            Deliverer::new(ports, config.links.clone()).with_metrics(metrics.clone()),
            Arc::new(control),
            config.backoff_seconds,
        )
        .with_notices(notices)
        .with_metrics(metrics))
    }

    /// Counts every record's attempt (the delivery attempts) and handler time.
    pub fn with_metrics(mut self, metrics: Arc<dyn gateway_domain::metrics::MetricSink>) -> Self {
        self.runner = self.runner.with_metrics(metrics);
        self
    }

    /// Any deliverer and queue (in-memory ones for fast tests of the batch behaviour).
    pub fn from_parts(deliverer: Deliverer, control: Arc<dyn QueueControl>, backoff_seconds: Vec<u32>) -> Self {
        let runner = BatchRunner::new("deliver", Concurrency::Concurrent)
            .with_retry_schedule(control.clone(), backoff_seconds)
            .with_dead_letters(control);
        Self {
            deliverer,
            notices: None,
            runner,
        }
    }

    /// Also delivers appointment notices.
    pub fn with_notices(mut self, notices: NoticeDeliverer) -> Self {
        self.notices = Some(notices);
        self
    }

    async fn deliver(&self, record: Record<DeliveryMessage>) -> RecordOutcome {
        let result = match &record.message {
            DeliveryMessage::Case(request) => self
                .deliverer
                .process(request, record.attempt, record.deadline)
                .await
                .map(|outcome| format!("{outcome:?}")),
            DeliveryMessage::Notice(message) => match &self.notices {
                Some(notices) => notices
                    .process(&message.notice(), record.attempt, record.deadline)
                    .await
                    .map(|outcome| format!("{outcome:?}")),
                None => Err(DeliverError::Permanent(
                    "this deliverer is not set up for notices".into(),
                )),
            },
        };
        match result {
            Ok(outcome) => {
                tracing::info!(outcome, "delivery done");
                RecordOutcome::Done
            }
            Err(DeliverError::Permanent(reason)) => RecordOutcome::DeadLetter(reason),
            Err(err) => RecordOutcome::Retry(chain(&err)),
        }
    }
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let deadline = TIME_BUDGET.deadline(&event.context);
    app.runner.run(&event.payload, deadline, |r| app.deliver(r)).await
}
