//! Key rotation through the real edge (in-memory ports): while a rotation is under way a Retell
//! request signed with the previous API key is captured and a link signed with the previous link
//! key is honoured; a retired key (neither current nor previous) is refused.

use std::sync::Arc;

use axum::Router;
use chrono::Utc;
use gateway_domain::capture::Ports;
use gateway_domain::capture::retell::signature;
use gateway_domain::clock::Clock;
use gateway_domain::ids::{CallId, CompanyId};
use gateway_domain::keys::KeyRing;
use gateway_domain::links;
use gateway_domain::tenancy::TenantSpec;
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryQueue};
use http_body_util::BodyExt;
use ingest::{App, SIGNATURE_HEADER};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use tower::ServiceExt;

const ANALYZED: &str = include_str!("../../../events/retell/call_analyzed.json");
const NORDIT: &str = include_str!("../../../infra/tenants/nordit.yaml");
const CALL: &str = "call_4b9e2f71c08d3a6e5f1b27c9d04";

const RETELL_NEW: &str = "key_retell_new";
const RETELL_OLD: &str = "key_retell_old";
const RETELL_RETIRED: &str = "key_retell_retired";
const LINK_NEW: &str = "link-key-new-0123456789abcdef0123456789";
const LINK_OLD: &str = "link-key-old-0123456789abcdef0123456789";
const LINK_RETIRED: &str = "link-key-retired-0123456789abcdef012345";

struct Edge {
    router: Router,
    cases: Arc<MemoryCaseStore>,
    clock: Arc<FixedClock>,
}

/// The edge with `retell` and `link` keys; links redeemed against an S3 client that only presigns.
fn edge(retell: KeyRing, link: KeyRing) -> Edge {
    let cases = Arc::new(MemoryCaseStore::default());
    let config = Arc::new(MemoryConfigStore::default());
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    for route in spec.route_keys() {
        config.put_route(route, &spec.company.company_id);
    }
    config.put_tenant(spec.tenant().unwrap());
    let ports = Ports {
        cases: cases.clone(),
        config,
        queue: Arc::new(MemoryQueue::default()),
        clock: clock.clone(),
    };
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("eu-central-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "test"))
            .build(),
    );
    Edge {
        router: App::with_ports(retell, ports)
            .with_recording_links(s3, "recordings", link)
            .into_router(),
        cases,
        clock,
    }
}

fn rotating() -> Edge {
    edge(
        KeyRing::new(RETELL_NEW).with_previous(Some(RETELL_OLD)),
        KeyRing::new(LINK_NEW).with_previous(Some(LINK_OLD)),
    )
}

impl Edge {
    async fn post_signed_with(&self, key: &str, body: &str) -> StatusCode {
        let sig = signature::sign(key, body.as_bytes(), self.clock.now().timestamp_millis() as u64);
        let req: Request = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/webhooks/retell")
            .header(SIGNATURE_HEADER, sig)
            .body(Body::from(body.to_string()))
            .unwrap();
        self.router.clone().oneshot(req).await.unwrap().status()
    }

    async fn get(&self, uri: &str) -> (StatusCode, String) {
        let req: Request = lambda_http::http::Request::builder()
            .uri(uri)
            .body(Body::Empty)
            .unwrap();
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn captured(&self) -> usize {
        self.cases.cases_of(&CompanyId::new("nordit-hannover")).len()
    }
}

#[tokio::test]
async fn a_call_signed_with_the_previous_key_is_accepted_during_a_rotation() {
    let e = rotating();
    assert_eq!(e.post_signed_with(RETELL_OLD, ANALYZED).await, StatusCode::OK);
    assert_eq!(e.captured(), 1);
    // Retell switched to the new key: its retry (or the next call) passes as well.
    assert_eq!(e.post_signed_with(RETELL_NEW, ANALYZED).await, StatusCode::OK);
    assert_eq!(e.captured(), 1, "the same call, one case");
}

#[tokio::test]
async fn a_call_signed_with_a_retired_key_is_refused_with_401() {
    let e = rotating();
    assert_eq!(
        e.post_signed_with(RETELL_RETIRED, ANALYZED).await,
        StatusCode::UNAUTHORIZED
    );
    // After the rotation (previous cleared) the old key is retired too.
    let done = edge(KeyRing::new(RETELL_NEW), KeyRing::new(LINK_NEW));
    assert_eq!(
        done.post_signed_with(RETELL_OLD, ANALYZED).await,
        StatusCode::UNAUTHORIZED
    );
    for edge in [&e, &done] {
        let req: Request = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/retell/functions")
            .header(
                SIGNATURE_HEADER,
                signature::sign(RETELL_RETIRED, b"{}", edge.clock.now().timestamp_millis() as u64),
            )
            .body(Body::from("{}"))
            .unwrap();
        assert_eq!(
            edge.router.clone().oneshot(req).await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(e.captured() + done.captured(), 0);
}

#[tokio::test]
async fn links_signed_with_the_previous_link_key_are_honoured_and_retired_ones_refused() {
    let e = rotating();
    assert_eq!(e.post_signed_with(RETELL_NEW, ANALYZED).await, StatusCode::OK);
    let case_path = links::case_path(&CompanyId::new("nordit-hannover"), &CallId::new(CALL));
    let recording_path = links::recording_path("nordit-hannover/01ABC/recording.wav");
    let expires = Utc::now() + chrono::Duration::hours(72);
    let signed = |key: &str, path: &str| links::sign("", key, path, expires);

    // A case link sent out before the rotation opens the page.
    let (status, html) = e.get(&signed(LINK_OLD, &case_path)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("TKT-"), "{html}");
    assert_eq!(e.get(&signed(LINK_OLD, &recording_path)).await.0, StatusCode::FOUND);
    assert_eq!(e.get(&signed(LINK_NEW, &recording_path)).await.0, StatusCode::FOUND);
    for path in [&case_path, &recording_path] {
        assert_eq!(
            e.get(&signed(LINK_RETIRED, path)).await.0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // Expired stays expired, whichever key signed it.
    let old = links::sign("", LINK_OLD, &case_path, Utc::now() - chrono::Duration::minutes(1));
    assert_eq!(e.get(&old).await.0, StatusCode::GONE);
    // Once the previous key is cleared, the old links stop working.
    let done = edge(KeyRing::new(RETELL_NEW), KeyRing::new(LINK_NEW));
    assert_eq!(
        done.get(&signed(LINK_OLD, &recording_path)).await.0,
        StatusCode::FORBIDDEN
    );
}
