//! The alert Lambda's handler: consumes the delivery dead-letter queue. Each dead letter marks
//! its case `failed` and alerts the company's admins once per channel; a failing alert is
//! retried (and after five receives lands in the alert DLQ), the `failed` state stays.

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use gateway_adapters::aws::{ConfigError, env_var, local_mode_from_env, url_policy};
use gateway_adapters::{DynamoStore, HttpWebhooks, SesMailer};
use gateway_domain::alert::{AlertPorts, Alerter};
use gateway_domain::cache::CachedConfigStore;
use gateway_domain::links::LinkSettings;
use gateway_domain::ports::{DeliverRequest, SystemClock};
use gateway_domain::ssrf::UrlPolicy;
use lambda_runtime::{Error, LambdaEvent};

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    /// A verified SES identity.
    pub mail_from: String,
    pub url_policy: UrlPolicy,
    /// Public base URL and signing key for the case link in alerts.
    pub links: Option<LinkSettings>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            mail_from: env_var("MAIL_FROM")?,
            url_policy: url_policy(local_mode_from_env()),
            links: gateway_adapters::aws::link_settings_from_env(),
        })
    }
}

pub struct App {
    alerter: Alerter,
}

impl App {
    pub fn new(config: &Config, sdk: &SdkConfig) -> Self {
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), &config.table_name);
        let clock = Arc::new(SystemClock);
        let ports = AlertPorts {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(
                store.clone(),
                clock.clone(),
                chrono::Duration::seconds(60),
            )),
            mailer: Arc::new(SesMailer::new(aws_sdk_sesv2::Client::new(sdk), &config.mail_from)),
            slack: Arc::new(HttpWebhooks::new(config.url_policy.clone())),
            log: Arc::new(store),
            clock,
        };
        Self {
            alerter: Alerter::new(ports, config.links.clone()),
        }
    }
}

/// The reason the deliver function attached to a permanent failure, if any.
fn failure_reason(message: &SqsMessage) -> Option<&str> {
    message
        .message_attributes
        .get("failure_reason")
        .and_then(|a| a.string_value.as_deref())
}

pub async fn handle(app: &App, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let mut response = SqsBatchResponse::default();
    // One at a time, so two copies of one dead letter in a batch cannot both alert.
    for message in &event.payload.records {
        let Some(id) = message.message_id.clone() else {
            return Err("SQS record without messageId: failing the batch so nothing is dropped".into());
        };
        let Some(request) = message
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<DeliverRequest>(b).ok())
        else {
            tracing::error!(message_id = %id, "dead letter is not a delivery request; leaving it for the alert DLQ");
            response.add_failure(id);
            continue;
        };
        match app.alerter.process(&request, failure_reason(message)).await {
            Ok(outcome) => tracing::info!(call_id = %request.call_id, ?outcome, "final failure handled"),
            Err(err) => {
                tracing::warn!(call_id = %request.call_id, error = %err, "alert failed; will be retried");
                response.add_failure(id);
            }
        }
    }
    Ok(response)
}
