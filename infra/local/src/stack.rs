//! The four functions wired for the local stack as Lambda would run them: each with its own AWS
//! call timeouts, the queue consumers handing every batch the deadline of the function's timeout
//! (`local_context`), and one outbound allow-list for all of them.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use gateway_adapters::provision::{MAX_RECEIVE_COUNT, Provisioned};
use gateway_domain::links::LinkSettings;
use gateway_domain::ssrf::UrlPolicy;
use gateway_lambda::local_context;
use lambda_runtime::LambdaEvent;

use crate::event_source::consume;
use crate::{BoxError, LINK_SIGNING_KEY, MAIL_FROM, emulator_sdk_with, ingest_config};

/// What differs between `make run`, the tests and a deployment.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    /// The Retell key (`RETELL_API_KEY`, with `RETELL_API_KEY_PREVIOUS` during a rotation).
    pub retell_api_key: gateway_domain::keys::KeyRing,
    /// Outbound URL rules for enrich, deliver and alert.
    pub policy: UrlPolicy,
    /// Base URL of the local HTTP API, for signed links in deliveries and alerts.
    pub link_base_url: String,
    pub enrich_retry_seconds: Vec<u32>,
    pub backoff_seconds: Vec<u32>,
}

pub struct Functions {
    pub ingest: ingest::App,
    pub enrich: enrich::App,
    pub deliver: deliver::App,
    pub alert: alert::App,
    pub sweep: sweep::App,
}

/// The four functions against the emulator at `endpoint`.
pub async fn functions(
    endpoint: &str,
    provisioned: &Provisioned,
    settings: &LocalSettings,
) -> Result<Functions, BoxError> {
    let links = LinkSettings {
        base_url: settings.link_base_url.clone(),
        signing_key: LINK_SIGNING_KEY.into(),
    };
    // Short enough that an edited tenant takes effect while you watch, long enough that a load
    // run does not re-read it for every request.
    let cache = chrono::Duration::seconds(30);
    let ingest_sdk = emulator_sdk_with(endpoint, ingest::SDK_TIMEOUTS).await;
    let enrich_sdk = emulator_sdk_with(endpoint, enrich::SDK_TIMEOUTS).await;
    let deliver_sdk = emulator_sdk_with(endpoint, deliver::SDK_TIMEOUTS).await;
    let alert_sdk = emulator_sdk_with(endpoint, alert::SDK_TIMEOUTS).await;
    let sweep_sdk = emulator_sdk_with(endpoint, sweep::SDK_TIMEOUTS).await;
    Ok(Functions {
        ingest: ingest::App::new(
            &ingest_config(provisioned, settings.retell_api_key.clone(), settings.policy.clone()),
            &ingest_sdk,
        ),
        enrich: enrich::App::new(
            enrich::Config {
                table_name: provisioned.table.clone(),
                delivery_queue_url: provisioned.delivery_queue_url.clone(),
                enrich_queue_url: provisioned.enrich_queue_url.clone(),
                retry_seconds: settings.enrich_retry_seconds.clone(),
                recordings_bucket: provisioned.bucket.clone(),
                max_receives: MAX_RECEIVE_COUNT,
                url_policy: settings.policy.clone(),
                config_cache: cache,
            },
            &enrich_sdk,
        )?,
        deliver: deliver::App::new(
            deliver::Config {
                table_name: provisioned.table.clone(),
                delivery_queue_url: provisioned.delivery_queue_url.clone(),
                delivery_dlq_url: provisioned.delivery_dlq_url.clone(),
                mail_from: MAIL_FROM.into(),
                backoff_seconds: settings.backoff_seconds.clone(),
                url_policy: settings.policy.clone(),
                links: Some(links.clone()),
                config_cache: cache,
            },
            &deliver_sdk,
        )?,
        alert: alert::App::new(
            alert::Config {
                table_name: provisioned.table.clone(),
                mail_from: MAIL_FROM.into(),
                url_policy: settings.policy.clone(),
                links: Some(links),
                config_cache: cache,
            },
            &alert_sdk,
        )?,
        sweep: sweep::App::new(
            sweep::Config {
                table_name: provisioned.table.clone(),
                enrich_queue_url: provisioned.enrich_queue_url.clone(),
                delivery_queue_url: provisioned.delivery_queue_url.clone(),
                config_cache: cache,
            },
            &sweep_sdk,
        ),
    })
}

/// Runs enrich, deliver and alert as consumers of their queues (what Lambda's event source
/// mappings do), each batch with the deadline its function's timeout gives.
pub fn consume_queues(
    sqs: aws_sdk_sqs::Client,
    provisioned: &Provisioned,
    enrich_app: Arc<enrich::App>,
    deliver_app: Arc<deliver::App>,
    alert_app: Arc<alert::App>,
) {
    fn event(e: SqsEvent, timeout: Duration) -> LambdaEvent<SqsEvent> {
        LambdaEvent::new(e, local_context(timeout))
    }
    tokio::spawn(consume(
        sqs.clone(),
        provisioned.enrich_queue_url.clone(),
        "enrich",
        move |e| {
            let app = enrich_app.clone();
            async move { enrich::handle(&app, event(e, enrich::TIME_BUDGET.function_timeout)).await }
        },
    ));
    tokio::spawn(consume(
        sqs.clone(),
        provisioned.delivery_queue_url.clone(),
        "deliver",
        move |e| {
            let app = deliver_app.clone();
            async move { deliver::handle(&app, event(e, deliver::TIME_BUDGET.function_timeout)).await }
        },
    ));
    tokio::spawn(consume(sqs, provisioned.delivery_dlq_url.clone(), "alert", move |e| {
        let app = alert_app.clone();
        async move { alert::handle(&app, event(e, alert::TIME_BUDGET.function_timeout)).await }
    }));
}

/// Runs the sweep every `every`, as the schedule in template.yaml does (every minute) in AWS.
pub fn sweep_periodically(app: Arc<sweep::App>, every: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(every).await;
            if let Err(e) = app.sweep().await {
                tracing::warn!(error = %e, "sweep failed; the next run tries again");
            }
        }
    });
}
