//! Shared SDK configuration. `AWS_ENDPOINT_URL` (read by the SDK itself) points every client at
//! the local emulator; nothing here touches the network, so it is safe at cold start.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use gateway_domain::StoreError;

/// How long one AWS call may take: each attempt, and all attempts with the SDK's retries. Every
/// function sets these below its own timeout, so a slow service fails a call instead of the
/// invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdkTimeouts {
    pub attempt: Duration,
    pub operation: Duration,
}

pub async fn sdk_config(timeouts: SdkTimeouts) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeout_config(timeouts))
        .load()
        .await
}

pub fn timeout_config(timeouts: SdkTimeouts) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(timeouts.attempt.min(Duration::from_secs(2)))
        .operation_attempt_timeout(timeouts.attempt)
        .operation_timeout(timeouts.operation)
        .build()
}

/// `CONFIG_CACHE_SECONDS`: how long a warm function keeps routes and tenant configuration
/// (default 60), the same for every function.
pub fn config_cache_from_env() -> Result<chrono::Duration, ConfigError> {
    match std::env::var("CONFIG_CACHE_SECONDS") {
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .map(|s| chrono::Duration::seconds(i64::from(s)))
            .map_err(|_| ConfigError::Invalid {
                name: "CONFIG_CACHE_SECONDS".into(),
                reason: format!("'{v}' is not a number of seconds"),
            }),
        Err(_) => Ok(chrono::Duration::seconds(60)),
    }
}

/// S3 client; with a custom endpoint (the local emulator) it uses path-style addressing, since
/// per-bucket host names do not resolve locally.
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    let path_style = sdk.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .build(),
    )
}

/// Maps any SDK error to a retryable store error; the SDK error stays its source (logged as a
/// chain at the edge, never shown to callers).
pub fn unavailable<E>(operation: &str, err: aws_sdk_dynamodb::error::SdkError<E>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    StoreError::unavailable(operation, err)
}

/// `GATEWAY_LOCAL_MODE=1`: the functions run against the local emulator (never set in the stack).
pub fn local_mode_from_env() -> bool {
    std::env::var("GATEWAY_LOCAL_MODE").is_ok_and(|v| v == "1")
}

/// Outbound URL rules: strict (https, no private addresses) unless `local`, where http is allowed
/// and the `host:port`s in `GATEWAY_URL_ALLOW_LIST` (comma-separated) pass the SSRF guard.
pub fn url_policy(local: bool) -> gateway_domain::ssrf::UrlPolicy {
    if !local {
        return gateway_domain::ssrf::UrlPolicy::strict();
    }
    let allow = std::env::var("GATEWAY_URL_ALLOW_LIST").unwrap_or_default();
    gateway_domain::ssrf::UrlPolicy::local(
        allow
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// `LINK_BASE_URL` + `LINK_SIGNING_KEY` (both or neither): where signed recording and case links
/// point. Without them messages carry no links.
pub fn link_settings_from_env() -> Option<gateway_domain::links::LinkSettings> {
    match (
        std::env::var("LINK_BASE_URL"),
        optional_key_ring_from_env("LINK_SIGNING_KEY"),
    ) {
        (Ok(base_url), Some(keys)) if !base_url.is_empty() => Some(gateway_domain::links::LinkSettings {
            base_url,
            signing_key: keys.current().to_string(),
        }),
        _ => None,
    }
}

/// A rotated key: from its secret when `<name>_SECRET_ARN` named one (read at cold start, see
/// [`crate::secrets`]), else `<name>` (required) and, during a rotation window, `<name>_PREVIOUS`
/// (optional; unset or empty means no rotation under way).
pub fn key_ring_from_env(name: &str) -> Result<gateway_domain::keys::KeyRing, ConfigError> {
    optional_key_ring_from_env(name).ok_or_else(|| ConfigError::Missing(name.to_string()))
}

/// The same for a secret that may be absent altogether (`None` when `<name>` is unset or empty).
pub fn optional_key_ring_from_env(name: &str) -> Option<gateway_domain::keys::KeyRing> {
    if let Some(ring) = crate::secrets::cold_start_ring(name) {
        return Some(ring);
    }
    let current = std::env::var(name).ok().filter(|v| !v.trim().is_empty())?;
    let previous = std::env::var(format!("{name}_PREVIOUS")).ok();
    Some(gateway_domain::keys::KeyRing::new(current).with_previous(previous))
}

/// Reads a required environment variable, naming it when missing.
pub fn env_var(name: &str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing(name.to_string())),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(String),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: String, reason: String },
}
