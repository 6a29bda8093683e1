//! Fault modes and the rate limit: what the adapter must survive mid-call.

mod common;

use std::time::{Duration, Instant};

use calcom_standin::{Endpoint, Fault, Origin, Times, texts};
use common::*;
use serde_json::json;

fn body() -> serde_json::Value {
    booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de")
}

#[tokio::test]
async fn status_500_for_the_next_request_only() {
    let cal = standard().await;
    let api = Api::new(&cal);
    cal.set_fault(Endpoint::Create, Fault::Status(500), Times::Next(1));
    let failed = api.create(&body()).await;
    assert_eq!(failed.status, 500);
    assert_eq!(failed.json()["error"]["code"], "InternalServerErrorException");
    assert!(
        failed.header("x-ratelimit-remaining-default").is_some(),
        "headers on faulted answers too"
    );
    assert!(cal.bookings().is_empty(), "nothing written");
    assert_eq!(api.create(&body()).await.status, 201, "fault used up");
}

#[tokio::test]
async fn cloudflare_style_gateway_errors_are_not_json() {
    let cal = standard().await;
    let api = Api::new(&cal);
    cal.set_fault(Endpoint::Slots, Fault::Status(524), Times::Next(1));
    let reply = api
        .slots(&format!("eventTypeId={EVENT}&start=2026-03-02&end=2026-03-02"))
        .await;
    assert_eq!((reply.status, reply.text.as_str()), (524, "error code: 524"));
}

