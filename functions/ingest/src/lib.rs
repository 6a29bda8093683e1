//! The ingest Lambda's handler: HTTP in, domain call, HTTP out. Routes:
//! `POST /webhooks/retell` (lifecycle events and `call_inbound`, also at `/webhooks/retell/inbound`)
//! and `POST /retell/functions` (custom functions).

use std::sync::Arc;

use aws_config::SdkConfig;
use gateway_adapters::aws::{ConfigError, env_var};
use gateway_adapters::{DynamoStore, SqsQueue};
use gateway_domain::IngestError;
use gateway_domain::cache::CachedConfigStore;
use gateway_domain::ingest::{Ingest, IngestSettings, Ports, WebhookReply};
use gateway_domain::ports::SystemClock;
use lambda_http::http::{Method, StatusCode, header};
use lambda_http::{Body, Error, Request, Response};
use serde_json::{Value, json};

pub const SIGNATURE_HEADER: &str = "x-retell-signature";

/// Typed configuration, read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub enrich_queue_url: String,
    pub retell_api_key: String,
    /// How long routes and tenant configuration are cached per container.
    pub config_cache_seconds: i64,
    /// Bucket and key for `GET /recordings/…` (gateway-signed recording links); both or neither.
    pub recording_links: Option<(String, String)>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let config_cache_seconds = match std::env::var("CONFIG_CACHE_SECONDS") {
            Ok(v) => v.parse().map_err(|_| ConfigError::Invalid {
                name: "CONFIG_CACHE_SECONDS".into(),
                reason: format!("'{v}' is not a number of seconds"),
            })?,
            Err(_) => 60,
        };
        Ok(Self {
            table_name: env_var("TABLE_NAME")?,
            enrich_queue_url: env_var("ENRICH_QUEUE_URL")?,
            retell_api_key: env_var("RETELL_API_KEY")?,
            config_cache_seconds,
            recording_links: match (std::env::var("RECORDINGS_BUCKET"), std::env::var("LINK_SIGNING_KEY")) {
                (Ok(bucket), Ok(key)) if !bucket.is_empty() && !key.is_empty() => Some((bucket, key)),
                _ => None,
            },
        })
    }
}

/// Serves gateway-signed recording links by redirecting to a short-lived presigned S3 URL.
struct RecordingLinks {
    s3: aws_sdk_s3::Client,
    bucket: String,
    signing_key: String,
}

/// Presigned S3 URLs behind a recording link live this long (the link itself carries the TTL).
const PRESIGNED_SECONDS: u64 = 60;

/// The handler's shared state: built once per container, reused by every invocation.
pub struct App {
    ingest: Ingest,
    recordings: Option<RecordingLinks>,
}

impl App {
    /// Wires the real adapters. Makes no network call.
    pub fn new(config: &Config, sdk: &SdkConfig) -> Self {
        let app = Self::from_clients(
            config,
            aws_sdk_dynamodb::Client::new(sdk),
            aws_sdk_sqs::Client::new(sdk),
        );
        match &config.recording_links {
            Some((bucket, key)) => app.with_recording_links(gateway_adapters::aws::s3_client(sdk), bucket, key),
            None => app,
        }
    }

    /// Enables `GET /recordings/<key>?expires=…&sig=…` (gateway-signed recording links).
    pub fn with_recording_links(mut self, s3: aws_sdk_s3::Client, bucket: &str, signing_key: &str) -> Self {
        self.recordings = Some(RecordingLinks {
            s3,
            bucket: bucket.into(),
            signing_key: signing_key.into(),
        });
        self
    }

    /// Wires the real adapters around given clients (tests add interceptors to count requests).
    pub fn from_clients(config: &Config, ddb: aws_sdk_dynamodb::Client, sqs: aws_sdk_sqs::Client) -> Self {
        let store = DynamoStore::new(ddb, &config.table_name);
        let queue = SqsQueue::new(sqs, &config.enrich_queue_url);
        let clock = Arc::new(SystemClock);
        let ttl = chrono::Duration::seconds(config.config_cache_seconds);
        let ports = Ports {
            cases: Arc::new(store.clone()),
            config: Arc::new(CachedConfigStore::new(store, clock.clone(), ttl)),
            queue: Arc::new(queue),
            clock,
        };
        Self::with_ports(&config.retell_api_key, ports)
    }

