//! Contract test: every golden fixture in `fixtures/` is replayed against a freshly seeded stand-in
//! (`fixtures/seed.json`) and the answer must match — status, headers named in the fixture, top-level
//! key order, the body's exact key set and every deterministic value. Placeholders stand for values that
//! vary: `<uid>` (22 chars), `<uuid>`, `<timestamp>` (RFC 3339), `<int>`, `<string>`, `<any>`.
//!
//! `CALCOM_STANDIN_RECORD=1 cargo test --test fixtures` rewrites the `response`/`webhook` sections from
//! the stand-in (with placeholders put in); review the diff before keeping it.

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use calcom_standin::webhooks::{sign, verify};
use calcom_standin::{Config, Endpoint, Fault, RateLimit, Standin, Times, WebhookConfig};
use common::Sink;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};

const FIXTURE_NOW: &str = "2026-03-01T12:00:00.000Z";
const WEBHOOK_VARYING: &[&str] = &[
    "/createdAt",
    "/payload/uid",
    "/payload/bookingId",
    "/payload/iCalUID",
    "/payload/rescheduleId",
];
const HEADERS_CHECKED: &[&str] = &[
    "content-type",
    "x-ratelimit-limit-default",
    "x-ratelimit-remaining-default",
    "x-ratelimit-reset-default",
    "retry-after",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn seed() -> Config {
    Config::from_file(dir().join("seed.json")).expect("fixtures/seed.json")
}

fn fixture_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("seed.json"))
        .collect();
    files.sort();
    files
}

struct Observed {
    status: u16,
    headers: reqwest::header::HeaderMap,
    raw: String,
    webhook: Option<(axum::http::HeaderMap, String)>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Setup {
    #[serde(default)]
    faults: Vec<FaultSetup>,
    #[serde(default)]
    rate_limit: Option<RateLimit>,
    #[serde(default)]
    before: Vec<Value>,
    #[serde(default)]
    webhook_secret: Option<String>,
}

#[derive(Deserialize)]
struct FaultSetup {
    endpoint: Endpoint,
    fault: Fault,
    times: Times,
}

async fn send(http: &reqwest::Client, base: &str, request: &Value) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(request["method"].as_str().unwrap_or("GET").as_bytes()).expect("method");
    let mut url = format!("{base}{}", request["path"].as_str().expect("path"));
    if let Some(query) = request["query"].as_str() {
        url = format!("{url}?{query}");
    }
    let mut builder = http.request(method, url);
    for (name, value) in request["headers"].as_object().into_iter().flatten() {
        builder = builder.header(name, value.as_str().unwrap_or_default());
    }
    if !request["body"].is_null() {
        builder = builder.body(request["body"].to_string());
    }
    builder.send().await.expect("fixture request")
}

