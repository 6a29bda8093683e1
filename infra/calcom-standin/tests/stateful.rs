//! The stateful behaviour the adapter relies on: bookings, reschedules, reservations, races, time zones.

mod common;

use std::collections::HashSet;

use calcom_standin::{BookingStatus, Config, EventType, Host, Idempotency, Origin, SeedBooking, WEEKDAYS, texts};
use chrono::Weekday;
use common::*;
use serde_json::json;

const MONDAY_FROM: &str = "2026-03-02T00:00:00Z";
const MONDAY_TO: &str = "2026-03-02T23:59:59Z";

#[tokio::test]
async fn booking_removes_the_slot_and_cancelling_frees_it() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let before = api.slot_starts(MONDAY_FROM, MONDAY_TO).await;
    assert_eq!(before.len(), 16, "09:00–17:00 Berlin in 30-min slots");
    assert_eq!(before[0], "2026-03-02T08:00:00.000Z");

    let created = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let uid = created.json()["data"]["uid"].as_str().expect("uid").to_string();
    assert_eq!(uid.len(), 22);
    assert_eq!(created.json()["data"]["status"], "accepted");

    let after = api.slot_starts(MONDAY_FROM, MONDAY_TO).await;
    assert_eq!(after.len(), 15);
    assert!(!after.contains(&"2026-03-02T09:00:00.000Z".to_string()));

    let again = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Eva", "eva@example.de"))
        .await;
    assert_eq!((again.status, again.message()), (400, texts::SLOT_TAKEN.to_string()));

    let cancelled = api
        .post(
            &format!("/bookings/{uid}/cancel"),
            BOOKINGS,
            &json!({"cancellationReason": "krank"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json()["data"]["status"], "cancelled");
    assert_eq!(cancelled.json()["data"]["cancellationReason"], "krank");
    assert_eq!(api.slot_starts(MONDAY_FROM, MONDAY_TO).await.len(), 16);

    let twice = api.post(&format!("/bookings/{uid}/cancel"), BOOKINGS, &json!({})).await;
    assert_eq!(
        (twice.status, twice.message()),
        (400, texts::ALREADY_CANCELLED.to_string())
    );
}

#[tokio::test]
async fn reschedule_creates_a_new_uid_and_frees_the_old_slot() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let created = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
        .await;
    let old_uid = created.json()["data"]["uid"].as_str().expect("uid").to_string();

    let body = json!({"start": "2026-03-02T13:00:00Z", "reschedulingReason": "Termin passt nicht"});
    let moved = api
        .post(&format!("/bookings/{old_uid}/reschedule"), BOOKINGS, &body)
        .await;
    assert_eq!(moved.status, 201, "{}", moved.text);
    let new = moved.json()["data"].clone();
    let new_uid = new["uid"].as_str().expect("uid").to_string();
    assert_ne!(new_uid, old_uid);
    assert_eq!(new["rescheduledFromUid"], old_uid.as_str());
    assert_eq!(new["start"], "2026-03-02T13:00:00.000Z");
    assert_eq!(new["attendees"][0]["name"], "Max");

    let old = api.get(&format!("/bookings/{old_uid}"), BOOKINGS).await.json()["data"].clone();
    assert_eq!(old["status"], "cancelled");
    assert_eq!(old["rescheduledToUid"], new_uid.as_str());

    let slots = api.slot_starts(MONDAY_FROM, MONDAY_TO).await;
    assert!(
        slots.contains(&"2026-03-02T09:00:00.000Z".to_string()),
        "old slot free again"
    );
    assert!(
        !slots.contains(&"2026-03-02T13:00:00.000Z".to_string()),
        "new slot taken"
    );

    let unknown = api.post("/bookings/nope/reschedule", BOOKINGS, &body).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, texts::reschedule_not_found("nope"))
    );
    let again = api
        .post(&format!("/bookings/{old_uid}/reschedule"), BOOKINGS, &body)
        .await;
    assert_eq!(again.status, 400, "a cancelled booking cannot be rescheduled");
}

