//! The ingest Lambda: the HTTP edge of the gateway. An axum router (the same one `make run`
//! serves locally) with the Retell routes, the gateway-signed links delivered cases carry, a body
//! limit, a trace span per request and the function's deadline: a request the gateway cannot
//! finish in time is answered 503 (Retell retries) before Lambda would kill it unanswered.

pub mod calcom_webhook;
pub mod edge;
pub mod links;

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use gateway_adapters::aws::{
    ConfigError, SdkTimeouts, config_cache_from_env, env_var, key_ring_from_env, optional_key_ring_from_env,
};
use gateway_adapters::calendars::TenantCalendars;
use gateway_adapters::{DynamoStore, SqsQueue};
use gateway_domain::appointments::desk::BookingDesk;
use gateway_domain::appointments::engine::{Engine, EnginePorts, EngineSettings};
use gateway_domain::capture::{Booking, Ingest, IngestSettings, Ports};
use gateway_domain::case::CaseReader;
use gateway_domain::clock::Clock;
use gateway_domain::clock::SystemClock;
use gateway_domain::keys::KeyRing;
use gateway_domain::metrics::{MetricSink, NoMetrics};
use gateway_domain::notices::NoticeHandoff;
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::ConfigStore;
use gateway_domain::tenancy::cache::CachedConfigStore;
use gateway_lambda::TimeBudget;

pub use edge::{SIGNATURE_HEADER, router};

/// AWS calls on the hot path: DynamoDB and SQS answer in milliseconds; a slow attempt is retried,
/// and a call that still hangs fails instead of the whole request (which the deadline answers 503).
pub const SDK_TIMEOUTS: SdkTimeouts = SdkTimeouts {
    attempt: Duration::from_secs(2),
    operation: Duration::from_secs(4),
};

/// A booking, move or cancellation at the company's calendar (the engine's `booking_budget`; a
/// slot search gets 2 s).
pub const CALENDAR_BUDGET: Duration = Duration::from_secs(6);

/// `Timeout` in template.yaml. Retell gives up on a webhook after 10 s; a request not finished
/// 1 s before the timeout is answered 503 so Retell retries (every write is idempotent). A
/// booking function answers within the same 7 s: the voice agent waits while it runs.
pub const TIME_BUDGET: TimeBudget = TimeBudget {
    function_timeout: Duration::from_secs(8),
    margin: Duration::from_secs(1),
    calls: &[("aws", SDK_TIMEOUTS.operation), ("calendar", CALENDAR_BUDGET)],
};

/// The secrets the ingest function accepts in two versions during a rotation: `<name>` and
/// `<name>_PREVIOUS` (template.yaml passes both; a test keeps them in step).
pub const ROTATED_KEYS: [&str; 2] = [RETELL_API_KEY, LINK_SIGNING_KEY];
const RETELL_API_KEY: &str = "RETELL_API_KEY";
const LINK_SIGNING_KEY: &str = "LINK_SIGNING_KEY";

/// Typed configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub enrich_queue_url: String,
    /// Appointment notices go here right after the change (the sweep catches the rest).
    pub delivery_queue_url: String,
    /// `RETELL_API_KEY`, and during a key rotation `RETELL_API_KEY_PREVIOUS`: a request signed
    /// with either is accepted.
    pub retell_keys: KeyRing,
    /// How long routes and tenant configuration are cached per container.
    pub config_cache: chrono::Duration,
    /// Bucket and keys for the gateway-signed links (`GET /recordings/…`, `GET /cases/…`); both or
    /// neither. `LINK_SIGNING_KEY` signs, `LINK_SIGNING_KEY_PREVIOUS` (during a rotation) still verifies.
    pub recording_links: Option<(String, KeyRing)>,
    /// Which calendar servers (Cal.com, CalDAV) may be reached.
    pub url_policy: UrlPolicy,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            enrich_queue_url: env_var("ENRICH_QUEUE_URL")?,
            delivery_queue_url: env_var("DELIVERY_QUEUE_URL")?,
            retell_keys: key_ring_from_env(RETELL_API_KEY)?,
            config_cache: config_cache_from_env()?,
            recording_links: match (
                std::env::var("RECORDINGS_BUCKET"),
                optional_key_ring_from_env(LINK_SIGNING_KEY),
            ) {
                (Ok(bucket), Some(keys)) if !bucket.is_empty() => Some((bucket, keys)),
                _ => None,
            },
            url_policy: gateway_adapters::aws::url_policy(gateway_adapters::aws::local_mode_from_env()),
        })
    }
}

/// The handler's shared state: built once per container, reused by every invocation.
pub struct App {
    pub(crate) ingest: Ingest,
    pub(crate) cases: Arc<dyn CaseReader>,
    pub(crate) config: Arc<dyn ConfigStore>,
    pub(crate) links: Option<links::SignedLinks>,
    /// `POST /webhooks/calcom/{company}`, when wired.
    pub(crate) calcom: Option<Arc<calcom_webhook::CalcomHooks>>,
    /// How long a request may take when no Lambda context says (the local stack, tests).
    pub(crate) function_timeout: Duration,
    /// Retell requests, failures and answer times (the edge); capture's counts go through `ingest`.
    pub(crate) metrics: Arc<dyn MetricSink>,
}

