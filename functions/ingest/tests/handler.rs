//! The HTTP edge with in-memory ports: every status code the router can answer, the deadline's
//! 503, and opaque 5xx bodies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use chrono::Utc;
use gateway_domain::StoreError;
use gateway_domain::capture::Ports;
use gateway_domain::capture::retell::signature;
use gateway_domain::clock::Clock;
use gateway_domain::ids::CompanyId;
use gateway_domain::tenancy::{ConfigStore, RouteKey, Tenant, TenantSpec};
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryQueue};
use http_body_util::BodyExt;
use ingest::{App, SIGNATURE_HEADER};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::Value;
use tower::ServiceExt;

const KEY: &str = "key_handler_test";
const ANALYZED: &str = include_str!("../../../events/retell/call_analyzed.json");
const FINALIZE: &str = include_str!("../../../events/retell/finalize_ticket.json");
const NORDIT: &str = include_str!("../../../infra/tenants/nordit.yaml");

struct Edge {
    router: Router,
    cases: Arc<MemoryCaseStore>,
    queue: Arc<MemoryQueue>,
    clock: Arc<FixedClock>,
}

fn edge() -> Edge {
    edge_with(|config| config, Duration::from_secs(8))
}

/// The edge over in-memory ports, the config store wrapped by `wrap`, with a request time limit.
fn edge_with(wrap: impl FnOnce(Arc<MemoryConfigStore>) -> Arc<dyn ConfigStore>, time_limit: Duration) -> Edge {
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    let queue = Arc::new(MemoryQueue::default());
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    for route in spec.route_keys() {
        config.put_route(route, &spec.company.company_id);
    }
    config.put_tenant(spec.tenant().unwrap());
    let ports = Ports {
        cases: cases.clone(),
        config: wrap(config),
        queue: queue.clone(),
        clock: clock.clone(),
    };
    Edge {
        router: App::with_ports(KEY, ports)
            .with_function_timeout(time_limit)
            .into_router(),
        cases,
        queue,
        clock,
    }
}

impl Edge {
    fn signed(&self, body: &str) -> String {
        signature::sign(KEY, body.as_bytes(), self.clock.now().timestamp_millis() as u64)
    }

    async fn post(&self, path: &str, body: &str, signature: Option<String>) -> (StatusCode, Value) {
        let mut req = lambda_http::http::Request::builder().method("POST").uri(path);
        if let Some(sig) = signature {
            req = req.header(SIGNATURE_HEADER, sig);
        }
        let req: Request = req.body(Body::from(body.to_string())).unwrap();
        self.send(req).await
    }