async fn observe(fixture: &Value) -> Observed {
    let setup: Setup = serde_json::from_value(fixture.get("setup").cloned().unwrap_or(json!({}))).expect("setup");
    let mut config = seed();
    if let Some(limit) = setup.rate_limit {
        config.rate_limit = limit;
    }
    let sink = match &setup.webhook_secret {
        Some(secret) => {
            let sink = Sink::start().await;
            config.webhook = Some(WebhookConfig {
                url: sink.url.clone(),
                secret: Some(secret.clone()),
            });
            Some(sink)
        }
        None => None,
    };
    let cal = Standin::start(config).await.expect("stand-in");
    let base = format!("http://{}", cal.addr());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    for before in &setup.before {
        send(&http, &base, before).await;
    }
    for f in setup.faults {
        cal.set_fault(f.endpoint, f.fault, f.times);
    }
    let response = send(&http, &base, &fixture["request"]).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.text().await.expect("body");
    let mut webhook = None;
    if let Some(sink) = sink {
        for _ in 0..300 {
            if let Some((headers, body)) = sink.deliveries().pop() {
                webhook = Some((headers, String::from_utf8_lossy(&body).into_owned()));
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    Observed {
        status,
        headers,
        raw,
        webhook,
    }
}

/// Top-level keys of a JSON object in the order they appear in the text.
fn top_level_keys(raw: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    serde::Deserializer::deserialize_map(&mut de, Keys).unwrap_or_default()
}

fn is_uid(s: &str) -> bool {
    s.len() == 22 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && s.split('-').map(str::len).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
}

/// `expected` (fixture, may hold placeholders) against `actual`; mismatches go to `errors` with their path.
fn compare(expected: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    let ok = match (expected, actual) {
        (Value::String(p), _) if p == "<any>" => true,
        (Value::String(p), Value::String(s)) if p == "<uid>" => is_uid(s),
        (Value::String(p), Value::String(s)) if p == "<uuid>" => is_uuid(s),
        (Value::String(p), Value::String(s)) if p == "<timestamp>" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        (Value::String(p), Value::String(_)) if p == "<string>" => true,
        (Value::String(p), Value::Number(n)) if p == "<int>" => n.is_i64() || n.is_u64(),
        (Value::String(p), Value::String(s)) if p == "<int>" => !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()),
        (Value::Object(e), Value::Object(a)) => {
            let ek: HashSet<&String> = e.keys().collect();
            let ak: HashSet<&String> = a.keys().collect();
            for missing in ek.difference(&ak) {
                errors.push(format!("{path}/{missing}: missing"));
            }
            for extra in ak.difference(&ek) {
                errors.push(format!("{path}/{extra}: unexpected"));
            }
            for (k, v) in e {
                if let Some(av) = a.get(k) {
                    compare(v, av, &format!("{path}/{k}"), errors);
                }
            }
            true
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                compare(ev, av, &format!("{path}/{i}"), errors);
            }
            true
        }
        _ => expected == actual,
    };
    if !ok {
        errors.push(format!("{path}: expected {expected}, got {actual}"));
    }
}

fn header_map(headers: &reqwest::header::HeaderMap) -> Value {
    let mut map = serde_json::Map::new();
    for name in HEADERS_CHECKED {
        if let Some(value) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            let value = if name.starts_with("x-ratelimit") || *name == "retry-after" {
                "<int>"
            } else {
                value
            };
            map.insert((*name).to_string(), json!(value));
        }
    }
    Value::Object(map)
}

fn body_value(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()))
}

fn check(fixture: &Value, seen: &Observed) -> Vec<String> {
    let mut errors = Vec::new();
    let name = fixture["name"].as_str().unwrap_or("?");
    if let Some(expected) = fixture.get("response") {
        if expected["status"] != json!(seen.status) {
            errors.push(format!("status: expected {}, got {}", expected["status"], seen.status));
        }
        for (header, value) in expected["headers"].as_object().into_iter().flatten() {
            match seen.headers.get(header).and_then(|v| v.to_str().ok()) {
                Some(actual) => compare(value, &json!(actual), &format!("headers/{header}"), &mut errors),
                None => errors.push(format!("headers/{header}: missing")),
            }
        }
        if let Some(order) = expected.get("topLevelKeys") {
            let actual = json!(top_level_keys(&seen.raw));
            if order != &actual {
                errors.push(format!("topLevelKeys: expected {order}, got {actual}"));
            }
        }
        compare(&expected["body"], &body_value(&seen.raw), "body", &mut errors);
    }
    if let Some(expected) = fixture.get("webhook") {
        match &seen.webhook {
            None => errors.push("webhook: nothing delivered".into()),
            Some((headers, raw)) => {
                let secret = expected["secret"].as_str().unwrap_or_default();
                let signature = headers
                    .get("x-cal-signature-256")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                if !verify(secret, raw.as_bytes(), signature) {
                    errors.push("webhook: live signature does not verify".into());
                }
                let mut want = body_value(expected["rawBody"].as_str().unwrap_or_default());
                let mut got = body_value(raw);
                for pointer in WEBHOOK_VARYING {
                    for v in [&mut want, &mut got] {
                        if let Some(slot) = v.pointer_mut(pointer) {
                            *slot = json!("<any>");
                        }
                    }
                }
                compare(&want, &got, "webhook", &mut errors);
            }
        }
    }
    errors.into_iter().map(|e| format!("{name}: {e}")).collect()
}

// ---- recording -------------------------------------------------------------------------------------------