impl App {
    /// Wires the real adapters. Makes no network call.
    pub fn new(config: &Config, sdk: &SdkConfig) -> Self {
        let app = Self::from_clients(
            config,
            aws_sdk_dynamodb::Client::new(sdk),
            aws_sdk_sqs::Client::new(sdk),
        )
        .with_metrics(gateway_lambda::metrics::from_env());
        match &config.recording_links {
            Some((bucket, keys)) => {
                app.with_recording_links(gateway_adapters::aws::s3_client(sdk), bucket, keys.clone())
            }
            None => app,
        }
    }

    /// Enables the gateway-signed links: `GET /recordings/<key>?expires=…&sig=…` and
    /// `GET /cases/<company>/<call>?expires=…&sig=…`, checked against `signing_keys` (the current
    /// key and, during a rotation, the previous one; new links are signed with the current key).
    pub fn with_recording_links(
        mut self,
        s3: aws_sdk_s3::Client,
        bucket: &str,
        signing_keys: impl Into<KeyRing>,
    ) -> Self {
        self.links = Some(links::SignedLinks::new(s3, bucket, signing_keys.into()));
        self
    }

    /// Wires the real adapters around given clients (tests add interceptors to count requests).
    pub fn from_clients(config: &Config, ddb: aws_sdk_dynamodb::Client, sqs: aws_sdk_sqs::Client) -> Self {
        let store = DynamoStore::new(ddb, &config.table_name);
        let queue = SqsQueue::new(sqs.clone(), &config.enrich_queue_url);
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let ports = Ports {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(
                store.clone(),
                clock.clone(),
                config.config_cache,
            )),
            queue: Arc::new(queue),
            clock: clock.clone(),
        };
        let engine = Arc::new(
            Engine::new(
                EnginePorts {
                    calendars: Arc::new(TenantCalendars::new(config.url_policy.clone())),
                    store: Arc::new(store.clone()),
                    clock: clock.clone(),
                },
                EngineSettings {
                    booking_budget: CALENDAR_BUDGET,
                    ..EngineSettings::default()
                },
            )
            // Cal.com sends the webhook about our own cancel or move before it answers us: the
            // mark tells the webhook route that the change is ours.
            .with_change_marks(Arc::new(store.clone())),
        );
        let calcom = Arc::new(calcom_webhook::CalcomHooks::new(calcom_webhook::CalcomHookPorts {
            config: ports.config.clone(),
            store: Arc::new(store.clone()),
            receipts: Arc::new(store.clone()),
            marks: Arc::new(store.clone()),
            clock: clock.clone(),
            slots: engine.clone(),
        }));
        let notices = NoticeHandoff {
            notices: Arc::new(store.clone()),
            queue: Arc::new(SqsQueue::new(sqs, &config.delivery_queue_url)),
            clock: clock.clone(),
        };
        let booking = Booking {
            desk: Arc::new(BookingDesk::new(engine, clock).with_listener(Arc::new(notices))),
            appointments: Arc::new(store.clone()),
            events: Arc::new(store),
        };
        Self::with_ports(config.retell_keys.clone(), ports)
            .with_booking(booking)
            .with_calcom_hooks(calcom)
    }

    /// Enables `POST /webhooks/calcom/{company}` (Cal.com webhooks).
    pub fn with_calcom_hooks(mut self, hooks: Arc<calcom_webhook::CalcomHooks>) -> Self {
        self.calcom = Some(hooks);
        self
    }

    /// Enables the booking functions with `booking` (tests wire in-memory twins or the stand-in).
    pub fn with_booking(mut self, booking: Booking) -> Self {
        self.ingest = self.ingest.with_booking(booking);
        self
    }

    /// Wires any ports (in-memory ones for tests and benchmarks).
    pub fn with_ports(retell_keys: impl Into<KeyRing>, ports: Ports) -> Self {
        Self {
            cases: ports.cases.clone(),
            config: ports.config.clone(),
            ingest: Ingest::new(IngestSettings::new(retell_keys), ports),
            links: None,
            calcom: None,
            function_timeout: TIME_BUDGET.function_timeout,
            metrics: Arc::new(NoMetrics),
        }
    }

    /// Counts Retell requests and what capture does (CloudWatch EMF in Lambda).
    pub fn with_metrics(mut self, metrics: Arc<dyn MetricSink>) -> Self {
        self.ingest = self.ingest.with_metrics(metrics.clone());
        self.metrics = metrics;
        self
    }

    /// A different request time limit where no Lambda context gives one (tests of the 503).
    pub fn with_function_timeout(mut self, timeout: Duration) -> Self {
        self.function_timeout = timeout;
        self
    }

    /// The router over this app.
    pub fn into_router(self) -> axum::Router {
        router(Arc::new(self))
    }
}
