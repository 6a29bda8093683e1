//! The operator console: server-rendered pages under `/console` for a company's service desk
//! (dashboard, cases, a case with its call and trail, the exchange log, outputs), signed in with
//! Amazon Cognito. The ID token is verified on every request (signature against the pool's
//! JWKS, issuer, audience, expiry); the company always comes from the verified session, and
//! every read is keyed by it. The same router runs in Lambda and in `make run`.

pub mod auth;
pub mod i18n;
pub mod pages;
pub mod views;

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use gateway_adapters::aws::{
    ConfigError, SdkTimeouts, config_cache_from_env, env_var, key_ring_from_env, optional_key_ring_from_env,
};
use gateway_adapters::{DynamoStore, HttpWebhooks, SqsQueue};
use gateway_domain::clock::SystemClock;
use gateway_domain::keys::KeyRing;
use gateway_domain::links::LinkSettings;
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::ConfigStore;
use gateway_domain::tenancy::cache::CachedConfigStore;
use gateway_lambda::TimeBudget;

pub use pages::router;

/// AWS calls of a page: a dashboard over thousands of cases reads several index pages.
pub const SDK_TIMEOUTS: SdkTimeouts = SdkTimeouts {
    attempt: Duration::from_secs(4),
    operation: Duration::from_secs(10),
};

/// `Timeout` in template.yaml: a page that is not done by then is answered 503. The test
/// webhook (30 s at most for a real delivery) is capped by this deadline too.
pub const TIME_BUDGET: TimeBudget = TimeBudget {
    function_timeout: Duration::from_secs(15),
    margin: Duration::from_secs(2),
    calls: &[("aws", SDK_TIMEOUTS.operation)],
};

/// The user pool the console signs in against.
#[derive(Debug, Clone)]
pub struct CognitoSettings {
    pub pool_id: String,
    pub client_id: String,
    /// `iss` of the pool's tokens: `https://cognito-idp.<region>.amazonaws.com/<pool>`.
    pub issuer: String,
    /// Where the pool's signing keys are (the emulator serves them elsewhere than `iss`).
    pub jwks_url: String,
}

impl CognitoSettings {
    /// The settings of a pool in AWS: issuer and JWKS URL as Cognito publishes them.
    pub fn aws(region: &str, pool_id: &str, client_id: &str) -> Self {
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        Self {
            pool_id: pool_id.into(),
            client_id: client_id.into(),
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
        }
    }
}

/// Typed configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub delivery_queue_url: String,
    pub cognito: CognitoSettings,
    /// Signs the session cookie and derives the CSRF tokens (32+ random characters each); during
    /// a rotation the previous key still opens sessions and checks CSRF tokens.
    pub session_keys: KeyRing,
    /// Signs recording links for the audio player (the HTTP API redeems them).
    pub link_signing_key: Option<String>,
    /// Origins the audio player may load from after the recording link's redirect (CSP `media-src`).
    pub media_origins: String,
    /// Outbound rules for the test webhook (the same as the deliver function's).
    pub url_policy: UrlPolicy,
    pub config_cache: chrono::Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let region = env_var("AWS_REGION")?;
        let mut cognito = CognitoSettings::aws(
            &region,
            &env_var("COGNITO_USER_POOL_ID")?,
            &env_var("COGNITO_CLIENT_ID")?,
        );
        if let Ok(url) = std::env::var("COGNITO_JWKS_URL") {
            cognito.jwks_url = url;
        }
        // From its secret (CONSOLE_SESSION_KEY_SECRET_ARN) in AWS, from the environment locally.
        let session_keys = key_ring_from_env("CONSOLE_SESSION_KEY")?;
        if session_keys.keys().any(|(_, key)| key.len() < 32) {
            return Err(ConfigError::Invalid {
                name: "CONSOLE_SESSION_KEY".into(),
                reason: "needs at least 32 characters".into(),
            });
        }
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            delivery_queue_url: env_var("DELIVERY_QUEUE_URL")?,
            cognito,
            session_keys,
            link_signing_key: optional_key_ring_from_env("LINK_SIGNING_KEY").map(|keys| keys.current().to_string()),
            media_origins: std::env::var("CONSOLE_MEDIA_ORIGINS")
                .unwrap_or_else(|_| format!("https://*.s3.{region}.amazonaws.com")),
            url_policy: gateway_adapters::aws::url_policy(gateway_adapters::aws::local_mode_from_env()),
            config_cache: config_cache_from_env()?,
        })
    }
}

/// The console's shared state: built once per container, without network calls.
pub struct App {
    pub(crate) store: DynamoStore,
    pub(crate) config: Arc<dyn ConfigStore>,
    pub(crate) queue: SqsQueue,
    pub(crate) cognito: aws_sdk_cognitoidentityprovider::Client,
    pub(crate) client_id: String,
    pub(crate) verifier: auth::token::Verifier,
    pub(crate) sessions: auth::session::SessionKey,
    pub(crate) links: Option<LinkSettings>,
    pub(crate) webhooks: Option<HttpWebhooks>,
    pub(crate) csp: String,
    pub(crate) function_timeout: Duration,
    /// Each request's handler time (`HandlerDuration`, `Function=console`).
    pub(crate) metrics: Arc<dyn gateway_domain::metrics::MetricSink>,
}

impl App {
    pub fn new(config: &Config, sdk: &SdkConfig) -> Self {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let webhooks = match HttpWebhooks::new(config.url_policy.clone(), gateway_adapters::outbound::WEBHOOK_BUDGET) {
            Ok(client) => Some(client),
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client for test webhooks");
                None
            }
        };
        Self {
            config: Arc::new(CachedConfigStore::new(store.clone(), clock, config.config_cache)),
            store,
            queue: SqsQueue::new(aws_sdk_sqs::Client::new(sdk), &config.delivery_queue_url),
            cognito: aws_sdk_cognitoidentityprovider::Client::new(sdk),
            client_id: config.cognito.client_id.clone(),
            verifier: auth::token::Verifier::new(&config.cognito),
            sessions: auth::session::SessionKey::from_ring(config.session_keys.clone()),
            links: config.link_signing_key.as_ref().map(|key| LinkSettings {
                base_url: String::new(),
                signing_key: key.clone(),
            }),
            webhooks,
            csp: pages::content_security_policy(&config.media_origins),
            function_timeout: TIME_BUDGET.function_timeout,
            metrics: gateway_lambda::metrics::from_env(),
        }
    }

    /// Where the request times go (CloudWatch EMF in Lambda).
    pub fn with_metrics(mut self, metrics: Arc<dyn gateway_domain::metrics::MetricSink>) -> Self {
        self.metrics = metrics;
        self
    }

    /// A different page time limit where no Lambda context gives one (benchmarks).
    pub fn with_function_timeout(mut self, timeout: Duration) -> Self {
        self.function_timeout = timeout;
        self
    }

    /// The router over this app.
    pub fn into_router(self) -> axum::Router {
        router(Arc::new(self))
    }
}
