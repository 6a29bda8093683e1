//! The contract of the booking engine's store, run against the in-memory twin and DynamoDB:
//! slot holds owned by one call at a time, idempotency records that hand back a stored answer,
//! appointments written over the version they were read at and found by uid and caller number.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gateway_domain::appointments::backend::CalendarRef;
use gateway_domain::appointments::ports::{AppointmentStore, HoldOutcome, OperationClaim, OperationKey, SlotHold};
use gateway_domain::appointments::record::{
    Appointment, AppointmentCustomer, AppointmentStatus, Change, ChangeKind, ChangedBy,
};
use gateway_domain::ids::{AppointmentId, BranchId, CallId, CompanyId, ServiceId};
use gateway_domain::locale::TimeZone as Zone;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().unwrap_or_default() + TimeDelta::minutes(minute)
}

/// An appointment of `company` for `phone`, starting `start_minute` after the suite's "now".
pub fn appointment(company: &CompanyId, id: &str, phone: &str, start_minute: i64) -> Appointment {
    Appointment {
        company_id: company.clone(),
        appointment_id: AppointmentId::new(id),
        branch_id: BranchId::new("hannover"),
        service_id: ServiceId::new("beratung"),
        staff_id: None,
        customer: AppointmentCustomer {
            name: "Jonas Weber".into(),
            phone: Some(phone.into()),
            email: None,
        },
        call_id: CallId::new(format!("call_{id}")),
        calendar: CalendarRef::CalCom { event_type_id: 7 },
        backend_uid: format!("uid-{id}"),
        start: at(start_minute),
        end: at(start_minute + 30),
        time_zone: Zone::default(),
        status: AppointmentStatus::Booked,
        history: vec![Change {
            at: at(0),
            kind: ChangeKind::Booked,
            by: ChangedBy::Caller {
                call_id: CallId::new(format!("call_{id}")),
            },
            from: None,
            to: Some(at(start_minute)),
            reason: None,
        }],
        calls: Default::default(),
        created_at: at(0),
        updated_at: at(0),
        version: 0,
    }
}

pub async fn run_all(store: &dyn AppointmentStore, company: &CompanyId, prefix: &str) {
    a_slot_is_held_by_one_call_at_a_time(store, company, prefix).await;
    an_operation_is_done_once_and_answers_retries(store, company, prefix).await;
    appointments_change_over_their_version_and_are_found(store, company, prefix).await;
    appointments_are_listed_by_time(store, company, prefix).await;
}

/// The console's dashboard lists a company's appointments of a period, soonest first.
pub async fn appointments_are_listed_by_time(store: &dyn AppointmentStore, company: &CompanyId, prefix: &str) {
    let day = 10 * 24 * 60;
    let ids = |list: &[Appointment]| -> Vec<String> {
        list.iter()
            .map(|a| a.appointment_id.to_string())
            .filter(|id| id.starts_with(&format!("{prefix}-day")))
            .collect()
    };
    let morning = appointment(company, &format!("{prefix}-day-morning"), "+4951100000001", day + 60);
    let noon = appointment(company, &format!("{prefix}-day-noon"), "+4951100000002", day + 180);
    let next_week = appointment(
        company,
        &format!("{prefix}-day-later"),
        "+4951100000003",
        day + 7 * 24 * 60,
    );
    for a in [&noon, &next_week, &morning] {
        store.create_appointment(a).await.unwrap();
    }
    let found = store
        .appointments_between(company, at(day), at(day + 24 * 60))
        .await
        .unwrap();
    assert_eq!(
        ids(&found),
        [morning.appointment_id.to_string(), noon.appointment_id.to_string()],
        "the day's appointments, soonest first"
    );
    // An appointment running over the window's start counts.
    let found = store
        .appointments_between(company, at(day + 70), at(day + 120))
        .await
        .unwrap();
    assert_eq!(ids(&found), [morning.appointment_id.to_string()]);
    let other = CompanyId::new(format!("{company}-other"));
    assert!(
        store
            .appointments_between(&other, at(day), at(day + 8 * 24 * 60))
            .await
            .unwrap()
            .is_empty(),
        "never another company's"
    );
}

pub async fn a_slot_is_held_by_one_call_at_a_time(store: &dyn AppointmentStore, company: &CompanyId, prefix: &str) {
    let calendar = format!("calcom:{prefix}");
    let hold = |owner: &str, until: i64| SlotHold {
        calendar_key: calendar.clone(),
        start: at(120),
        owner: CallId::new(owner),
        until: at(until),
    };
    assert_eq!(
        store.hold_slot(company, &hold("call_a", 5), at(0)).await.unwrap(),
        HoldOutcome::Held
    );
    assert_eq!(
        store.hold_slot(company, &hold("call_a", 6), at(1)).await.unwrap(),
        HoldOutcome::Held,
        "the owner may hold it again"
    );
    assert_eq!(
        store.hold_slot(company, &hold("call_b", 6), at(1)).await.unwrap(),
        HoldOutcome::HeldByOther {
            owner: CallId::new("call_a"),
            until: at(6)
        }
    );
    store
        .release_slot(company, &calendar, at(120), &CallId::new("call_b"))
        .await
        .unwrap();
    assert!(
        matches!(
            store.hold_slot(company, &hold("call_b", 6), at(2)).await.unwrap(),
            HoldOutcome::HeldByOther { .. }
        ),
        "only the owner releases it"
    );
    assert_eq!(
        store.hold_slot(company, &hold("call_b", 12), at(7)).await.unwrap(),
        HoldOutcome::Held,
        "an expired hold is free"
    );
    store
        .release_slot(company, &calendar, at(120), &CallId::new("call_b"))
        .await
        .unwrap();
    assert_eq!(
        store.hold_slot(company, &hold("call_c", 12), at(8)).await.unwrap(),
        HoldOutcome::Held
    );
}

