//! The HTTP edge with in-memory ports: every status code the handler can answer.

use std::sync::Arc;

use chrono::Utc;
use gateway_domain::ingest::Ports;
use gateway_domain::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryQueue};
use gateway_domain::ports::{CaseStore, Clock};
use gateway_domain::retell::signature;
use gateway_domain::tenant::TenantSpec;
use ingest::{App, SIGNATURE_HEADER, handle};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::Value;

const KEY: &str = "key_handler_test";
const ANALYZED: &str = include_str!("../../../events/retell/call_analyzed.json");
const FINALIZE: &str = include_str!("../../../events/retell/finalize_ticket.json");
const NORDIT: &str = include_str!("../../../infra/tenants/nordit.yaml");

struct Edge {
    app: App,
    cases: Arc<MemoryCaseStore>,
    queue: Arc<MemoryQueue>,
    clock: Arc<FixedClock>,
}

fn edge() -> Edge {
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    let queue = Arc::new(MemoryQueue::default());
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    for route in spec.route_keys() {
        config.put_route(route, &spec.company.company_id);
    }
    config.put_tenant(spec.tenant());
    let ports = Ports {
        cases: cases.clone(),
        config,
        queue: queue.clone(),
        clock: clock.clone(),
    };
    Edge {
        app: App::with_ports(KEY, ports),
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
        let resp = handle(&self.app, req).await.unwrap();
        let status = resp.status();
        assert_eq!(resp.headers()["content-type"], "application/json");
        let json = serde_json::from_slice(resp.body().as_ref()).unwrap();
        (status, json)
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
    assert!(e.cases.list_cases("nordit-hannover").await.unwrap().is_empty());
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
    assert_eq!(e.cases.list_cases("nordit-hannover").await.unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let e = edge();
    let (status, _) = e.post_signed("/nope", ANALYZED).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let req: Request = lambda_http::http::Request::builder()
        .method("GET")
        .uri("/webhooks/retell")
        .body(Body::Empty)
        .unwrap();
    assert_eq!(
        handle(&e.app, req).await.unwrap().status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    // Signed links are off without a bucket and signing key: a clear 404, not a page.
    for uri in [
        "/cases/nordit-hannover/call_x?expires=1&sig=00",
        "/recordings/k?expires=1&sig=00",
    ] {
        let req: Request = lambda_http::http::Request::builder()
            .uri(uri)
            .body(Body::Empty)
            .unwrap();
        let resp = handle(&e.app, req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let body: Value = serde_json::from_slice(resp.body()).unwrap();
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
    let resp = handle(&e.app, req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(e.queue.sent().len(), 1);
}
