//! The local stack: an SDK configuration for the emulator, provisioning plus the demo tenant,
//! and an HTTP server that feeds the real ingest handler (what API Gateway does when deployed).
//! Shared by `make run` and the end-to-end tests, so both exercise the same path.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use gateway_adapters::DynamoStore;
use gateway_adapters::aws::{SdkTimeouts, timeout_config};
use gateway_adapters::provision::{Provisioned, ResourceNames, provision};
use gateway_domain::keys::KeyRing;
use gateway_domain::ssrf::UrlPolicy;
use gateway_domain::tenancy::TenantSpec;
use tokio::net::TcpListener;

pub mod calendars;
pub mod demo_appointment;
pub mod event_source;
pub mod mail;
pub mod recording_server;
pub mod stack;
pub mod webhook_sink;

pub const REGION: &str = "eu-central-1";
/// The local sender domain (an SES identity in the emulator).
pub const MAIL_DOMAIN: &str = "service-gateway.example";
/// Signs recording links locally (deployed: the LinkSigningKey parameter).
pub const LINK_SIGNING_KEY: &str = "local-link-signing-key";
pub const MAIL_FROM: &str = "Service Gateway <gateway@service-gateway.example>";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The emulator's endpoint from `AWS_ENDPOINT_URL`; refuses anything but loopback so local
/// tooling can never create resources in a real account.
pub fn emulator_endpoint() -> Result<String, BoxError> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").map_err(
        |_| "AWS_ENDPOINT_URL is not set: start the emulator with `make run` / `make test` (infra/emulator.sh)",
    )?;
    let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
    if !loopback.iter().any(|p| endpoint.starts_with(p)) {
        return Err(format!("AWS_ENDPOINT_URL={endpoint} is not a loopback emulator").into());
    }
    Ok(endpoint)
}

/// SDK configuration for the emulator: fixed region and dummy credentials. Tools and tests
/// allow slower calls than the functions do (the emulator serialises its writes).
pub async fn emulator_sdk(endpoint: &str) -> SdkConfig {
    emulator_sdk_with(
        endpoint,
        SdkTimeouts {
            attempt: std::time::Duration::from_secs(30),
            operation: std::time::Duration::from_secs(60),
        },
    )
    .await
}

/// The same with a function's own call timeouts, so local runs fail calls where Lambda would.
pub async fn emulator_sdk_with(endpoint: &str, timeouts: SdkTimeouts) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(timeout_config(timeouts))
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
        .load()
        .await
}

/// S3 against the emulator needs path-style addressing (no per-bucket DNS names locally).
pub fn s3_client(sdk: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(sdk).force_path_style(true).build())
}

/// Creates the table and queues and writes the tenants.
pub async fn provision_and_seed(
    sdk: &SdkConfig,
    names: &ResourceNames,
    tenants: &[TenantSpec],
) -> Result<Provisioned, BoxError> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let provisioned = provision(&ddb, &sqs, &s3_client(sdk), names).await?;
    gateway_adapters::provision::create_email_identity(&aws_sdk_sesv2::Client::new(sdk), MAIL_DOMAIN).await?;
    let store = DynamoStore::new(ddb, &provisioned.table);
    for tenant in tenants {
        store.apply_spec(tenant).await?;
    }
    Ok(provisioned)
}

/// The ingest function's configuration for provisioned local resources; `retell_keys` the Retell
/// key (with a previous one during a rotation); `policy` says which calendar servers (the Cal.com
/// stand-in, Radicale) the booking functions may reach. Links are checked against
/// [`LINK_SIGNING_KEY`] (a test rotating it sets `recording_links` itself).
pub fn ingest_config(provisioned: &Provisioned, retell_keys: impl Into<KeyRing>, policy: UrlPolicy) -> ingest::Config {
    ingest::Config {
        table_name: provisioned.table.clone(),
        enrich_queue_url: provisioned.enrich_queue_url.clone(),
        delivery_queue_url: provisioned.delivery_queue_url.clone(),
        retell_keys: retell_keys.into(),
        config_cache: chrono::Duration::seconds(30),
        recording_links: Some((provisioned.bucket.clone(), KeyRing::new(LINK_SIGNING_KEY))),
        url_policy: policy,
    }
}

/// Keeps `ring` in the emulator's Secrets Manager as secret `name` (created, or given a new
/// value), the way the stack keeps its keys; returns the secret's ARN.
pub async fn store_key_ring(sdk: &SdkConfig, name: &str, ring: &KeyRing) -> Result<String, BoxError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    match client
        .create_secret()
        .name(name)
        .secret_string(ring.to_secret())
        .send()
        .await
    {
        Ok(created) => Ok(created.arn().unwrap_or(name).to_string()),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_exists_exception()) => {
            let put = client
                .put_secret_value()
                .secret_id(name)
                .secret_string(ring.to_secret())
                .send()
                .await?;
            Ok(put.arn().unwrap_or(name).to_string())
        }
        Err(e) => Err(e.into()),
    }
}

/// Serves the gateway's router (the one Lambda runs) until the task is dropped.
pub async fn serve(listener: TcpListener, router: axum::Router) -> Result<(), BoxError> {
    axum::serve(listener, router).await?;
    Ok(())
}

/// The outbound URL rules of the local stack: http allowed, the stack's own stand-ins (sinks,
/// recording host) and every `host:port` in `GATEWAY_URL_ALLOW_LIST` past the SSRF guard, the
/// same list `gatewayctl` accepts tenants against, so a tenant it accepts is delivered to.
pub fn local_url_policy(stand_ins: &[String], env_allow_list: Option<&str>) -> UrlPolicy {
    let mut allow: Vec<String> = stand_ins.to_vec();
    allow.extend(
        env_allow_list
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    UrlPolicy::local(allow)
}

/// Signs the console's session cookies locally (deployed: the ConsoleSessionKey parameter).
pub const CONSOLE_SESSION_KEY: &str = "local-console-session-key-not-for-production";

/// The console against the emulator: its Cognito (moto) serves the pool's keys at its own
/// address while the tokens name the AWS issuer, so the two are set apart here.
pub fn console_config(
    endpoint: &str,
    provisioned: &Provisioned,
    pool: &gateway_adapters::cognito::UserPool,
    policy: UrlPolicy,
) -> console::Config {
    let mut cognito = console::CognitoSettings::aws(REGION, &pool.pool_id, &pool.client_id);
    cognito.jwks_url = format!("{endpoint}/{}/.well-known/jwks.json", pool.pool_id);
    console::Config {
        table_name: provisioned.table.clone(),
        delivery_queue_url: provisioned.delivery_queue_url.clone(),
        cognito,
        session_keys: KeyRing::new(CONSOLE_SESSION_KEY),
        link_signing_key: Some(LINK_SIGNING_KEY.into()),
        // Presigned recording URLs point at the emulator's S3.
        media_origins: endpoint.to_string(),
        url_policy: policy,
        config_cache: chrono::Duration::seconds(30),
    }
}

/// The console's user pool in the emulator.
pub async fn console_user_pool(sdk: &SdkConfig, name: &str) -> Result<gateway_adapters::cognito::UserPool, BoxError> {
    let client = aws_sdk_cognitoidentityprovider::Client::new(sdk);
    Ok(gateway_adapters::cognito::provision_user_pool(&client, name).await?)
}