#[tokio::test]
async fn reschedule_to_an_overlapping_time_ignores_its_own_booking() {
    let cal = start(
        Config::default()
            .with_event_type(beratung().with_interval(15))
            .with_now(now())
            .with_rate_limit(1000, 60),
    )
    .await;
    let api = Api::new(&cal);
    let uid = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
        .await
        .json()["data"]["uid"]
        .as_str()
        .expect("uid")
        .to_string();
    let query =
        format!("eventTypeId={EVENT}&start=2026-03-02T09:00:00Z&end=2026-03-02T09:15:00Z&bookingUidToReschedule={uid}");
    let slots = api.slots(&query).await.json()["data"]["2026-03-02"].clone();
    assert_eq!(
        slots.as_array().map(Vec::len),
        Some(2),
        "own booking is not busy for its reschedule: {slots}"
    );
    let moved = api
        .post(
            &format!("/bookings/{uid}/reschedule"),
            BOOKINGS,
            &json!({"start": "2026-03-02T09:15:00Z"}),
        )
        .await;
    assert_eq!(moved.status, 201, "{}", moved.text);
}

#[tokio::test]
async fn a_reservation_hides_the_slot_for_everybody_including_the_reserver() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let reserved = api
        .post(
            "/slots/reservations",
            SLOTS,
            &json!({"eventTypeId": EVENT, "slotStart": "2026-03-02T10:00:00Z"}),
        )
        .await;
    assert_eq!(reserved.status, 201, "{}", reserved.text);
    let data = reserved.json()["data"].clone();
    let reservation_uid = data["reservationUid"].as_str().expect("uid").to_string();
    assert_eq!(data["reservationDuration"], 5);
    assert_eq!(data["reservationUntil"], "2026-03-01T12:05:00.000Z");
    assert_eq!(data["slotEnd"], "2026-03-02T10:30:00.000Z");

    let slots = api.slot_starts(MONDAY_FROM, MONDAY_TO).await;
    assert!(
        !slots.contains(&"2026-03-02T10:00:00.000Z".to_string()),
        "hidden from the reserver too"
    );

    let stranger = api
        .create(&booking_body("2026-03-02T10:00:00Z", "Eva", "eva@example.de"))
        .await;
    assert_eq!(
        (stranger.status, stranger.message()),
        (400, texts::someone_else_reserved(300))
    );

    let mut mine = booking_body("2026-03-02T10:00:00Z", "Max", "max@example.de");
    mine["reservedSlotUid"] = json!(reservation_uid);
    let booked = api.create(&mine).await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    assert!(cal.reservations().is_empty(), "the booking consumed the reservation");
    let gone = api.get(&format!("/slots/reservations/{reservation_uid}"), SLOTS).await;
    assert_eq!(gone.status, 404);
}