#[tokio::test]
async fn faults_only_hit_their_endpoint_group() {
    let cal = standard().await;
    let api = Api::new(&cal);
    cal.set_fault(Endpoint::Cancel, Fault::Status(500), Times::UntilCleared);
    assert_eq!(
        api.slots(&format!("eventTypeId={EVENT}&start=2026-03-02&end=2026-03-02"))
            .await
            .status,
        200
    );
    let uid = api.create(&body()).await.json()["data"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    for _ in 0..3 {
        assert_eq!(
            api.post(&format!("/bookings/{uid}/cancel"), BOOKINGS, &json!({}))
                .await
                .status,
            500
        );
    }
    cal.clear_faults();
    assert_eq!(
        api.post(&format!("/bookings/{uid}/cancel"), BOOKINGS, &json!({}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn hang_never_answers_and_writes_nothing() {
    let cal = standard().await;
    let api = Api::with_timeout(&cal, Duration::from_millis(300));
    cal.set_fault(Endpoint::Create, Fault::Hang, Times::Next(1));
    let err = api
        .send(reqwest::Method::POST, "/bookings", Some(BOOKINGS), Some(&body()))
        .await
        .err()
        .expect("timeout");
    assert!(err.is_timeout());
    assert!(cal.bookings().is_empty());
    assert_eq!(cal.count_requests("POST", "/v2/bookings"), 1);
    assert_eq!(cal.requests()[0].status, None, "no answer was ever sent");
}

#[tokio::test]
async fn commit_then_hang_writes_the_booking_but_the_answer_is_lost() {
    let cal = standard().await;
    let api = Api::with_timeout(&cal, Duration::from_millis(300));
    cal.set_fault(Endpoint::Create, Fault::CommitThenHang, Times::Next(1));
    let err = api
        .send(reqwest::Method::POST, "/bookings", Some(BOOKINGS), Some(&body()))
        .await
        .err()
        .expect("timeout");
    assert!(err.is_timeout());
    let bookings = cal.bookings();
    assert_eq!(bookings.len(), 1, "the write happened");
    // A careful adapter looks the booking up instead of booking again.
    let found = api
        .get(
            "/bookings?attendeeEmail=max@example.de&afterStart=2026-03-02T09:00:00Z",
            BOOKINGS,
        )
        .await;
    assert_eq!(found.json()["data"][0]["uid"], bookings[0].uid.as_str());
    // A blind retry hits Cal.com's dedupe and gets the same booking back.
    let retry = api.create(&body()).await;
    assert_eq!(retry.json()["data"]["uid"], bookings[0].uid.as_str());
}

#[tokio::test]
async fn commit_then_delay_and_plain_delay() {
    let cal = standard().await;
    let api = Api::with_timeout(&cal, Duration::from_millis(300));
    cal.set_fault(Endpoint::Create, Fault::CommitThenDelay { ms: 1_000 }, Times::Next(1));
    assert!(
        api.send(reqwest::Method::POST, "/bookings", Some(BOOKINGS), Some(&body()))
            .await
            .is_err()
    );
    assert_eq!(cal.bookings().len(), 1);

    let patient = Api::with_timeout(&cal, Duration::from_secs(5));
    cal.set_fault(Endpoint::Slots, Fault::Delay { ms: 400 }, Times::Next(1));
    let began = Instant::now();
    let reply = patient
        .slots(&format!("eventTypeId={EVENT}&start=2026-03-02&end=2026-03-02"))
        .await;
    assert_eq!(reply.status, 200);
    assert!(began.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn malformed_200_is_truncated_json() {
    let cal = standard().await;
    let api = Api::new(&cal);
    cal.set_fault_everywhere(Fault::Malformed, Times::Next(1));
    let reply = api.get("/bookings/whatever", BOOKINGS).await;
    assert_eq!(reply.status, 200);
    assert!(
        serde_json::from_str::<serde_json::Value>(&reply.text).is_err(),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn slot_taken_between_offer_and_booking() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let offered = api.slot_starts("2026-03-02T00:00:00Z", "2026-03-02T23:59:59Z").await;
    assert!(offered.contains(&"2026-03-02T09:00:00.000Z".to_string()));
    cal.set_fault(Endpoint::Create, Fault::SlotTaken, Times::Next(1));
    // A slots call in between does not use up the create fault.
    api.slots(&format!("eventTypeId={EVENT}&start=2026-03-02&end=2026-03-02"))
        .await;
    let reply = api.create(&body()).await;
    assert_eq!((reply.status, reply.message()), (400, texts::SLOT_TAKEN.to_string()));
    let bookings = cal.bookings();
    assert_eq!(bookings.len(), 1);
    assert_eq!(bookings[0].origin, Origin::Foreign);
    assert_eq!(bookings[0].attendee.name, "Someone Else");
    assert!(
        !api.slot_starts("2026-03-02T00:00:00Z", "2026-03-02T23:59:59Z")
            .await
            .contains(&offered[2])
    );
}

#[tokio::test]
async fn slot_taken_before_a_reschedule() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let uid = api.create(&body()).await.json()["data"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    cal.set_fault(Endpoint::Reschedule, Fault::SlotTaken, Times::Next(1));
    let reply = api
        .post(
            &format!("/bookings/{uid}/reschedule"),
            BOOKINGS,
            &json!({"start": "2026-03-02T14:00:00Z"}),
        )
        .await;
    assert_eq!((reply.status, reply.message()), (400, texts::SLOT_TAKEN.to_string()));
    assert_eq!(
        cal.booking(&uid).map(|b| b.status),
        Some(calcom_standin::BookingStatus::Accepted),
        "old one untouched"
    );
}

#[tokio::test]
async fn conflict_409() {
    let cal = standard().await;
    let api = Api::new(&cal);
    cal.set_fault(Endpoint::Create, Fault::Conflict, Times::Next(1));
    let reply = api.create(&body()).await;
    assert_eq!(
        (reply.status, reply.message()),
        (409, texts::BOOKING_CONFLICT.to_string())
    );
    assert!(cal.bookings().is_empty());
}

#[tokio::test]
async fn rate_limit_headers_and_429() {
    let cal = standard().await;
    cal.set_rate_limit(3, 60);
    let api = Api::new(&cal);
    let query = format!("eventTypeId={EVENT}&start=2026-03-02&end=2026-03-02");
    for remaining in ["2", "1", "0"] {
        let reply = api.slots(&query).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("x-ratelimit-limit-default").as_deref(), Some("3"));
        assert_eq!(
            reply.header("x-ratelimit-remaining-default").as_deref(),
            Some(remaining)
        );
        let reset: u64 = reply
            .header("x-ratelimit-reset-default")
            .and_then(|r| r.parse().ok())
            .expect("reset");
        assert!((1..=60).contains(&reset));
    }
    let limited = api.slots(&query).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["code"], "ThrottlerException");
    assert!(
        limited
            .header("retry-after")
            .and_then(|r| r.parse::<u64>().ok())
            .is_some_and(|s| s <= 60)
    );
    assert_eq!(limited.header("x-ratelimit-remaining-default").as_deref(), Some("0"));

    // Anonymous callers have their own bucket.
    let anonymous = reqwest::Client::new()
        .get(format!("{}/slots?{query}", cal.base_url()))
        .header("cal-api-version", SLOTS)
        .send()
        .await
        .expect("anonymous");
    assert_eq!(anonymous.status(), 200);

    cal.set_rate_limit(1, 1);
    assert_eq!(api.slots(&query).await.status, 200);
    assert_eq!(api.slots(&query).await.status, 429);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(api.slots(&query).await.status, 200, "window reset");
}

#[tokio::test]
async fn request_log_counts_calls_on_the_wire() {
    let cal = standard().await;
    let api = Api::new(&cal);
    api.slots(&format!("eventTypeId={EVENT}&start=2026-03-02&end=2026-03-02"))
        .await;
    api.create(&body()).await;
    let log = cal.requests();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].version.as_deref(), Some(SLOTS));
    assert_eq!(
        log[0].query.as_deref(),
        Some("eventTypeId=1001&start=2026-03-02&end=2026-03-02")
    );
    assert_eq!(log[1].json().map(|b| b["attendee"]["name"].clone()), Some(json!("Max")));
    assert_eq!(log[1].status, Some(201));
    assert_eq!(cal.count_requests("GET", "/v2/slots"), 1);
    assert_eq!(cal.count_requests("POST", "/v2/bookings"), 1);
    cal.clear_requests();
    assert!(cal.requests().is_empty());
}
