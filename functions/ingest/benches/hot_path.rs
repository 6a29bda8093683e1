//! Ingest hot path on a 30 KB `call_analyzed` body with in-memory ports: verify the signature,
//! parse, resolve tenant and mode, classify, build the case and its DynamoDB items, hand off.
//! Run: `make bench` (or `cargo bench -p ingest --bench hot_path`).

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use gateway_domain::capture::draft;
use gateway_domain::capture::retell::payload::{WebhookEnvelope, parse_json};
use gateway_domain::capture::retell::signature;
use gateway_domain::capture::{Ingest, IngestSettings, Ports};
use gateway_domain::clock::Clock;
use gateway_domain::ids::CallId;
use gateway_domain::tenancy::TenantSpec;
use gateway_testkit::memory::{FixedClock, MemoryCaseStore, MemoryConfigStore, MemoryQueue};
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &str = "key_bench";
const ANALYZED: &str = include_str!("../../../events/retell/call_analyzed.json");
const NORDIT: &str = include_str!("../../../infra/tenants/nordit.yaml");
const TARGET_BYTES: usize = 30 * 1024;

/// The sample call with its transcript repeated (full word timings) until the body reaches 30 KB.
fn body_30kb(call_id: &str) -> String {
    let mut v: Value = serde_json::from_str(ANALYZED).unwrap();
    v["call"]["call_id"] = json!(call_id);
    let lines = v["call"]["transcript_object"].as_array().unwrap().clone();
    let mut i = 0;
    while serde_json::to_string(&v).unwrap().len() < TARGET_BYTES {
        let mut line = lines[i % lines.len()].clone();
        let words: Vec<Value> = line["content"]
            .as_str()
            .unwrap()
            .split(' ')
            .enumerate()
            .map(|(n, w)| json!({"word": w, "start": n as f64 * 0.3, "end": n as f64 * 0.3 + 0.28}))
            .collect();
        line["words"] = json!(words);
        v["call"]["transcript_object"].as_array_mut().unwrap().push(line);
        i += 1;
    }
    serde_json::to_string(&v).unwrap()
}

fn edge_request(body: String, sig: String) -> lambda_http::Request {
    lambda_http::http::Request::builder()
        .method("POST")
        .uri("/webhooks/retell")
        .header("content-type", "application/json")
        .header("x-retell-signature", sig)
        .body(lambda_http::Body::from(body))
        .unwrap()
}

fn world() -> (Ingest, Arc<FixedClock>) {
    let (ports, clock) = world_ports();
    (Ingest::new(IngestSettings::new(KEY), ports), clock)
}

fn world_ports() -> (Ports, Arc<FixedClock>) {
    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    let config = Arc::new(MemoryConfigStore::default());
    for route in spec.route_keys() {
        config.put_route(route, &spec.company.company_id);
    }
    config.put_tenant(spec.tenant().unwrap());
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let ports = Ports {
        cases: Arc::new(MemoryCaseStore::default()),
        config,
        queue: Arc::new(MemoryQueue::default()),
        clock: clock.clone(),
    };
    (ports, clock)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (ingest, clock) = world();
    let now_ms = clock.now().timestamp_millis() as u64;
    let sample = body_30kb("call_sample");
    eprintln!("body size: {} bytes", sample.len());
    let mut n = 0u64;

    c.bench_function("ingest new case (30 KB call_analyzed)", |b| {
        b.iter_batched(
            || {
                n += 1;
                let body = body_30kb(&format!("call_bench_{n}"));
                let sig = signature::sign(KEY, body.as_bytes(), now_ms);
                (body, sig)
            },
            |(body, sig)| rt.block_on(ingest.webhook(body.as_bytes(), Some(&sig))).unwrap(),
            BatchSize::SmallInput,
        )
    });

    // The same call through the HTTP edge: request parsing, routing, the domain, the JSON answer.
    let (edge_ingest, edge_clock) = world_ports();
    let router = ingest::App::with_ports(KEY, edge_ingest).into_router();
    let edge_now_ms = edge_clock.now().timestamp_millis() as u64;
    c.bench_function("HTTP edge: new case (30 KB call_analyzed)", |b| {
        b.iter_batched(
            || {
                n += 1;
                let body = body_30kb(&format!("call_edge_{n}"));
                let sig = signature::sign(KEY, body.as_bytes(), edge_now_ms);
                edge_request(body, sig)
            },
            |req| {
                let resp = rt.block_on(router.clone().oneshot(req)).unwrap();
                assert_eq!(resp.status(), 200);
            },
            BatchSize::SmallInput,
        )
    });

    let dup_sig = signature::sign(KEY, sample.as_bytes(), now_ms);
    rt.block_on(ingest.webhook(sample.as_bytes(), Some(&dup_sig))).unwrap();
    c.bench_function("ingest duplicate (30 KB call_analyzed)", |b| {
        b.iter(|| rt.block_on(ingest.webhook(sample.as_bytes(), Some(&dup_sig))).unwrap())
    });

    c.bench_function("verify signature (30 KB)", |b| {
        b.iter(|| signature::verify(KEY, sample.as_bytes(), Some(&dup_sig), now_ms).unwrap())
    });

    c.bench_function("parse envelope (30 KB)", |b| {
        b.iter(|| parse_json::<WebhookEnvelope>(sample.as_bytes()).unwrap())
    });

    let spec: TenantSpec = serde_norway::from_str(NORDIT).unwrap();
    let tenant = spec.tenant().unwrap();
    let envelope: WebhookEnvelope = parse_json(sample.as_bytes()).unwrap();
    let call = envelope.call.unwrap();
    c.bench_function("build case + DynamoDB items", |b| {
        b.iter(|| {
            let case = draft::from_analysis(&tenant, &call, &CallId::new("call_sample"), Utc::now());
            gateway_adapters::DynamoStore::case_item(&case).unwrap()
        })
    });
}

/// The budget is a p95, which criterion does not report: time single new-case calls and print
/// the percentiles (a figure for the note, never an assertion).
fn percentiles(_: &mut Criterion) {
    const CALLS: usize = 5_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (ingest, clock) = world();
    let now_ms = clock.now().timestamp_millis() as u64;
    let mut micros: Vec<f64> = (0..CALLS)
        .map(|n| {
            let body = body_30kb(&format!("call_p95_{n}"));
            let sig = signature::sign(KEY, body.as_bytes(), now_ms);
            let started = Instant::now();
            rt.block_on(ingest.webhook(body.as_bytes(), Some(&sig))).unwrap();
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((CALLS as f64 * q) as usize).min(CALLS - 1)];
    println!(
        "ingest new case, {CALLS} single calls: p50 {:.1} µs, p95 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        at(0.50),
        at(0.95),
        at(0.99),
        micros[CALLS - 1]
    );
}

criterion_group!(benches, bench, percentiles);
criterion_main!(benches);