    /// Wires any ports (in-memory ones for tests and benchmarks).
    pub fn with_ports(retell_api_key: &str, ports: Ports) -> Self {
        Self {
            ingest: Ingest::new(IngestSettings::new(retell_api_key), ports),
            recordings: None,
        }
    }
}

/// Entry point for every HTTP request.
pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let signature = req
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if path.starts_with("/recordings/") && req.method() == Method::GET {
        return recording_link(app, &path, req.uri().query().unwrap_or_default()).await;
    }
    let known = matches!(
        path.as_str(),
        "/webhooks/retell" | "/webhooks/retell/inbound" | "/retell/functions"
    );
    if !known {
        return respond(
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": format!("no route for {path}")}),
        );
    }
    if req.method() != Method::POST {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"error": "method_not_allowed", "message": format!("{path} accepts POST only")}),
        );
    }
    let body = req.body().as_ref();
    let result = if path == "/retell/functions" {
        app.ingest.function(body, signature.as_deref()).await.map(|r| json!(r))
    } else {
        app.ingest
            .webhook(body, signature.as_deref())
            .await
            .map(|reply| match reply {
                WebhookReply::Ack(ack) => json!(ack),
                WebhookReply::Inbound(answer) => answer,
            })
    };
    match result {
        Ok(answer) => respond(StatusCode::OK, answer),
        Err(err) => error_response(&err),
    }
}

/// Checks a gateway-signed recording link and redirects to a presigned URL valid for a minute.
async fn recording_link(app: &App, path: &str, query: &str) -> Result<Response<Body>, Error> {
    use gateway_domain::links::{LinkError, verify};
    let Some(links) = &app.recordings else {
        return respond(
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": "recording links are not enabled"}),
        );
    };
    match verify(&links.signing_key, path, query, chrono::Utc::now()) {
        Ok(()) => {}
        Err(LinkError::Malformed) => {
            return respond(
                StatusCode::BAD_REQUEST,
                json!({"error": "bad_request", "message": "link needs expires and sig"}),
            );
        }
        Err(LinkError::BadSignature) => {
            return respond(
                StatusCode::FORBIDDEN,
                json!({"error": "forbidden", "message": "invalid link signature"}),
            );
        }
        Err(LinkError::Expired) => {
            return respond(
                StatusCode::GONE,
                json!({"error": "expired", "message": "this link has expired"}),
            );
        }
    }
    let key = path.trim_start_matches("/recordings/");
    let presign =
        aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(PRESIGNED_SECONDS))?;
    let url = links
        .s3
        .get_object()
        .bucket(&links.bucket)
        .key(key)
        .presigned(presign)
        .await?;
    Ok(Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, url.uri())
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)?)
}

fn error_response(err: &IngestError) -> Result<Response<Body>, Error> {
    let message = err.to_string();
    let (status, body) = match err {
        IngestError::Unauthorized(_) => (
            StatusCode::UNAUTHORIZED,
            json!({"error": "unauthorized", "message": message}),
        ),
        IngestError::PayloadTooLarge { .. } => (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "payload_too_large", "message": message}),
        ),
        IngestError::BadRequest { field, .. } => (
            StatusCode::BAD_REQUEST,
            json!({"error": "bad_request", "field": field, "message": message}),
        ),
        IngestError::UnknownFunction(_) => (
            StatusCode::BAD_REQUEST,
            json!({"error": "unknown_function", "field": "name", "message": message, "supported": ["finalize_ticket"]}),
        ),
        e if e.is_retryable() => {
            tracing::warn!(error = %e, "answering 503 so Retell retries");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "retry", "message": message}),
            )
        }
        e => {
            tracing::error!(error = %e, "internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "internal", "message": message}),
            )
        }
    };
    let mut response = respond(status, body)?;
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("2"));
    }
    Ok(response)
}

fn respond(status: StatusCode, body: Value) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))?)
}
