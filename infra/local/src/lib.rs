//! The local stack: an SDK configuration for the emulator, provisioning plus the demo tenant,
//! and an HTTP server that feeds the real ingest handler (what API Gateway does when deployed).
//! Shared by `make run` and the end-to-end tests, so both exercise the same path.

use std::convert::Infallible;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use gateway_adapters::DynamoStore;
use gateway_adapters::provision::{Provisioned, ResourceNames, provision};
use gateway_domain::tenant::TenantSpec;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use ingest::App;
use tokio::net::TcpListener;

pub mod event_source;
pub mod recording_server;
pub mod webhook_sink;

pub const REGION: &str = "eu-central-1";
/// The local sender domain (an SES identity in the emulator).
pub const MAIL_DOMAIN: &str = "service-gateway.example";
/// Signs recording links locally (deployed: the LinkSigningKey parameter).
pub const LINK_SIGNING_KEY: &str = "local-link-signing-key";
pub const MAIL_FROM: &str = "Service Gateway <gateway@service-gateway.example>";
/// API Gateway's own payload limit; the handler enforces Retell's 1 MB itself.
const MAX_REQUEST_BYTES: usize = 10 * 1024 * 1024;

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

/// SDK configuration for the emulator: fixed region and dummy credentials.
pub async fn emulator_sdk(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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

/// The ingest function's configuration for provisioned local resources.
pub fn ingest_config(provisioned: &Provisioned, retell_api_key: &str) -> ingest::Config {
    ingest::Config {
        table_name: provisioned.table.clone(),
        enrich_queue_url: provisioned.enrich_queue_url.clone(),
        retell_api_key: retell_api_key.to_string(),
        config_cache_seconds: 5,
        recording_links: Some((provisioned.bucket.clone(), LINK_SIGNING_KEY.into())),
    }
}

/// Serves the ingest handler over HTTP/1.1 until the task is dropped.
pub async fn serve(listener: TcpListener, app: Arc<App>) -> Result<(), BoxError> {
    loop {
        let (stream, _) = listener.accept().await?;
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(dispatch(&app, req).await) }
            });
            if let Err(err) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %err, "connection closed");
            }
        });
    }
}

async fn dispatch(app: &App, req: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, MAX_REQUEST_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return plain(
                413,
                r#"{"error":"payload_too_large","message":"request body over 10 MB"}"#,
            );
        }
    };
    let request = lambda_http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
    match ingest::handle(app, request).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            hyper::Response::from_parts(parts, Full::new(Bytes::copy_from_slice(body.as_ref())))
        }
        Err(err) => {
            tracing::error!(error = %err, "handler failed");
            plain(500, r#"{"error":"internal","message":"handler failed"}"#)
        }
    }
}

fn plain(status: u16, body: &'static str) -> hyper::Response<Full<Bytes>> {
    let mut resp = hyper::Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}
