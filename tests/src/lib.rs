//! Test support: a private set of resources in the shared emulator for each test, seeded with
//! the demo tenant, and helpers to sign and send requests exactly as Retell does.

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use gateway_adapters::DynamoStore;
use gateway_adapters::provision::{Provisioned, ResourceNames};
use gateway_domain::capture::retell::signature;
use gateway_domain::ids::{CallId, CompanyId};
use gateway_domain::tenancy::TenantSpec;
use gateway_local::stack::{LocalSettings, functions};
use http_body_util::BodyExt;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::Value;
use tower::ServiceExt;

pub const API_KEY: &str = "key_e2e_retell";
pub const NORDIT: &str = include_str!("../../infra/tenants/nordit.yaml");
pub const ANALYZED: &str = include_str!("../../events/retell/call_analyzed.json");
pub const FINALIZE: &str = include_str!("../../events/retell/finalize_ticket.json");
pub const CALL_ID: &str = "call_4b9e2f71c08d3a6e5f1b27c9d04";
pub const COMPANY: &str = "nordit-hannover";

pub struct Stack {
    pub sdk: SdkConfig,
    pub ddb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub resources: Provisioned,
    pub store: DynamoStore,
    /// The HTTP edge (the ingest function's router).
    pub router: axum::Router,
    pub enrich: enrich::App,
    pub deliver: deliver::App,
    /// A local webhook receiver (allow-listed for this stack only).
    pub sink: gateway_local::webhook_sink::Sink,
    pub alert: alert::App,
    pub sweep: sweep::App,
    /// A local stand-in for Slack's incoming webhook (allow-listed for the alert function).
    pub slack: gateway_local::webhook_sink::Sink,
    /// Unique per stack, for telling this test's e-mails apart in the shared emulator.
    pub prefix: String,
    pub endpoint: String,
    /// `127.0.0.1:port` of a local recording host (allow-listed for this stack only).
    pub recording_host: String,
}

pub fn nordit() -> TenantSpec {
    serde_norway::from_str(NORDIT).expect("infra/tenants/nordit.yaml parses")
}

/// Fresh table and queues under a unique prefix, the demo tenant applied, and the ingest app.
/// Fails (never skips) when the emulator is not running.
pub async fn stack_with(tenants: &[TenantSpec]) -> Stack {
    stack_allowing(tenants, None).await
}

/// A stack whose functions also let through the `host:port`s of `allow_list`, given as
/// `GATEWAY_URL_ALLOW_LIST` is to `make run`.
pub async fn stack_allowing(tenants: &[TenantSpec], allow_list: Option<&str>) -> Stack {
    let endpoint = gateway_local::emulator_endpoint()
        .unwrap_or_else(|e| panic!("{e}\nRun the suite with `make test`, which starts the emulator."));
    let sdk = gateway_local::emulator_sdk(&endpoint).await;
    let prefix = format!("t{}", ulid::Ulid::new().to_string().to_lowercase());
    let resources = gateway_local::provision_and_seed(&sdk, &ResourceNames::with_prefix(&prefix), tenants)
        .await
        .expect("provisioning the emulator");
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoStore::new(ddb.clone(), &resources.table);
    let s3 = gateway_local::s3_client(&sdk);
    let recording_host = gateway_local::recording_server::start()
        .await
        .expect("recording server");
    let sink = gateway_local::webhook_sink::Sink::start().await.expect("webhook sink");
    let slack = gateway_local::webhook_sink::Sink::start().await.expect("slack sink");
    slack.script(&[(200, "ok")]);
    // The functions wired as `make run` wires them, with short retry steps for the tests.
    let settings = LocalSettings {
        retell_api_key: API_KEY.into(),
        policy: gateway_local::local_url_policy(
            &[recording_host.clone(), sink.addr.clone(), slack.addr.clone()],
            allow_list,
        ),
        link_base_url: "http://127.0.0.1:3000".into(),
        enrich_retry_seconds: vec![1, 1],
        backoff_seconds: vec![1, 2, 3],
    };
    let apps = functions(&endpoint, &resources, &settings)
        .await
        .expect("the functions");
    Stack {
        alert: apps.alert,
        sweep: apps.sweep,
        slack,
        sqs: aws_sdk_sqs::Client::new(&sdk),
        router: apps.ingest.into_router(),
        deliver: apps.deliver,
        sink,
        prefix,
        endpoint,
        enrich: apps.enrich,
        s3,
        ddb,
        store,
        resources,
        sdk,
        recording_host,
    }
}

pub async fn stack() -> Stack {
    stack_with(&[nordit()]).await
}

pub fn sign(body: &str) -> String {
    signature::sign(API_KEY, body.as_bytes(), chrono::Utc::now().timestamp_millis() as u64)
}

pub fn request(path: &str, body: &str, signature: Option<String>) -> Request {
    let mut req = lambda_http::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json");
    if let Some(sig) = signature {
        req = req.header("x-retell-signature", sig);
    }
    req.body(Body::from(body.to_string())).expect("valid request")
}

