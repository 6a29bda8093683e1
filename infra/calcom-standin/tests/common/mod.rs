//! Shared test helpers: a tiny Cal.com client, a seeded stand-in and a webhook receiver.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use calcom_standin::{Config, EventType, Running, Standin};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub const KEY: &str = "cal_test_standin";
pub const SLOTS: &str = "2024-09-04";
pub const BOOKINGS: &str = "2024-08-13";
pub const EVENT: i64 = 1001;

/// Sunday 2026-03-01 12:00Z: Monday 2026-03-02 is bookable from 09:00 Berlin (08:00Z).
pub fn now() -> DateTime<Utc> {
    at("2026-03-01T12:00:00Z")
}

pub fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .expect("test instant")
        .with_timezone(&Utc)
}

pub fn beratung() -> EventType {
    EventType::new(EVENT, "beratung-30", 30).titled("Beratung")
}

pub async fn start(config: Config) -> Running {
    Standin::start(config).await.expect("stand-in starts")
}

/// One event type (Mon–Fri 09–17 Berlin, 30 min), frozen clock, generous rate limit.
pub async fn standard() -> Running {
    start(
        Config::default()
            .with_event_type(beratung())
            .with_now(now())
            .with_rate_limit(10_000, 60),
    )
    .await
}

pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn message(&self) -> String {
        self.json()["error"]["message"].as_str().unwrap_or_default().to_string()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(running: &Running) -> Self {
        Self::with_timeout(running, Duration::from_secs(10))
    }

    pub fn with_timeout(running: &Running, timeout: Duration) -> Self {
        let http = reqwest::Client::builder().timeout(timeout).build().expect("client");
        Self {
            base: running.base_url(),
            http,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        version: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(KEY);
        if let Some(version) = version {
            request = request.header("cal-api-version", version);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await?;
        Ok(Reply { status, headers, text })
    }

    pub async fn slots(&self, query: &str) -> Reply {
        self.send(reqwest::Method::GET, &format!("/slots?{query}"), Some(SLOTS), None)
            .await
            .expect("slots")
    }

    /// Slot starts (UTC, as `Z` strings) of one UTC day query.
    pub async fn slot_starts(&self, from: &str, to: &str) -> Vec<String> {
        let reply = self.slots(&format!("eventTypeId={EVENT}&start={from}&end={to}")).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        let data = reply.json()["data"].as_object().cloned().unwrap_or_default();
        data.values()
            .flat_map(|day| day.as_array().cloned().unwrap_or_default())
            .filter_map(|slot| slot["start"].as_str().map(str::to_string))
            .collect()
    }

    pub async fn create(&self, body: &Value) -> Reply {
        self.send(reqwest::Method::POST, "/bookings", Some(BOOKINGS), Some(body))
            .await
            .expect("create")
    }

    pub async fn post(&self, path: &str, version: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(version), Some(body))
            .await
            .expect("post")
    }

    pub async fn get(&self, path: &str, version: &str) -> Reply {
        self.send(reqwest::Method::GET, path, Some(version), None)
            .await
            .expect("get")
    }
}

pub fn booking_body(start: &str, name: &str, email: &str) -> Value {
    json!({
        "start": start,
        "eventTypeId": EVENT,
        "attendee": { "name": name, "email": email, "timeZone": "Europe/Berlin", "language": "de" },
    })
}

type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A local webhook receiver that records every delivery.
pub struct Sink {
    pub url: String,
    pub received: Received,
}

impl Sink {
    pub async fn start() -> Self {
        let received: Received = Arc::default();
        let app = Router::new().route("/hook", post(record)).with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, received }
    }

    pub fn deliveries(&self) -> Vec<(HeaderMap, Bytes)> {
        self.received.lock().expect("sink").clone()
    }
}

async fn record(State(received): State<Received>, headers: HeaderMap, body: Bytes) -> StatusCode {
    received.lock().expect("sink").push((headers, body));
    StatusCode::OK
}