fn seeded_strings() -> HashSet<String> {
    let text = std::fs::read_to_string(dir().join("seed.json")).expect("seed");
    let mut out = HashSet::new();
    fn walk(v: &Value, out: &mut HashSet<String>) {
        match v {
            Value::String(s) => {
                out.insert(s.clone());
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            Value::Object(o) => o.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    walk(&serde_json::from_str(&text).expect("seed json"), &mut out);
    out
}

fn placeholders(value: &mut Value, seeded: &HashSet<String>) {
    match value {
        Value::Object(map) => {
            let is_booking = map.contains_key("uid") && map.contains_key("attendees");
            for (key, v) in map.iter_mut() {
                let text = v.as_str().map(str::to_string);
                match (key.as_str(), text) {
                    ("timestamp" | "reservationUntil", Some(_)) => *v = json!("<timestamp>"),
                    ("createdAt" | "updatedAt", Some(t)) if t == FIXTURE_NOW => *v = json!("<timestamp>"),
                    ("uid" | "rescheduledFromUid" | "rescheduledToUid", Some(t)) if !seeded.contains(&t) => {
                        *v = json!("<uid>")
                    }
                    ("reservationUid", Some(t)) if !seeded.contains(&t) => *v = json!("<uuid>"),
                    ("icsUid", Some(_)) => *v = json!("<string>"),
                    ("id", None) if is_booking => *v = json!("<int>"),
                    _ => placeholders(v, seeded),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| placeholders(v, seeded)),
        _ => {}
    }
}

fn record(fixture: &mut Value, seen: &Observed, seeded: &HashSet<String>) {
    if fixture.get("webhook").is_some() {
        let (headers, raw) = seen.webhook.clone().expect("webhook delivered while recording");
        let secret = fixture["setup"]["webhookSecret"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            headers.get("x-cal-signature-256").and_then(|v| v.to_str().ok()),
            Some(sign(Some(&secret), raw.as_bytes()).as_str())
        );
        fixture["webhook"] = json!({
            "method": "POST",
            "headers": { "content-type": "application/json", "x-cal-signature-256": sign(Some(&secret), raw.as_bytes()) },
            "secret": secret,
            "varying": WEBHOOK_VARYING,
            "rawBody": raw,
        });
        return;
    }
    let mut body = body_value(&seen.raw);
    placeholders(&mut body, seeded);
    let mut response = json!({ "status": seen.status, "headers": header_map(&seen.headers), "body": body });
    if seen.raw.starts_with('{') {
        response["topLevelKeys"] = json!(top_level_keys(&seen.raw));
    }
    fixture["response"] = response;
}

#[tokio::test]
async fn fixtures_replay_against_a_fresh_stand_in() {
    let recording = std::env::var_os("CALCOM_STANDIN_RECORD").is_some();
    let seeded = seeded_strings();
    let files = fixture_files();
    assert!(files.len() >= 30, "fixtures present: {}", files.len());
    let mut failures = Vec::new();
    for file in files {
        let mut fixture: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
        let seen = observe(&fixture).await;
        if recording {
            record(&mut fixture, &seen, &seeded);
            let text = serde_json::to_string_pretty(&fixture).expect("serialise") + "\n";
            std::fs::write(&file, text).expect("write fixture");
        } else {
            assert!(
                fixture.get("response").is_some() || fixture.get("webhook").is_some(),
                "{file:?} has no expectation"
            );
            failures.extend(check(&fixture, &seen));
        }
    }
    assert!(failures.is_empty(), "fixture mismatches:\n{}", failures.join("\n"));
}

#[test]
fn webhook_fixture_signatures_verify() {
    for file in fixture_files() {
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
        let Some(webhook) = fixture.get("webhook") else {
            continue;
        };
        let raw = webhook["rawBody"].as_str().expect("rawBody");
        let secret = webhook["secret"].as_str().expect("secret");
        let header = webhook["headers"]["x-cal-signature-256"].as_str().expect("signature");
        assert_eq!(header, sign(Some(secret), raw.as_bytes()), "{file:?}");
        assert!(verify(secret, raw.as_bytes(), header));
    }
}

#[test]
fn every_fixture_names_its_evidence_and_request() {
    for file in fixture_files() {
        let fixture: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("json");
        let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
        assert_eq!(fixture["name"], stem, "{file:?}");
        assert!(
            fixture["evidence"].as_str().is_some_and(|e| e.contains('§')),
            "{file:?}"
        );
        for key in ["method", "path", "headers"] {
            assert!(fixture["request"].get(key).is_some(), "{file:?} request.{key}");
        }
    }
}