pub async fn an_operation_is_done_once_and_answers_retries(
    store: &dyn AppointmentStore,
    company: &CompanyId,
    prefix: &str,
) {
    let key = OperationKey {
        company_id: company.clone(),
        call_id: CallId::new(format!("call_{prefix}_op")),
        intent: "book",
        subject: "beratung@2026-12-03T09:00:00Z".into(),
    };
    assert_eq!(
        store.claim_operation(&key, at(0), at(1)).await.unwrap(),
        OperationClaim::Claimed
    );
    assert_eq!(
        store.claim_operation(&key, at(0), at(1)).await.unwrap(),
        OperationClaim::InProgress
    );
    store.release_operation(&key).await.unwrap();
    assert_eq!(
        store.claim_operation(&key, at(0), at(1)).await.unwrap(),
        OperationClaim::Claimed,
        "a released operation may be tried again"
    );
    assert_eq!(
        store.claim_operation(&key, at(2), at(3)).await.unwrap(),
        OperationClaim::Claimed,
        "an expired lease is taken over"
    );
    let answer = serde_json::json!({"appointment_id": "a1"});
    store.complete_operation(&key, &answer).await.unwrap();
    assert_eq!(
        store.claim_operation(&key, at(9), at(10)).await.unwrap(),
        OperationClaim::Done(answer.clone())
    );
    store.release_operation(&key).await.unwrap();
    assert_eq!(
        store.claim_operation(&key, at(9), at(10)).await.unwrap(),
        OperationClaim::Done(answer),
        "a done operation stays done"
    );
    let other = OperationKey {
        subject: "beratung@2026-12-03T10:00:00Z".into(),
        ..key
    };
    assert_eq!(
        store.claim_operation(&other, at(9), at(10)).await.unwrap(),
        OperationClaim::Claimed,
        "another appointment in the same call is its own operation"
    );
}

pub async fn appointments_change_over_their_version_and_are_found(
    store: &dyn AppointmentStore,
    company: &CompanyId,
    prefix: &str,
) {
    let phone = format!("+49511{:07}", prefix.len() * 104_729 % 10_000_000);
    let later = appointment(company, &format!("{prefix}-later"), &phone, 48 * 60);
    let sooner = appointment(company, &format!("{prefix}-sooner"), &phone, 24 * 60);
    let past = appointment(company, &format!("{prefix}-past"), &phone, -120);
    for a in [&later, &sooner, &past] {
        store.create_appointment(a).await.unwrap();
    }
    assert!(store.create_appointment(&later).await.is_err(), "an id is written once");
    let found = store.upcoming_by_phone(company, &phone, at(0)).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|a| a.appointment_id.as_str()).collect();
    assert_eq!(
        ids,
        [sooner.appointment_id.as_str(), later.appointment_id.as_str()],
        "soonest first, none ended"
    );
    assert_eq!(
        store
            .appointment_by_uid(company, &later.backend_uid)
            .await
            .unwrap()
            .as_ref(),
        Some(&later)
    );
    let mut moved = later.clone();
    moved.backend_uid = format!("uid-{prefix}-moved");
    moved.start = at(72 * 60);
    moved.end = at(72 * 60 + 30);
    moved.version = 1;
    assert!(store.update_appointment(&moved, 0).await.unwrap());
    assert!(
        !store.update_appointment(&moved, 0).await.unwrap(),
        "a stale version loses"
    );
    let stored = store
        .appointment(company, &later.appointment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.version, stored.start), (1, at(72 * 60)));
    assert!(
        store
            .appointment_by_uid(company, &moved.backend_uid)
            .await
            .unwrap()
            .is_some(),
        "found by its new uid"
    );
    let mut cancelled = stored.clone();
    cancelled.status = AppointmentStatus::Cancelled;
    assert!(store.update_appointment(&cancelled, 1).await.unwrap());
    let found = store.upcoming_by_phone(company, &phone, at(0)).await.unwrap();
    assert_eq!(found.len(), 1, "a cancelled one is not upcoming");
    let other = CompanyId::new(format!("{company}-other"));
    assert!(
        store.upcoming_by_phone(&other, &phone, at(0)).await.unwrap().is_empty(),
        "never another company's"
    );
    assert!(
        store
            .appointment(&other, &later.appointment_id)
            .await
            .unwrap()
            .is_none()
    );
}
