//! Signed webhooks back to us for created, rescheduled and cancelled bookings.

mod common;

use std::time::Duration;

use calcom_standin::webhooks::{NO_SECRET, sign, verify};
use calcom_standin::{Config, EventType};
use common::*;
use serde_json::{Value, json};

async fn wait_for(sink: &Sink, count: usize) -> Vec<(axum::http::HeaderMap, axum::body::Bytes)> {
    for _ in 0..300 {
        let got = sink.deliveries();
        if got.len() >= count {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sink.deliveries()
}

#[tokio::test]
async fn created_rescheduled_cancelled_are_signed_over_the_exact_body() {
    let sink = Sink::start().await;
    let cal = standard().await;
    cal.set_webhook(&sink.url, Some("whsec_test"));
    let api = Api::new(&cal);

    let mut body = booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de");
    body["metadata"] = json!({"call_id": "call_1"});
    let uid = api.create(&body).await.json()["data"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let moved = api
        .post(
            &format!("/bookings/{uid}/reschedule"),
            BOOKINGS,
            &json!({"start": "2026-03-02T10:00:00Z", "rescheduledBy": "max@example.de"}),
        )
        .await;
    let new_uid = moved.json()["data"]["uid"].as_str().expect("uid").to_string();
    api.post(
        &format!("/bookings/{new_uid}/cancel"),
        BOOKINGS,
        &json!({"cancellationReason": "verhindert"}),
    )
    .await;

    let received = wait_for(&sink, 3).await;
    assert_eq!(received.len(), 3);
    let mut triggers = Vec::new();
    for (headers, raw) in &received {
        let signature = headers
            .get("x-cal-signature-256")
            .and_then(|v| v.to_str().ok())
            .expect("signature");
        assert!(verify("whsec_test", raw, signature), "signature over the exact bytes");
        assert_eq!(signature, sign(Some("whsec_test"), raw));
        assert_eq!(
            headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let json: Value = serde_json::from_slice(raw).expect("json body");
        triggers.push(json["triggerEvent"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        triggers,
        ["BOOKING_CREATED", "BOOKING_RESCHEDULED", "BOOKING_CANCELLED"]
    );

    let created: Value = serde_json::from_slice(&received[0].1).expect("json");
    assert_eq!(created["payload"]["uid"], uid.as_str());
    assert_eq!(created["payload"]["startTime"], "2026-03-02T09:00:00Z");
    assert_eq!(created["payload"]["type"], "beratung-30");
    assert_eq!(created["payload"]["metadata"]["call_id"], "call_1");
    assert_eq!(created["payload"]["attendees"][0]["utcOffset"], 60);
    assert_eq!(created["payload"]["status"], "ACCEPTED");

    let rescheduled: Value = serde_json::from_slice(&received[1].1).expect("json");
    assert_eq!(rescheduled["payload"]["uid"], new_uid.as_str());
    assert_eq!(rescheduled["payload"]["rescheduleUid"], uid.as_str());
    assert_eq!(rescheduled["payload"]["rescheduleStartTime"], "2026-03-02T09:00:00Z");
    assert_eq!(rescheduled["payload"]["rescheduledBy"], "max@example.de");

    let cancelled: Value = serde_json::from_slice(&received[2].1).expect("json");
    assert_eq!(cancelled["payload"]["cancellationReason"], "verhindert");
    assert_eq!(cancelled["payload"]["status"], "CANCELLED");

    let log = cal.wait_for_webhooks(3, Duration::from_secs(2)).await;
    assert!(log.iter().all(|d| d.status == Some(200)));
}

#[tokio::test]
async fn without_a_secret_the_header_says_so_and_replays_send_nothing() {
    let sink = Sink::start().await;
    let cal = start(
        Config::default()
            .with_event_type(beratung())
            .with_now(now())
            .with_webhook(&sink.url, None),
    )
    .await;
    let api = Api::new(&cal);
    let body = booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de");
    api.create(&body).await;
    api.create(&body).await; // dedupe replay: no second webhook
    let received = wait_for(&sink, 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.deliveries().len(), 1);
    let signature = received[0].0.get("x-cal-signature-256").and_then(|v| v.to_str().ok());
    assert_eq!(signature, Some(NO_SECRET));
}

#[tokio::test]
async fn pending_bookings_send_booking_requested() {
    let sink = Sink::start().await;
    let et = EventType::new(EVENT, "erstgespraech", 30).requiring_confirmation();
    let cal = start(
        Config::default()
            .with_event_type(et)
            .with_now(now())
            .with_webhook(&sink.url, Some("s")),
    )
    .await;
    let api = Api::new(&cal);
    let reply = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(reply.json()["data"]["status"], "pending");
    let received = wait_for(&sink, 1).await;
    let json: Value = serde_json::from_slice(&received[0].1).expect("json");
    assert_eq!(json["triggerEvent"], "BOOKING_REQUESTED");
}
