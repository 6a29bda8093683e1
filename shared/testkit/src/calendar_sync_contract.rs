//! The contract of calendar sync's store, run against the in-memory twin and DynamoDB: one
//! receipt per delivery key (taken back on request), marks read back until they run out, kept
//! apart per company.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gateway_domain::appointments::calendar_sync::ports::{ChangeMarks, PendingChange, PendingKind, WebhookReceipts};
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().unwrap_or_default()
}

pub async fn run_all(receipts: &dyn WebhookReceipts, marks: &dyn ChangeMarks, company: &CompanyId, prefix: &str) {
    a_delivery_is_received_once(receipts, company, prefix).await;
    marks_are_read_back_until_they_run_out(marks, company, prefix).await;
}

pub async fn a_delivery_is_received_once(receipts: &dyn WebhookReceipts, company: &CompanyId, prefix: &str) {
    let key = format!("BOOKING_CANCELLED#{prefix}uid#2026-12-01T09:00:00.000Z");
    let expires = now() + TimeDelta::days(30);
    assert!(receipts.first_receipt(company, &key, expires).await.unwrap(), "first");
    assert!(
        !receipts.first_receipt(company, &key, expires).await.unwrap(),
        "a replay"
    );
    let other = CompanyId::new(format!("{prefix}-other"));
    assert!(
        receipts.first_receipt(&other, &key, expires).await.unwrap(),
        "another company's receipts are apart"
    );
    let next = format!("BOOKING_CANCELLED#{prefix}uid#2026-12-01T09:00:01.000Z");
    assert!(
        receipts.first_receipt(company, &next, expires).await.unwrap(),
        "another delivery"
    );
    receipts.forget_receipt(company, &key).await.unwrap();
    assert!(
        receipts.first_receipt(company, &key, expires).await.unwrap(),
        "a forgotten receipt is received again"
    );
}

pub async fn marks_are_read_back_until_they_run_out(marks: &dyn ChangeMarks, company: &CompanyId, prefix: &str) {
    let uid = format!("{prefix}-booking");
    let mark = PendingChange {
        backend_uid: uid.clone(),
        kind: PendingKind::Reschedule,
        appointment_id: AppointmentId::new(format!("{prefix}-appt")),
        call_id: CallId::new(format!("{prefix}-call")),
        to: Some(now() + TimeDelta::days(2)),
        until: now() + TimeDelta::minutes(2),
    };
    assert_eq!(marks.pending_change(company, &uid, now()).await.unwrap(), None);
    marks.mark_change(company, &mark).await.unwrap();
    assert_eq!(
        marks.pending_change(company, &uid, now()).await.unwrap(),
        Some(mark.clone())
    );
    assert_eq!(
        marks
            .pending_change(company, &uid, now() + TimeDelta::minutes(3))
            .await
            .unwrap(),
        None,
        "a mark past its time means nothing"
    );
    let other = CompanyId::new(format!("{prefix}-other"));
    assert_eq!(marks.pending_change(&other, &uid, now()).await.unwrap(), None);
    let cancelling = PendingChange {
        kind: PendingKind::Cancel,
        to: None,
        ..mark
    };
    marks.mark_change(company, &cancelling).await.unwrap();
    assert_eq!(
        marks.pending_change(company, &uid, now()).await.unwrap(),
        Some(cancelling),
        "a newer mark replaces the older"
    );
    marks.clear_change(company, &uid).await.unwrap();
    assert_eq!(marks.pending_change(company, &uid, now()).await.unwrap(), None);
    marks.clear_change(company, &uid).await.unwrap();
}