#[tokio::test]
async fn reservations_expire_and_can_be_read_updated_and_deleted() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let body = json!({"eventTypeId": EVENT, "slotStart": "2026-03-02T10:00:00Z", "reservationDuration": 10});
    let uid = api.post("/slots/reservations", SLOTS, &body).await.json()["data"]["reservationUid"]
        .as_str()
        .expect("uid")
        .to_string();
    let path = format!("/slots/reservations/{uid}");
    assert_eq!(api.get(&path, SLOTS).await.json()["data"]["reservationDuration"], 10);

    let moved = api
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(SLOTS),
            Some(&json!({"eventTypeId": EVENT, "slotStart": "2026-03-02T11:00:00Z"})),
        )
        .await
        .expect("patch");
    assert_eq!(
        moved.json()["data"]["slotStart"],
        "2026-03-02T11:00:00.000Z",
        "{}",
        moved.text
    );
    let slots = api.slot_starts(MONDAY_FROM, MONDAY_TO).await;
    assert!(slots.contains(&"2026-03-02T10:00:00.000Z".to_string()));
    assert!(!slots.contains(&"2026-03-02T11:00:00.000Z".to_string()));

    cal.set_now(Some(at("2026-03-01T12:06:00Z")));
    assert_eq!(
        api.slot_starts(MONDAY_FROM, MONDAY_TO).await.len(),
        16,
        "expired after 5 minutes"
    );
    cal.set_now(Some(now()));

    let again = api.post("/slots/reservations", SLOTS, &body).await.json()["data"]["reservationUid"]
        .as_str()
        .expect("uid")
        .to_string();
    let deleted = api
        .send(
            reqwest::Method::DELETE,
            &format!("/slots/reservations/{again}"),
            Some(SLOTS),
            None,
        )
        .await;
    assert_eq!(deleted.expect("delete").text, r#"{"status":"success"}"#);
    assert_eq!(api.slot_starts(MONDAY_FROM, MONDAY_TO).await.len(), 16);

    let wrong_version = api.post("/slots/reservations", BOOKINGS, &body).await;
    assert_eq!(
        (wrong_version.status, wrong_version.message()),
        (404, "Cannot POST /v2/slots/reservations".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_creates_of_one_slot_give_exactly_one_booking() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let attempts = (0..20).map(|i| {
        let body = booking_body(
            "2026-03-02T11:00:00Z",
            &format!("Caller {i}"),
            &format!("caller{i}@example.de"),
        );
        let api = &api;
        async move { api.create(&body).await }
    });
    let replies = futures_join_all(attempts).await;
    let created: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    let rejected: Vec<_> = replies.iter().filter(|r| r.status == 400).collect();
    assert_eq!(created.len(), 1);
    assert_eq!(rejected.len(), 19);
    assert!(rejected.iter().all(|r| r.message() == texts::SLOT_TAKEN));
    assert_eq!(cal.bookings().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_by_the_same_attendee_all_get_the_same_booking() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let body = booking_body("2026-03-02T11:00:00Z", "Max", "max@example.de");
    let replies = futures_join_all((0..20).map(|_| api.create(&body))).await;
    assert!(replies.iter().all(|r| r.status == 201));
    let uids: HashSet<String> = replies
        .iter()
        .map(|r| r.json()["data"]["uid"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        uids.len(),
        1,
        "Cal.com's dedupe answers every duplicate with the same booking"
    );
    assert_eq!(cal.bookings().len(), 1);
}

/// Join without pulling in `futures`: spawn-free, polls all on the current task.
async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[tokio::test]
async fn same_attendee_replay_returns_the_old_booking_with_the_old_data() {
    let cal = standard().await;
    let api = Api::new(&cal);
    // Two different callers sharing a placeholder e-mail (the seed system's ghost-booking incident).
    let first = api
        .create(&booking_body("2026-03-02T12:00:00Z", "Anna Alt", "booking@temp.de"))
        .await;
    cal.set_now(Some(at("2026-03-01T12:10:00Z")));
    let second = api
        .create(&booking_body("2026-03-02T12:00:00Z", "Bernd Neu", "booking@temp.de"))
        .await;
    assert_eq!(second.status, 201);
    let (a, b) = (first.json()["data"].clone(), second.json()["data"].clone());
    assert_eq!(a["uid"], b["uid"]);
    assert_eq!(b["createdAt"], "2026-03-01T12:00:00.000Z", "old createdAt");
    assert_eq!(b["attendees"][0]["name"], "Anna Alt", "previous caller's data");

    cal.set_idempotency(Idempotency::Off);
    let third = api
        .create(&booking_body("2026-03-02T12:00:00Z", "Bernd Neu", "booking@temp.de"))
        .await;
    assert_eq!((third.status, third.message()), (400, texts::SLOT_TAKEN.to_string()));

    cal.set_idempotency(Idempotency::SameSlot);
    let fourth = api
        .create(&booking_body("2026-03-02T12:00:00Z", "Carla", "carla@example.de"))
        .await;
    assert_eq!(
        fourth.json()["data"]["uid"],
        a["uid"],
        "same host and time is enough in this mode"
    );
}

#[tokio::test]
async fn time_rules_past_notice_horizon_hours_and_buffers() {
    let et = beratung().with_notice(120).with_horizon_days(14).with_buffers(0, 15);
    let cal = start(
        Config::default()
            .with_event_type(et)
            .with_now(at("2026-03-02T08:00:00Z"))
            .with_rate_limit(1000, 60),
    )
    .await;
    let api = Api::new(&cal);

    let past = api
        .create(&booking_body("2026-03-02T07:30:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!((past.status, past.message()), (400, texts::IN_PAST.to_string()));
    let too_soon = api
        .create(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(
        (too_soon.status, too_soon.message()),
        (400, texts::OUT_OF_BOUNDS.to_string())
    );
    let too_far = api
        .create(&booking_body("2026-03-17T09:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(too_far.status, 400);
    assert!(
        too_far
            .message()
            .starts_with("The event type can't be booked at the \"start\" time provided")
    );
    let last_day = api
        .create(&booking_body("2026-03-16T09:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(
        last_day.status, 201,
        "today + 14 days is inside the horizon: {}",
        last_day.text
    );
    let evening = api
        .create(&booking_body("2026-03-03T16:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(
        (evening.status, evening.message()),
        (400, texts::SLOT_TAKEN.to_string()),
        "17:00 Berlin is closed"
    );
    let saturday = api
        .create(&booking_body("2026-03-07T10:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(saturday.status, 400);

    // Earliest slot respects the 2-hour notice: now 09:00 Berlin → first slot 11:00 Berlin.
    let slots = api.slot_starts("2026-03-02T00:00:00Z", "2026-03-02T23:59:59Z").await;
    assert_eq!(slots.first().map(String::as_str), Some("2026-03-02T10:00:00.000Z"));

    // 15-min after-buffer: a 10:00Z booking blocks 10:30Z too (its buffer runs to 10:45Z).
    let booked = api
        .create(&booking_body("2026-03-03T10:00:00Z", "Max", "max@example.de"))
        .await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    let tuesday = api.slot_starts("2026-03-03T00:00:00Z", "2026-03-03T23:59:59Z").await;
    assert!(!tuesday.contains(&"2026-03-03T10:30:00.000Z".to_string()));
    assert!(
        !tuesday.contains(&"2026-03-03T09:30:00.000Z".to_string()),
        "its buffer would run into 10:00"
    );
    assert!(tuesday.contains(&"2026-03-03T11:00:00.000Z".to_string()));
    let clash = api
        .create(&booking_body("2026-03-03T10:30:00Z", "Eva", "eva@example.de"))
        .await;
    assert_eq!((clash.status, clash.message()), (400, texts::SLOT_TAKEN.to_string()));
}

#[tokio::test]
async fn dst_berlin_nine_oclock_is_eight_z_in_winter_and_seven_z_in_summer() {
    let cal = start(
        Config::default()
            .with_event_type(
                beratung()
                    .with_hours(&WEEKDAYS, (9, 0), (17, 0))
                    .in_zone("Europe/Berlin"),
            )
            .with_now(at("2026-03-20T12:00:00Z"))
            .with_rate_limit(1000, 60),
    )
    .await;
    let api = Api::new(&cal);
    let summer = api.slot_starts("2026-03-30T00:00:00Z", "2026-03-30T23:59:59Z").await;
    assert_eq!(summer.first().map(String::as_str), Some("2026-03-30T07:00:00.000Z"));
    let zoned = api
        .slots(&format!(
            "eventTypeId={EVENT}&start=2026-03-29T22:00:00Z&end=2026-03-30T21:59:59Z&timeZone=Europe/Berlin"
        ))
        .await;
    assert_eq!(
        zoned.json()["data"]["2026-03-30"][0]["start"],
        "2026-03-30T09:00:00.000+02:00"
    );

    cal.set_now(Some(at("2026-10-20T12:00:00Z")));
    let winter = api.slot_starts("2026-10-26T00:00:00Z", "2026-10-26T23:59:59Z").await;
    assert_eq!(winter.first().map(String::as_str), Some("2026-10-26T08:00:00.000Z"));
    let zoned = api
        .slots(&format!(
            "eventTypeId={EVENT}&start=2026-10-25T23:00:00Z&end=2026-10-26T22:59:59Z&timeZone=Europe/Berlin"
        ))
        .await;
    assert_eq!(
        zoned.json()["data"]["2026-10-26"][0]["start"],
        "2026-10-26T09:00:00.000+01:00"
    );
}

#[tokio::test]
async fn date_only_bounds_are_utc_days_so_a_berlin_day_loses_its_first_hour() {
    // Early hours 00:00–02:00 Berlin make the difference visible.
    let et = beratung().with_hours(&WEEKDAYS, (0, 0), (2, 0)).with_interval(30);
    let cal = start(
        Config::default()
            .with_event_type(et)
            .with_now(now())
            .with_rate_limit(1000, 60),
    )
    .await;
    let api = Api::new(&cal);
    let zone = "timeZone=Europe/Berlin";
    let date_only = api
        .slots(&format!("eventTypeId={EVENT}&start=2026-03-03&end=2026-03-03&{zone}"))
        .await
        .json();
    let tuesday = date_only["data"]["2026-03-03"].as_array().cloned().unwrap_or_default();
    // 00:00Z..23:59:59Z = 01:00..00:59:59 Berlin: 00:00 and 00:30 Berlin (23:00Z, 23:30Z of the 2nd) are missed.
    assert_eq!(
        tuesday.first().map(|s| s["start"].clone()),
        Some(json!("2026-03-03T01:00:00.000+01:00"))
    );
    assert_eq!(tuesday.len(), 2);

    let explicit = api
        .slots(&format!(
            "eventTypeId={EVENT}&start=2026-03-02T23:00:00Z&end=2026-03-03T22:59:59Z&{zone}"
        ))
        .await
        .json();
    let tuesday = explicit["data"]["2026-03-03"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        tuesday.first().map(|s| s["start"].clone()),
        Some(json!("2026-03-03T00:00:00.000+01:00"))
    );
    assert_eq!(tuesday.len(), 4);
}

#[tokio::test]
async fn slots_formats_and_empty_days() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let range = api
        .slots(&format!("eventTypeId={EVENT}&start=2026-03-02T08:00:00Z&end=2026-03-02T08:30:00Z&format=range&timeZone=Europe/Berlin"))
        .await;
    assert_eq!(
        range.text,
        r#"{"data":{"2026-03-02":[{"start":"2026-03-02T09:00:00.000+01:00","end":"2026-03-02T09:30:00.000+01:00"},{"start":"2026-03-02T09:30:00.000+01:00","end":"2026-03-02T10:00:00.000+01:00"}]},"status":"success"}"#
    );
    let weekend = api
        .slots(&format!("eventTypeId={EVENT}&start=2026-03-07&end=2026-03-08"))
        .await;
    assert_eq!(weekend.text, r#"{"data":{},"status":"success"}"#);
    let unknown = api.slots("eventTypeId=42&start=2026-03-02&end=2026-03-02").await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, texts::SLOTS_EVENT_TYPE_NOT_FOUND.to_string())
    );
    let missing = api.slots(&format!("eventTypeId={EVENT}")).await;
    assert_eq!(
        (missing.status, missing.message()),
        (400, "Bad Request Exception".to_string())
    );
    for version in [None, Some("2024-08-13"), Some("2024-04-15")] {
        let reply = api
            .send(
                reqwest::Method::GET,
                "/slots?eventTypeId=1001&start=2026-03-02&end=2026-03-02",
                version,
                None,
            )
            .await;
        let reply = reply.expect("slots");
        assert_eq!(reply.status, 404);
        assert_eq!(
            reply.message(),
            "Cannot GET /v2/slots?eventTypeId=1001&start=2026-03-02&end=2026-03-02"
        );
    }
}

#[tokio::test]
async fn multi_length_event_types_and_managed_parents() {
    let cal = start(
        Config::default()
            .with_event_type(EventType::new(2001, "flex", 30).with_lengths(&[30, 60]))
            .with_event_type(beratung())
            .with_event_type(EventType::new(3000, "team-parent", 30).managed_parent_of(&[EVENT]))
            .with_now(now())
            .with_rate_limit(1000, 60),
    )
    .await;
    let api = Api::new(&cal);
    let mut body = booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de");
    body["lengthInMinutes"] = json!(60);
    let single = api.create(&body).await;
    assert_eq!(
        (single.status, single.message()),
        (400, texts::LENGTH_NOT_ALLOWED.to_string())
    );
    body["eventTypeId"] = json!(2001);
    let long = api.create(&body).await;
    assert_eq!(long.status, 201, "{}", long.text);
    assert_eq!(long.json()["data"]["duration"], 60);
    assert_eq!(long.json()["data"]["end"], "2026-03-02T10:00:00.000Z");

    let hour = api
        .slots("eventTypeId=2001&start=2026-03-02&end=2026-03-02&duration=60&format=range")
        .await
        .json();
    assert_eq!(hour["data"]["2026-03-02"][0]["end"], "2026-03-02T09:00:00.000Z");

    let parent = api.slots("eventTypeId=3000&start=2026-03-02&end=2026-03-02").await;
    assert_eq!(parent.text, r#"{"data":{},"status":"success"}"#);
    body["eventTypeId"] = json!(3000);
    body.as_object_mut().map(|b| b.remove("lengthInMinutes"));
    assert_eq!(api.create(&body).await.status, 400);

    body["eventTypeId"] = json!(9999);
    let unknown = api.create(&body).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, texts::event_type_not_found(9999))
    );
}

#[tokio::test]
async fn validation_errors_are_collected_in_details() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let reply = api
        .create(&json!({
            "start": "2026-03-02T10:00:00+01:00",
            "eventTypeId": EVENT,
            "attendee": { "name": "", "timeZone": "Europe/Berlin", "phoneNumber": "0151 123" },
            "metadata": { "nested": { "no": "objects" } },
        }))
        .await;
    assert_eq!(reply.status, 400);
    let error = reply.json()["error"].clone();
    assert_eq!(error["code"], "BadRequestException");
    assert_eq!(error["message"], "Bad Request Exception");
    let properties: Vec<&str> = error["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["property"].as_str())
        .collect();
    assert_eq!(properties, ["start", "attendee", "metadata"]);
    let attendee = &error["details"]["errors"][1]["children"];
    assert_eq!(attendee[0]["property"], "name");
    assert_eq!(attendee[1]["property"], "phoneNumber");

    let phone_only = json!({
        "start": "2026-03-02T10:00:00Z", "eventTypeId": EVENT,
        "attendee": { "name": "Max", "timeZone": "Europe/Berlin", "phoneNumber": "+4915112345678" },
    });
    let booked = api.create(&phone_only).await;
    assert_eq!(booked.status, 201, "phone number alone is enough: {}", booked.text);
    assert!(booked.json()["data"]["attendees"][0].get("email").is_none());

    let broken = api
        .send(reqwest::Method::POST, "/bookings", Some(BOOKINGS), None)
        .await
        .expect("empty body");
    assert_eq!(broken.status, 400);
}

#[tokio::test]
async fn cancel_rules_and_reads() {
    let cal = standard().await;
    cal.seed_booking(SeedBooking {
        uid: Some("PastBookingUid00000001".into()),
        event_type_id: EVENT,
        start: at("2026-02-27T09:00:00Z"),
        length_in_minutes: None,
        attendee: serde_json::from_value(
            json!({"name": "Old", "email": "old@example.de", "timeZone": "Europe/Berlin"}),
        )
        .expect("attendee"),
        status: None,
        cancellation_reason: None,
        created_at: None,
        metadata: Default::default(),
    })
    .expect("seed");
    let api = Api::new(&cal);
    let ended = api
        .post("/bookings/PastBookingUid00000001/cancel", BOOKINGS, &json!({}))
        .await;
    assert_eq!((ended.status, ended.message()), (400, texts::CANCEL_ENDED.to_string()));
    let unknown = api.post("/bookings/doesNotExist/cancel", BOOKINGS, &json!({})).await;
    assert_eq!(
        (unknown.status, unknown.message()),
        (404, texts::booking_not_found("doesNotExist"))
    );
    let read = api.get("/bookings/doesNotExist", BOOKINGS).await;
    assert_eq!(
        (read.status, read.message()),
        (404, texts::booking_not_found("doesNotExist"))
    );
    let legacy = api
        .send(reqwest::Method::GET, "/bookings/PastBookingUid00000001", None, None)
        .await
        .expect("get");
    assert_eq!(legacy.status, 400, "legacy controllers are not reproduced and say so");
    let found = api.get("/bookings/PastBookingUid00000001", "2026-02-25").await;
    assert_eq!(found.json()["data"]["attendees"][0]["name"], "Old");
    assert_eq!(
        cal.booking("PastBookingUid00000001").map(|b| b.origin),
        Some(Origin::Seed)
    );
}

#[tokio::test]
async fn list_filters_and_offset_pagination() {
    let cal = standard().await;
    let api = Api::new(&cal);
    for (i, hour) in ["08", "09", "10", "11", "12"].iter().enumerate() {
        let reply = api
            .create(&booking_body(
                &format!("2026-03-02T{hour}:00:00Z"),
                &format!("P{i}"),
                &format!("p{i}@example.de"),
            ))
            .await;
        assert_eq!(reply.status, 201);
    }
    let uid = cal.bookings()[4].uid.clone();
    api.post(&format!("/bookings/{uid}/cancel"), BOOKINGS, &json!({})).await;

    let page = api.get("/bookings?take=2&skip=2", BOOKINGS).await.json();
    assert_eq!(page["status"], "success");
    assert_eq!(page["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(page["data"][0]["start"], "2026-03-02T10:00:00.000Z");
    assert_eq!(
        page["pagination"],
        json!({"totalItems": 4, "remainingItems": 0, "returnedItems": 2, "itemsPerPage": 2, "currentPage": 2,
               "totalPages": 2, "hasNextPage": false, "hasPreviousPage": true})
    );
    let cancelled = api.get("/bookings?status=cancelled", BOOKINGS).await.json();
    assert_eq!(cancelled["data"][0]["uid"], uid.as_str());
    let by_email = api
        .get("/bookings?attendeeEmail=p1@example.de&status=upcoming,past", BOOKINGS)
        .await
        .json();
    assert_eq!(by_email["data"].as_array().map(Vec::len), Some(1));
    let window = api
        .get(
            "/bookings?afterStart=2026-03-02T09:00:00Z&beforeEnd=2026-03-02T10:30:00Z",
            BOOKINGS,
        )
        .await
        .json();
    assert_eq!(window["pagination"]["totalItems"], 2);
    let too_many = api.get("/bookings?take=251", BOOKINGS).await;
    assert_eq!(too_many.status, 400);

    let anonymous = reqwest::Client::new()
        .get(format!("{}/bookings", cal.base_url()))
        .header("cal-api-version", BOOKINGS)
        .send()
        .await
        .expect("anonymous list");
    assert_eq!(anonymous.status(), 401, "listing needs a key");
}

#[tokio::test]
async fn api_keys_and_auth_texts() {
    let cal = standard().await;
    cal.set_api_key(Some("cal_live_right"));
    let http = reqwest::Client::new();
    let create = |token: &'static str| {
        http.post(format!("{}/bookings", cal.base_url()))
            .header("cal-api-version", BOOKINGS)
            .bearer_auth(token)
            .json(&booking_body("2026-03-02T09:00:00Z", "Max", "max@example.de"))
            .send()
    };
    let wrong = create("cal_live_wrong").await.expect("send");
    assert_eq!(wrong.status(), 401);
    let text = wrong.text().await.expect("body");
    assert!(text.contains(texts::INVALID_API_KEY), "{text}");
    let oauth = create("eyJhbGciOi.jwt").await.expect("send");
    assert_eq!(oauth.status(), 401);
    assert!(oauth.text().await.expect("body").contains(texts::INVALID_ACCESS_TOKEN));
    assert_eq!(create("cal_live_right").await.expect("send").status(), 201);
}

#[tokio::test]
async fn owner_flags_only_for_2026_versions_with_a_key() {
    let cal = standard().await;
    let api = Api::new(&cal);
    let mut body = booking_body("2026-03-07T09:00:00Z", "Max", "max@example.de"); // Saturday
    body["allowConflicts"] = json!(true);
    assert_eq!(api.create(&body).await.status, 400, "2024-08-13 ignores the flag");
    let owner = api.post("/bookings", "2026-02-25", &body).await;
    assert_eq!(owner.status, 201, "{}", owner.text);
}

#[tokio::test]
async fn seeded_hosts_share_busy_time_across_event_types() {
    let host = Host {
        id: 7,
        name: "Dr. Weiss".into(),
        email: "weiss@example.de".into(),
        username: "weiss".into(),
        time_zone: "Europe/Berlin".into(),
    };
    let cal = start(
        Config::default()
            .with_event_type(beratung().with_host(host.clone()))
            .with_event_type(EventType::new(1002, "kontrolle", 15).with_host(host).with_hours(
                &[Weekday::Mon],
                (9, 0),
                (12, 0),
            ))
            .with_now(now())
            .with_rate_limit(1000, 60),
    )
    .await;
    let api = Api::new(&cal);
    assert_eq!(
        api.create(&booking_body("2026-03-02T08:00:00Z", "Max", "max@example.de"))
            .await
            .status,
        201
    );
    let short = api
        .slots("eventTypeId=1002&start=2026-03-02&end=2026-03-02")
        .await
        .json();
    let first = short["data"]["2026-03-02"][0]["start"].clone();
    assert_eq!(
        first, "2026-03-02T08:30:00.000Z",
        "the 30-min booking blocks the host for the 15-min type too"
    );
    let pending = cal
        .bookings()
        .into_iter()
        .filter(|b| b.status == BookingStatus::Pending)
        .count();
    assert_eq!(pending, 0);
}
