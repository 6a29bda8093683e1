//! The alert Lambda's handler: consumes the delivery dead-letter queue. Each dead letter marks
//! its case (or appointment notice) `failed` and alerts the company's admins once per channel;
//! a failing alert is retried (and after five receives lands in the alert DLQ), the `failed`
//! state stays.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use gateway_adapters::aws::{
    ConfigError, SdkTimeouts, config_cache_from_env, env_var, local_mode_from_env, url_policy,
};
use gateway_adapters::http::ClientBuildError;
use gateway_adapters::outbound::SLACK_BUDGET;
use gateway_adapters::{DynamoStore, HttpWebhooks, SesMailer};
use gateway_domain::alerting::{AlertPorts, Alerter};
use gateway_domain::clock::SystemClock;
use gateway_domain::error::chain;
use gateway_domain::links::LinkSettings;
use gateway_domain::notices::{DeliveryMessage, NoticeAlertPorts, NoticeAlerter};
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::cache::CachedConfigStore;
use gateway_lambda::TimeBudget;
use gateway_lambda::batch::{BatchRunner, Concurrency, Record, RecordOutcome};
use lambda_runtime::{Error, LambdaEvent};

/// AWS calls: SES and DynamoDB.
pub const SDK_TIMEOUTS: SdkTimeouts = SdkTimeouts {
    attempt: Duration::from_secs(5),
    operation: Duration::from_secs(10),
};

/// `Timeout` in template.yaml: records run one at a time, each with one Slack call and the
/// admins' e-mails; what does not fit comes back with the next receive.
pub const TIME_BUDGET: TimeBudget = TimeBudget {
    function_timeout: Duration::from_secs(60),
    margin: Duration::from_secs(5),
    calls: &[("slack", SLACK_BUDGET.total), ("aws", SDK_TIMEOUTS.operation)],
};

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    /// A verified SES identity.
    pub mail_from: String,
    pub url_policy: UrlPolicy,
    /// Public base URL and signing key for the case link in alerts.
    pub links: Option<LinkSettings>,
    pub config_cache: chrono::Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            mail_from: env_var("MAIL_FROM")?,
            url_policy: url_policy(local_mode_from_env()),
            links: gateway_adapters::aws::link_settings_from_env(),
            config_cache: config_cache_from_env()?,
        })
    }
}

pub struct App {
    alerter: Alerter,
    /// Dead appointment notices (the other kind of message in the delivery DLQ).
    notices: Option<NoticeAlerter>,
    runner: BatchRunner,
}

impl App {
    pub fn new(config: Config, sdk: &SdkConfig) -> Result<Self, ClientBuildError> {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let ports = AlertPorts {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(
                store.clone(),
                clock.clone(),
                config.config_cache,
            )),
            mailer: Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(sdk), &config.mail_from)),
            slack: Arc::new(HttpWebhooks::new(config.url_policy.clone(), SLACK_BUDGET)?),
            log: Arc::new(store.clone()),
            clock,
        };
        let metrics = gateway_lambda::metrics::from_env();
        let notices = NoticeAlerter::new(NoticeAlertPorts {
            notices: Arc::new(store),
            config: ports.config.clone(),
            mailer: ports.mailer.clone(),
            slack: ports.slack.clone(),
            log: ports.log.clone(),
            clock: ports.clock.clone(),
        })
        .with_metrics(metrics.clone());
        let alerter = Alerter::new(ports, config.links.clone()).with_metrics(metrics.clone());
        Ok(Self::from_alerter(alerter).with_notices(notices).with_metrics(metrics))
    }

    /// Counts every record's attempt and handler time.
    pub fn with_metrics(mut self, metrics: Arc<dyn gateway_domain::metrics::MetricSink>) -> Self {
        self.runner = self.runner.with_metrics(metrics);
        self
    }

    /// Also handles dead appointment notices.
    pub fn with_notices(mut self, notices: NoticeAlerter) -> Self {
        self.notices = Some(notices);
        self
    }

    /// Any alerter (in-memory ports for fast tests of the batch behaviour).
    pub fn from_alerter(alerter: Alerter) -> Self {
        // One at a time, so two copies of one dead letter in a batch cannot both alert. No retry
        // schedule and no dead letters of its own: the alert DLQ takes what fails five times.
        let runner = BatchRunner::new("alert", Concurrency::Sequential);
        Self {
            alerter,
            notices: None,
            runner,
        }
    }

    async fn alert(&self, record: Record<DeliveryMessage>) -> RecordOutcome {
        // The reason the deliver function attached to a permanent failure, if any.
        let reason = record.attributes.get("failure_reason").map(String::as_str);
        let result = match &record.message {
            DeliveryMessage::Case(request) => self.alerter.process(request, reason, record.deadline).await,
            DeliveryMessage::Notice(message) => match &self.notices {
                Some(notices) => notices.process(&message.notice(), reason, record.deadline).await,
                None => return RecordOutcome::Retry("this alerter is not set up for notices".into()),
            },
        };
        match result {
            Ok(outcome) => {
                tracing::info!(?outcome, "final failure handled");
                RecordOutcome::Done
            }
            Err(err) => RecordOutcome::Retry(chain(&err)),
        }
    }
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let deadline = TIME_BUDGET.deadline(&event.context);
    app.runner.run(&event.payload, deadline, |r| app.alert(r)).await
}
