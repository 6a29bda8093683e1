//! Test support: a private set of resources in the shared emulator for each test, seeded with
//! the demo tenant, and helpers to sign and send requests exactly as Retell does.

use aws_config::SdkConfig;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use gateway_adapters::DynamoStore;
use gateway_adapters::provision::{Provisioned, ResourceNames};
use gateway_domain::retell::signature;
use gateway_domain::tenant::TenantSpec;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::Value;

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
    pub app: ingest::App,
    pub enrich: enrich::App,
    pub deliver: deliver::App,
    /// A local webhook receiver (allow-listed for this stack only).
    pub sink: gateway_local::webhook_sink::Sink,
    pub alert: alert::App,
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
    let endpoint = gateway_local::emulator_endpoint()
        .unwrap_or_else(|e| panic!("{e}\nRun the suite with `make test`, which starts the emulator."));
    let sdk = gateway_local::emulator_sdk(&endpoint).await;
    let prefix = format!("t{}", ulid::Ulid::new().to_string().to_lowercase());
    let resources = gateway_local::provision_and_seed(&sdk, &ResourceNames::with_prefix(&prefix), tenants)
        .await
        .expect("provisioning the emulator");
    let config = gateway_local::ingest_config(&resources, API_KEY);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let store = DynamoStore::new(ddb.clone(), &resources.table);
    let s3 = gateway_local::s3_client(&sdk);
    let recording_host = gateway_local::recording_server::start()
        .await
        .expect("recording server");
    let enrich_config = enrich::Config {
        table_name: resources.table.clone(),
        delivery_queue_url: resources.delivery_queue_url.clone(),
        enrich_queue_url: resources.enrich_queue_url.clone(),
        retry_seconds: vec![1, 1],
        recordings_bucket: resources.bucket.clone(),
        max_receives: 3,
        url_policy: gateway_domain::ssrf::UrlPolicy::local(vec![recording_host.clone()]),
    };
    let sink = gateway_local::webhook_sink::Sink::start().await.expect("webhook sink");
    let links = gateway_domain::links::LinkSettings {
        base_url: "http://127.0.0.1:3000".into(),
        signing_key: gateway_local::LINK_SIGNING_KEY.into(),
    };
    let deliver_config = deliver::Config {
        table_name: resources.table.clone(),
        delivery_queue_url: resources.delivery_queue_url.clone(),
        delivery_dlq_url: resources.delivery_dlq_url.clone(),
        mail_from: gateway_local::MAIL_FROM.into(),
        backoff_seconds: vec![1, 2, 3],
        url_policy: gateway_domain::ssrf::UrlPolicy::local(vec![sink.addr.clone()]),
        links: Some(links.clone()),
    };
    let slack = gateway_local::webhook_sink::Sink::start().await.expect("slack sink");
    slack.script(&[(200, "ok")]);
    let alert_config = alert::Config {
        table_name: resources.table.clone(),
        mail_from: gateway_local::MAIL_FROM.into(),
        url_policy: gateway_domain::ssrf::UrlPolicy::local(vec![slack.addr.clone()]),
        links: Some(links),
    };
    Stack {
        alert: alert::App::new(&alert_config, &sdk),
        slack,
        sqs: aws_sdk_sqs::Client::new(&sdk),
        app: ingest::App::new(&config, &sdk),
        deliver: deliver::App::new(deliver_config, &sdk),
        sink,
        prefix,
        endpoint,
        enrich: enrich::App::new(&enrich_config, &sdk, s3.clone()),
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
    /// Signs `body` as Retell does and runs it through the ingest handler.
    pub async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let resp = ingest::handle(&self.app, request(path, body, Some(sign(body))))
            .await
            .expect("handler");
        let status = resp.status();
        (
            status,
            serde_json::from_slice(resp.body().as_ref()).expect("JSON response"),
        )
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

    pub fn recording_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.recording_host)
    }
}

fn collect_messages(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            if map.contains_key("destinations") && map.contains_key("subject") {
                out.push(v.clone());
            } else {
                map.values().for_each(|x| collect_messages(x, out));
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_messages(x, out)),
        _ => {}
    }
}

/// Returns `fixture` with `edit` applied.
pub fn edited(fixture: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(fixture).expect("fixture parses");
    edit(&mut v);
    serde_json::to_string(&v).expect("serialises")
}
