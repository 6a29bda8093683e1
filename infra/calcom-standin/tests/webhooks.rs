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

/// Cal.com awaits its webhooks before answering: a receiver that takes its time has finished
/// with the delivery when the API call returns.
#[tokio::test]
async fn the_webhook_is_delivered_before_the_api_answers() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let handled = Arc::new(AtomicUsize::new(0));
    let counter = handled.clone();
    let slow = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                counter.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, slow).await;
    });
    let cal = standard().await;
    cal.set_webhook(&url, Some("whsec_test"));
    let api = Api::new(&cal);
    let reply = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
        .await;
    let uid = reply.json()["data"]["uid"].as_str().expect("uid").to_string();
    assert_eq!(handled.load(Ordering::SeqCst), 1, "handled before the 201");
    api.post(
        &format!("/bookings/{uid}/cancel"),
        BOOKINGS,
        &json!({"cancellationReason": "verhindert"}),
    )
    .await;
    assert_eq!(handled.load(Ordering::SeqCst), 2, "handled before the 200");
}

/// The host's own changes in Cal.com's web app: signed webhooks by the host, no `/v2` request.
#[tokio::test]
async fn the_hosts_own_reschedule_and_cancel_send_signed_webhooks() {
    let sink = Sink::start().await;
    let cal = standard().await;
    cal.set_webhook(&sink.url, Some("whsec_test"));
    let api = Api::new(&cal);
    let uid = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
        .await
        .json()["data"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    cal.clear_requests();

    let moved = cal
        .staff_reschedule(&uid, at("2026-03-02T11:00:00Z"))
        .await
        .expect("moved");
    assert_ne!(moved.uid, uid, "a reschedule is a new booking");
    assert_eq!(moved.rescheduled_by_email.as_deref(), Some(moved.host.email.as_str()));
    let cancelled = cal
        .staff_cancel(&moved.uid, "Praxis geschlossen")
        .await
        .expect("cancelled");
    assert_eq!(cancelled.cancellation_reason.as_deref(), Some("Praxis geschlossen"));
    assert!(
        cal.staff_cancel(&moved.uid, "again").await.is_err(),
        "refused like the API refuses"
    );
    assert!(cal.requests().is_empty(), "no /v2 request was made");

    let received = sink.deliveries();
    assert_eq!(received.len(), 3);
    let hooks: Vec<Value> = received
        .iter()
        .map(|(headers, raw)| {
            let signature = headers
                .get("x-cal-signature-256")
                .and_then(|v| v.to_str().ok())
                .expect("signature");
            assert!(verify("whsec_test", raw, signature));
            serde_json::from_slice(raw).expect("json")
        })
        .collect();
    assert_eq!(hooks[1]["triggerEvent"], "BOOKING_RESCHEDULED");
    assert_eq!(hooks[1]["payload"]["rescheduleUid"], uid.as_str());
    assert_eq!(hooks[1]["payload"]["uid"], moved.uid.as_str());
    assert_eq!(hooks[1]["payload"]["startTime"], "2026-03-02T11:00:00Z");
    assert_eq!(hooks[2]["triggerEvent"], "BOOKING_CANCELLED");
    assert_eq!(hooks[2]["payload"]["cancellationReason"], "Praxis geschlossen");

    // The same through the control routes of the binary.
    let control = reqwest::Client::new();
    let base = format!("http://{}/_standin/bookings", cal.addr());
    let uid = api
        .create(&booking_body("2026-03-03T09:00:00Z", "Eva", "eva@example.de"))
        .await
        .json()["data"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let moved = control
        .post(format!("{base}/{uid}/reschedule"))
        .json(&json!({"start": "2026-03-03T12:00:00Z"}))
        .send()
        .await
        .expect("control reschedule");
    assert_eq!(moved.status(), 201);
    let moved: Value = moved.json().await.expect("booking");
    let new_uid = moved["uid"].as_str().expect("new uid");
    let cancelled = control
        .post(format!("{base}/{new_uid}/cancel"))
        .json(&json!({"reason": "krank"}))
        .send()
        .await
        .expect("control cancel");
    assert_eq!(cancelled.status(), 200);
    let again = control
        .post(format!("{base}/{new_uid}/cancel"))
        .send()
        .await
        .expect("control cancel");
    assert_eq!(again.status(), 400);
    assert_eq!(sink.deliveries().len(), 6);
}