impl Stack {
    /// Signs `body` as Retell does and runs it through the HTTP edge.
    pub async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.send(request(path, body, Some(sign(body)))).await
    }

    /// Any request through the HTTP edge: the status and the JSON body.
    pub async fn send(&self, request: Request) -> (StatusCode, Value) {
        let (status, _, bytes) = self.send_raw(request).await;
        (status, serde_json::from_slice(&bytes).expect("JSON response"))
    }

    /// Any request through the HTTP edge: status, headers and body bytes.
    pub async fn send_raw(&self, request: Request) -> (StatusCode, lambda_http::http::HeaderMap, Vec<u8>) {
        let resp = self.router.clone().oneshot(request).await.expect("router");
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (parts.status, parts.headers, bytes.to_vec())
    }

    pub fn company(&self) -> CompanyId {
        CompanyId::new(COMPANY)
    }

    pub fn call(&self) -> CallId {
        CallId::new(CALL_ID)
    }

    /// Messages visible on the enrich queue right now (received and left in flight).
    pub async fn receive_enrich(&self, wait_seconds: i32) -> Vec<Value> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.resources.enrich_queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_seconds)
            .send()
            .await
            .expect("receive");
        out.messages()
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap_or("null")).expect("JSON message"))
            .collect()
    }

    pub async fn queue_counts(&self) -> (u64, u64, u64) {
        self.counts(&self.resources.enrich_queue_url).await
    }

    /// (visible, delayed, in flight) of any queue.
    pub async fn counts(&self, queue_url: &str) -> (u64, u64, u64) {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(A::All)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes().cloned().unwrap_or_default();
        let get = |k: A| attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
        (
            get(A::ApproximateNumberOfMessages),
            get(A::ApproximateNumberOfMessagesDelayed),
            get(A::ApproximateNumberOfMessagesNotVisible),
        )
    }
}

impl Stack {
    /// One round of an event source: receive a batch, run `handler`, delete what succeeded.
    /// Returns the batch and the ids the handler reported failed.
    async fn run_once<F, Fut>(&self, queue: &str, wait_seconds: i32, handler: F) -> (SqsEvent, Vec<String>)
    where
        F: FnOnce(lambda_runtime::LambdaEvent<SqsEvent>) -> Fut,
        Fut: std::future::Future<Output = Result<SqsBatchResponse, lambda_runtime::Error>>,
    {
        let event = gateway_local::event_source::receive_batch(&self.sqs, queue, 10, wait_seconds)
            .await
            .expect("receive");
        if event.records.is_empty() {
            return (event, Vec::new());
        }
        let ctx = lambda_runtime::Context::default();
        let response = handler(lambda_runtime::LambdaEvent::new(event.clone(), ctx))
            .await
            .expect("handler");
        let failed = gateway_local::event_source::settle(&self.sqs, queue, &event, &response)
            .await
            .expect("settle");
        (event, failed)
    }

    /// One round of the enrich event source; failed records keep the retry delay the handler
    /// set (1 s here; without it they would stay hidden for the queue's 6 minutes).
    pub async fn run_enrich_once(&self, wait_seconds: i32) -> (usize, usize) {
        let queue = &self.resources.enrich_queue_url;
        let (event, failed) = self
            .run_once(queue, wait_seconds, |e| enrich::handle(&self.enrich, e))
            .await;
        (event.records.len(), failed.len())
    }

    /// One round of the delivery event source; failed records keep the backoff the handler set.
    pub async fn run_deliver_once(&self, wait_seconds: i32) -> (usize, usize) {
        let queue = &self.resources.delivery_queue_url;
        let (event, failed) = self
            .run_once(queue, wait_seconds, |e| deliver::handle(&self.deliver, e))
            .await;
        (event.records.len(), failed.len())
    }

    /// Runs the deliver handler until the delivery queue is empty (a retried copy comes back
    /// after 1 s); fails after 30 s.
    pub async fn deliver_all(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (received, _) = self.run_deliver_once(2).await;
            let (visible, _, in_flight) = self.counts(&self.resources.delivery_queue_url).await;
            if received == 0 && visible == 0 && in_flight == 0 {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "the delivery queue never emptied");
        }
    }

    /// One round of the alert function on the delivery DLQ. Returns (received, failed).
    pub async fn run_alert_once(&self, wait_seconds: i32) -> (usize, usize) {
        let queue = &self.resources.delivery_dlq_url;
        let (event, failed) = self
            .run_once(queue, wait_seconds, |e| alert::handle(&self.alert, e))
            .await;
        (event.records.len(), failed.len())
    }

    /// E-mails the emulator's SES accepted, as moto reports them (`/moto-api/data.json`).
    pub async fn sent_emails(&self) -> Vec<Value> {
        let url = format!("{}/moto-api/data.json", self.endpoint);
        for _ in 0..20 {
            // moto answers 500 once per multipart part ever uploaded (a known quirk): retry.
            if let Ok(resp) = reqwest::get(&url).await
                && resp.status().is_success()
            {
                let data: Value = resp.json().await.expect("data.json");
                let mut out = Vec::new();
                collect_messages(&data["ses"], &mut out);
                return out;
            }
        }
        panic!("the emulator did not return data.json");
    }

    /// Raw messages the emulator's SES accepted for `address`, oldest first (`raw_data`).
    pub async fn raw_emails_to(&self, address: &str) -> Vec<String> {
        self.sent_emails()
            .await
            .into_iter()
            .filter(|m| m["destinations"].to_string().contains(address))
            .filter_map(|m| m["raw_data"].as_str().map(str::to_string))
            .collect()
    }

    /// The hand-off the ingest function runs after an appointment change, on this stack's store
    /// and delivery queue.
    pub fn notice_handoff(&self) -> gateway_domain::notices::NoticeHandoff {
        gateway_domain::notices::NoticeHandoff {
            notices: std::sync::Arc::new(self.store.clone()),
            queue: std::sync::Arc::new(gateway_adapters::SqsQueue::new(
                self.sqs.clone(),
                &self.resources.delivery_queue_url,
            )),
            clock: std::sync::Arc::new(gateway_domain::clock::SystemClock),
        }
    }

    pub fn recording_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.recording_host)
    }
}