    /// Any request through the router: the status and the JSON body.
    async fn send(&self, req: Request) -> (StatusCode, Value) {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        assert_eq!(resp.headers()["content-type"], "application/json", "{status}");
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    async fn post_signed(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.post(path, body, Some(self.signed(body))).await
    }
}

#[tokio::test]
async fn signed_call_analyzed_is_captured() {
    let e = edge();
    let (status, body) = e.post_signed("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "captured");
    assert_eq!(
        body["ticket_id"],
        "TKT-2026-00001".replace("2026", &Utc::now().format("%Y").to_string())
    );
    assert_eq!(e.queue.sent().len(), 1);
}

#[tokio::test]
async fn finalize_ticket_answers_the_agent() {
    let e = edge();
    let (status, body) = e.post_signed("/retell/functions", FINALIZE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(body["ticket_id"].as_str().unwrap())
    );
}

#[tokio::test]
async fn missing_tampered_stale_and_malformed_signatures_are_401() {
    let e = edge();
    let now = e.clock.now().timestamp_millis() as u64;
    let tampered_body = ANALYZED.replace("Weber", "Meier");
    let cases: Vec<(&str, Option<String>)> = vec![
        (ANALYZED, None),
        (tampered_body.as_str(), Some(e.signed(ANALYZED))),
        (ANALYZED, Some(signature::sign(KEY, ANALYZED.as_bytes(), now - 300_001))),
        (ANALYZED, Some(signature::sign(KEY, ANALYZED.as_bytes(), now + 300_001))),
        (ANALYZED, Some("v=abc,d=123".into())),
        (ANALYZED, Some(e.signed(ANALYZED).to_uppercase())),
        (ANALYZED, Some(signature::sign("not-the-key", ANALYZED.as_bytes(), now))),
    ];
    for (body, sig) in cases {
        for path in ["/webhooks/retell", "/retell/functions"] {
            let (status, json) = e.post(path, body, sig.clone()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} {sig:?}");
            assert_eq!(json["error"], "unauthorized");
        }
    }
    assert!(e.cases.cases_of(&CompanyId::new("nordit-hannover")).is_empty());
    assert!(e.queue.sent().is_empty());
}

#[tokio::test]
async fn bad_input_gets_400_naming_the_field() {
    let e = edge();
    for (body, field) in [
        ("{not json", "body"),
        ("[]", "body"),
        (r#"{"call":{}}"#, "event"),
        (r#"{"event":"call_analyzed"}"#, "call"),
        (r#"{"event":"call_analyzed","call":{"agent_id":"x"}}"#, "call.call_id"),
        (
            r#"{"event":"call_analyzed","call":{"call_id":"c","start_timestamp":"yesterday"}}"#,
            "call.start_timestamp",
        ),
        (r#"{"event":"call_inbound"}"#, "call_inbound"),
    ] {
        let (status, json) = e.post_signed("/webhooks/retell", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(json["field"], field, "{body}: {json}");
        assert!(json["message"].as_str().unwrap().len() > 5);
    }
    let (status, json) = e
        .post_signed(
            "/retell/functions",
            r#"{"name":"finalize_ticket","call":{"call_id":"c"},"args":{}}"#,
        )
        .await;
    assert_eq!(
        (status, json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("args.problem_description"))
    );
    let (status, json) = e
        .post_signed("/retell/functions", r#"{"name":"make_coffee","call":{"call_id":"c"}}"#)
        .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unknown_function"))
    );
    assert!(json["message"].as_str().unwrap().contains("make_coffee"));
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let e = edge();
    let body = format!(
        r#"{{"event":"call_ended","call":{{"call_id":"c","transcript":"{}"}}}}"#,
        "a".repeat(1024 * 1024)
    );
    let (status, json) = e.post_signed("/webhooks/retell", &body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(json["error"], "payload_too_large");
}

#[tokio::test]
async fn enqueue_failure_is_503_and_the_retry_succeeds() {
    let e = edge();
    e.queue.fail_next(1);
    let (status, json) = e.post_signed("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{json}");
    assert_eq!(json["error"], "retry");
    let (status, json) = e.post_signed("/webhooks/retell", ANALYZED).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(e.queue.sent().len(), 1);
    assert_eq!(e.cases.cases_of(&CompanyId::new("nordit-hannover")).len(), 1);
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let e = edge();
    let (status, json) = e.post_signed("/nope", ANALYZED).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    assert_eq!(json["message"], "no route for /nope");
    let req: Request = lambda_http::http::Request::builder()
        .method("GET")
        .uri("/webhooks/retell")
        .body(Body::Empty)
        .unwrap();
    let (status, json) = e.send(req).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json["message"], "/webhooks/retell does not accept GET");
    // Signed links are off without a bucket and signing key: a clear 404, not a page.
    for uri in [
        "/cases/nordit-hannover/call_x?expires=1&sig=00",
        "/recordings/k?expires=1&sig=00",
    ] {
        let req: Request = lambda_http::http::Request::builder()
            .uri(uri)
            .body(Body::Empty)
            .unwrap();
        let (status, body) = e.send(req).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["message"], "signed links are not enabled");
    }
}

#[tokio::test]
async fn api_gateway_envelope_from_events_is_understood() {
    let e = edge();
    let envelope = include_str!("../../../events/apigw/ingest-call-analyzed.json");
    let mut req = lambda_http::request::from_str(envelope).unwrap();
    // The file's signature is old; re-sign the exact body it carries.
    let body = String::from_utf8(req.body().as_ref().to_vec()).unwrap();
    req.headers_mut()
        .insert(SIGNATURE_HEADER, e.signed(&body).parse().unwrap());
    let (status, _) = e.send(req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(e.queue.sent().len(), 1);
}

/// A configuration store that answers only after a pause, or fails with a given error.
struct Troubled {
    inner: Arc<MemoryConfigStore>,
    pause: Duration,
    error: Option<fn() -> StoreError>,
}

#[async_trait]
impl ConfigStore for Troubled {
    async fn company_for(&self, route: &RouteKey) -> Result<Option<CompanyId>, StoreError> {
        tokio::time::sleep(self.pause).await;
        if let Some(error) = self.error {
            return Err(error());
        }
        self.inner.company_for(route).await
    }

    async fn tenant(&self, company_id: &CompanyId) -> Result<Option<Tenant>, StoreError> {
        self.inner.tenant(company_id).await
    }
}

#[tokio::test]
async fn a_request_not_done_by_the_deadline_is_answered_503_in_time() {
    // A function with 2 s: the request must be answered 1 s before, whatever the store does.
    let e = edge_with(
        |inner| {
            Arc::new(Troubled {
                inner,
                pause: Duration::from_secs(30),
                error: None,
            })
        },
        Duration::from_secs(2),
    );
    let started = Instant::now();
    let req: Request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/webhooks/retell")
        .header(SIGNATURE_HEADER, e.signed(ANALYZED))
        .body(Body::from(ANALYZED))
        .unwrap();
    let resp = e.router.clone().oneshot(req).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.headers()["retry-after"], "2");
    assert!(elapsed < Duration::from_millis(1500), "answered after {elapsed:?}");
    assert!(e.queue.sent().is_empty());
}

#[tokio::test]
async fn server_errors_do_not_echo_internal_text() {
    let secret = "table gw-prod item COMPANY#x: ProvisionedThroughputExceeded at 10.0.3.7";
    for (error, status, kind) in [
        (
            (|| {
                StoreError::unavailable(
                    "get route",
                    std::io::Error::other("table gw-prod item COMPANY#x: ProvisionedThroughputExceeded at 10.0.3.7"),
                )
            }) as fn() -> StoreError,
            StatusCode::SERVICE_UNAVAILABLE,
            "retry",
        ),
        (
            || StoreError::Corrupt("table gw-prod item COMPANY#x: ProvisionedThroughputExceeded at 10.0.3.7".into()),
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
        ),
    ] {
        let e = edge_with(
            |inner| {
                Arc::new(Troubled {
                    inner,
                    pause: Duration::ZERO,
                    error: Some(error),
                })
            },
            Duration::from_secs(8),
        );
        let (got, json) = e.post_signed("/webhooks/retell", ANALYZED).await;
        assert_eq!((got, json["error"].as_str()), (status, Some(kind)));
        let text = json.to_string();
        for fragment in ["gw-prod", "COMPANY#", "10.0.3.7", "Provisioned", "get route"] {
            assert!(!text.contains(fragment), "{kind}: the body echoes '{fragment}': {text}");
        }
        assert!(!text.contains(secret));
    }
}
