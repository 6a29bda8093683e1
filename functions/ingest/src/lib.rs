//! The ingest Lambda's handler: HTTP in, domain call, HTTP out. Routes:
//! `POST /webhooks/retell` (lifecycle events and `call_inbound`, also at `/webhooks/retell/inbound`),
//! `POST /retell/functions` (custom functions), and the gateway-signed links delivered cases
//! carry: `GET /recordings/…` and `GET /cases/<company>/<call>`.

use std::sync::Arc;

use aws_config::SdkConfig;
use gateway_adapters::aws::{ConfigError, env_var};
use gateway_adapters::{DynamoStore, SqsQueue};
use gateway_domain::IngestError;
use gateway_domain::cache::CachedConfigStore;
use gateway_domain::ingest::{Ingest, IngestSettings, Ports, WebhookReply};
use gateway_domain::links::{LinkError, LinkSettings, verify};
use gateway_domain::ports::{CaseStore, ConfigStore, SystemClock};
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
    /// Bucket and key for the gateway-signed links (`GET /recordings/…`, `GET /cases/…`); both or neither.
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

/// Serves gateway-signed links: recordings by redirecting to a short-lived presigned S3 URL,
/// cases as a read-only page.
struct SignedLinks {
    s3: aws_sdk_s3::Client,
    bucket: String,
    /// The signing key, with an empty base URL: links on the case page are relative to it.
    links: LinkSettings,
}

/// Presigned S3 URLs behind a recording link live this long (the link itself carries the TTL).
const PRESIGNED_SECONDS: u64 = 60;

/// The handler's shared state: built once per container, reused by every invocation.
pub struct App {
    ingest: Ingest,
    cases: Arc<dyn CaseStore>,
    config: Arc<dyn ConfigStore>,
    links: Option<SignedLinks>,
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

    /// Enables the gateway-signed links: `GET /recordings/<key>?expires=…&sig=…` and
    /// `GET /cases/<company>/<call>?expires=…&sig=…`.
    pub fn with_recording_links(mut self, s3: aws_sdk_s3::Client, bucket: &str, signing_key: &str) -> Self {
        self.links = Some(SignedLinks {
            s3,
            bucket: bucket.into(),
            links: LinkSettings {
                base_url: String::new(),
                signing_key: signing_key.into(),
            },
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
            cases: ports.cases.clone(),
            config: ports.config.clone(),
            ingest: Ingest::new(IngestSettings::new(retell_api_key), ports),
            links: None,
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
    if req.method() == Method::GET {
        let query = req.uri().query().unwrap_or_default();
        if path.starts_with("/recordings/") {
            return recording_link(app, &path, query).await;
        }
        if path.starts_with("/cases/") {
            return case_link(app, &path, query).await;
        }
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

type Answer = Result<Response<Body>, Error>;

/// The link settings when the link is valid, else the status and body that say why not.
fn checked_link<'a>(app: &'a App, path: &str, query: &str) -> Result<&'a SignedLinks, (StatusCode, Value)> {
    let Some(links) = &app.links else {
        return Err((
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": "signed links are not enabled"}),
        ));
    };
    let (status, error, message) = match verify(&links.links.signing_key, path, query, chrono::Utc::now()) {
        Ok(()) => return Ok(links),
        Err(LinkError::Malformed) => (StatusCode::BAD_REQUEST, "bad_request", "link needs expires and sig"),
        Err(LinkError::BadSignature) => (StatusCode::FORBIDDEN, "forbidden", "invalid link signature"),
        Err(LinkError::Expired) => (StatusCode::GONE, "expired", "this link has expired"),
    };
    Err((status, json!({"error": error, "message": message})))
}

/// Checks a gateway-signed recording link and redirects to a presigned URL valid for a minute.
async fn recording_link(app: &App, path: &str, query: &str) -> Answer {
    let links = match checked_link(app, path, query) {
        Ok(links) => links,
        Err((status, body)) => return respond(status, body),
    };
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

/// Checks a gateway-signed case link and shows the case as a read-only page.
async fn case_link(app: &App, path: &str, query: &str) -> Answer {
    let links = match checked_link(app, path, query) {
        Ok(links) => links,
        Err((status, body)) => return respond(status, body),
    };
    let not_found = || {
        respond(
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "message": "no such case"}),
        )
    };
    let Some((company_id, call_id)) = path.trim_start_matches("/cases/").split_once('/') else {
        return not_found();
    };
    let (case, tenant) = match (
        app.cases.get_case(company_id, call_id).await,
        app.config.tenant(company_id).await,
    ) {
        (Ok(Some(case)), Ok(Some(tenant))) => (case, tenant),
        (Ok(_), Ok(_)) => return not_found(),
        (Err(e), _) | (_, Err(e)) => return error_response(&IngestError::from(e)),
    };
    let html = gateway_domain::case_page::render(&case, &tenant, &links.links, chrono::Utc::now())?;
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("referrer-policy", "no-referrer")
        .header("x-robots-tag", "noindex")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )
        .body(Body::from(html))?)
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