fn collect_messages(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            if map.contains_key("destinations") && map.contains_key("subject") {
                out.push(v.clone());
            } else if let (Some(_), Some(Value::String(raw))) = (map.get("destinations"), map.get("raw_data")) {
                out.push(raw_message(v, raw));
            } else {
                map.values().for_each(|x| collect_messages(x, out));
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_messages(x, out)),
        _ => {}
    }
}

/// A raw message as moto keeps it (`id`, `source`, `destinations`, `raw_data`), read with
/// mail-parser into the fields its simple messages have (`subject`, `body` = the HTML part) plus
/// `text` and `attachments` (file name, MIME type with parameters, content as text).
fn raw_message(stored: &Value, raw: &str) -> Value {
    use mail_parser::{MessageParser, MimeHeaders};
    let message = MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap_or_else(|| panic!("the emulator kept an unreadable raw message: {raw}"));
    let attachments: Vec<Value> = message
        .attachments()
        .map(|a| {
            let content_type = a.content_type().map(|ct| {
                let mut text = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default());
                for attr in ct.attributes().unwrap_or_default() {
                    text.push_str(&format!("; {}={}", attr.name, attr.value));
                }
                text
            });
            serde_json::json!({
                "filename": a.attachment_name(),
                "content_type": content_type,
                "content": String::from_utf8_lossy(a.contents()),
            })
        })
        .collect();
    serde_json::json!({
        "id": stored["id"],
        "source": stored["source"],
        "destinations": stored["destinations"],
        "subject": message.subject(),
        "body": message.body_html(0),
        "text": message.body_text(0),
        "attachments": attachments,
        "raw_data": raw,
    })
}

/// The directory holding `.venv`, walking up from this crate.
fn venv_python() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|dir| dir.join(".venv/bin/python"))
        .find(|python| python.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no .venv/bin/python above {}: run `infra/emulator.sh install` (make test does it)",
                manifest.display()
            )
        })
}

/// Reads a raw e-mail as a recipient's software would, independently of the gateway's code:
/// Python's `email` package and the `icalendar` package (pinned in infra/requirements.txt),
/// through `tests/scripts/read_invitation.py`. Fails (never skips) when they are missing.
pub fn read_invitation(raw: &str) -> Value {
    use std::io::Write;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/read_invitation.py");
    let mut child = std::process::Command::new(venv_python())
        .arg(&script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start .venv/bin/python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(raw.as_bytes())
        .expect("write the message");
    let out = child.wait_with_output().expect("python ran");
    assert!(
        out.status.success(),
        "read_invitation.py failed (is `icalendar` installed? `infra/emulator.sh install`): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("read_invitation.py prints JSON")
}

/// Returns `fixture` with `edit` applied.
pub fn edited(fixture: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(fixture).expect("fixture parses");
    edit(&mut v);
    serde_json::to_string(&v).expect("serialises")
}

/// What the end-to-end tests read and write through: the ports the stores implement, and ids.
pub mod prelude {
    pub use gateway_domain::call_event::{CallEvent, CallEventReader};
    pub use gateway_domain::capture::{CaptureStore, CreateOutcome};
    pub use gateway_domain::case::CaseReader;
    pub use gateway_domain::delivery::DeliveryStore;
    pub use gateway_domain::enrichment::{EnrichmentStore, RecordingError, RecordingStore};
    pub use gateway_domain::ids::{CallId, CaseId, CompanyId, TicketRef};
    pub use gateway_domain::tenancy::{ConfigStore, RouteKey};

    pub fn company_id(id: &str) -> CompanyId {
        CompanyId::new(id)
    }

    pub fn call_id(id: &str) -> CallId {
        CallId::new(id)
    }

    pub fn ticket(reference: &str) -> TicketRef {
        TicketRef::new(reference)
    }
}
