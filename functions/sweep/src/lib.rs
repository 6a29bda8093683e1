//! The sweep Lambda, run every minute by a schedule: finishes the hand-off of every captured case
//! whose request wrote it and then died or timed out (a slow store, a lost SendMessage answer)
//! while Retell's retries found it still leased, and puts every appointment notice on the
//! delivery queue that the request which changed the appointment did not. Without it such a case
//! or notice would wait forever.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use gateway_adapters::aws::{ConfigError, SdkTimeouts, config_cache_from_env, env_var};
use gateway_adapters::{DynamoStore, SqsQueue};
use gateway_domain::capture::{Handoff, SweepReport};
use gateway_domain::clock::SystemClock;
use gateway_domain::metrics::{Measurement, MetricSink, NoMetrics, Unit, dimensions, names};
use gateway_domain::notices::{NoticeHandoff, NoticeSweepReport};
use gateway_domain::tenancy::cache::CachedConfigStore;
use gateway_lambda::TimeBudget;
use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;

pub const SDK_TIMEOUTS: SdkTimeouts = SdkTimeouts {
    attempt: Duration::from_secs(5),
    operation: Duration::from_secs(10),
};

/// `Timeout` in template.yaml.
pub const TIME_BUDGET: TimeBudget = TimeBudget {
    function_timeout: Duration::from_secs(60),
    margin: Duration::from_secs(5),
    calls: &[("aws", SDK_TIMEOUTS.operation)],
};

/// Cases handed off per run at most (the rest wait a minute for the next one).
pub const BATCH: usize = 100;

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub enrich_queue_url: String,
    /// Where appointment notices go.
    pub delivery_queue_url: String,
    pub config_cache: chrono::Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            enrich_queue_url: env_var("ENRICH_QUEUE_URL")?,
            delivery_queue_url: env_var("DELIVERY_QUEUE_URL")?,
            config_cache: config_cache_from_env()?,
        })
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    pub cases: SweepReport,
    pub notices: NoticeSweepReport,
}

pub struct App {
    handoff: Handoff,
    notices: NoticeHandoff,
    config: Arc<dyn gateway_domain::tenancy::ConfigStore>,
    metrics: Arc<dyn MetricSink>,
}

impl App {
    pub fn new(config: Config, sdk: &SdkConfig) -> Self {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        Self::from_parts(
            Handoff {
                cases: Arc::new(store.clone()),
                queue: Arc::new(SqsQueue::new(sqs.clone(), &config.enrich_queue_url)),
                clock: clock.clone(),
                lease: gateway_domain::capture::IngestSettings::new("").handoff_lease,
            },
            NoticeHandoff {
                notices: Arc::new(store.clone()),
                queue: Arc::new(SqsQueue::new(sqs, &config.delivery_queue_url)),
                clock: clock.clone(),
            },
            Arc::new(CachedConfigStore::new(store, clock, config.config_cache)),
        )
        .with_metrics(gateway_lambda::metrics::from_env())
    }

    /// Any hand-offs and configuration (in-memory ones for tests).
    pub fn from_parts(
        handoff: Handoff,
        notices: NoticeHandoff,
        config: Arc<dyn gateway_domain::tenancy::ConfigStore>,
    ) -> Self {
        Self {
            handoff,
            notices,
            config,
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Counts what each run finished (`SweptHandoffs`) and how long it took.
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// One run (what the schedule triggers): cases first, then notices; a failing part does not
    /// keep the other from running.
    pub async fn sweep(&self) -> Result<Swept, Error> {
        let started = std::time::Instant::now();
        let cases = self.handoff.sweep(self.config.as_ref(), BATCH).await;
        let notices = self.notices.sweep(BATCH).await;
        let swept = Swept {
            cases: cases.as_ref().cloned().unwrap_or_default(),
            notices: notices.as_ref().cloned().unwrap_or_default(),
        };
        if swept.cases.pending > 0 || swept.notices.pending > 0 {
            tracing::warn!(?swept, "swept interrupted hand-offs");
        }
        let finished = |kind: &str, count: usize| {
            Measurement::of(names::SWEPT_HANDOFFS, Unit::Count, count as f64, None).with(dimensions::KIND, kind)
        };
        self.metrics.put(&[
            finished("case", swept.cases.handed_off),
            finished("notice", swept.notices.handed_off),
            Measurement::of(
                names::HANDLER_DURATION,
                Unit::Milliseconds,
                started.elapsed().as_secs_f64() * 1000.0,
                None,
            )
            .with(dimensions::FUNCTION, "sweep"),
        ]);
        cases?;
        notices?;
        Ok(swept)
    }
}

pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let deadline = TIME_BUDGET.deadline(&event.context);
    match tokio::time::timeout_at(deadline.instant().into(), app.sweep()).await {
        Ok(report) => {
            let Swept { cases: r, notices: n } = report?;
            Ok(serde_json::json!({
                "pending": r.pending, "handed_off": r.handed_off, "leased": r.leased, "failed": r.failed,
                "notices": {"pending": n.pending, "handed_off": n.handed_off, "failed": n.failed},
            }))
        }
        Err(_) => Err("the sweep did not finish before the deadline; the next run continues".into()),
    }
}
