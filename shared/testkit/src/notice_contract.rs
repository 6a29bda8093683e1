//! The contract of the notice outbox, run against the in-memory twin and DynamoDB: a caller's or
//! an operator's change writes its notice with it (a staff change none), a rewrite never resets
//! a notice's delivery state, the sweep's list holds what is not handed off, a delivery attempt
//! claims the notice, each channel is marked sent once, and the final failure and the alerts are
//! marked once.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gateway_domain::alerting::AlertChannel;
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::appointments::record::{Appointment, AppointmentStatus, Change, ChangeKind, ChangedBy};
use gateway_domain::case::ChannelState;
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};
use gateway_domain::notices::{AttemptResult, DeliveryClaim, NoticeChannel, NoticeRef, NoticeStatus, NoticeStore};

use crate::appointment_contract::appointment;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().unwrap_or_default() + TimeDelta::minutes(minute)
}

fn reference(company: &CompanyId, appointment: &Appointment, change: u32) -> NoticeRef {
    NoticeRef {
        company_id: company.clone(),
        appointment_id: appointment.appointment_id.clone(),
        change,
    }
}

fn with_change(mut a: Appointment, kind: ChangeKind, by: ChangedBy, minute: i64) -> Appointment {
    a.history.push(Change {
        at: at(minute),
        kind,
        by,
        from: Some(a.start),
        to: None,
        reason: None,
    });
    if kind == ChangeKind::Cancelled {
        a.status = AppointmentStatus::Cancelled;
    }
    a.updated_at = at(minute);
    a
}

pub async fn run_all<S: AppointmentStore + NoticeStore>(store: &S, company: &CompanyId, prefix: &str) {
    a_change_writes_its_notice_and_a_rewrite_keeps_its_state(store, company, prefix).await;
    a_delivery_claims_the_notice_and_marks_each_channel_once(store, company, prefix).await;
    the_final_failure_and_the_alerts_are_marked_once(store, company, prefix).await;
}

pub async fn a_change_writes_its_notice_and_a_rewrite_keeps_its_state<S: AppointmentStore + NoticeStore>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let booked = appointment(company, &format!("{prefix}-notice"), "+4951100000101", 24 * 60);
    store.create_appointment(&booked).await.unwrap();
    let first = reference(company, &booked, 0);
    let stored = store.notice(&first).await.unwrap().expect("the booking's notice");
    assert_eq!(stored.notice.appointment.start, booked.start);
    assert_eq!(stored.state.status, NoticeStatus::Pending);
    assert_eq!(stored.state.handed_off_at, None);
    let mine = |list: Vec<NoticeRef>| {
        list.into_iter()
            .filter(|r| &r.company_id == company)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        mine(store.pending_handoffs(at(1), 100).await.unwrap())
            .iter()
            .filter(|r| r.appointment_id == booked.appointment_id)
            .count(),
        1,
        "not handed off: on the sweep's list"
    );
    assert!(
        !mine(store.pending_handoffs(at(0), 100).await.unwrap()).contains(&first),
        "only changes older than the bound"
    );

    // A staff change (a Cal.com webhook) writes no notice.
    let by_staff = with_change(booked.clone(), ChangeKind::Rescheduled, ChangedBy::Staff, 5);
    assert!(store.update_appointment(&by_staff, 0).await.unwrap());
    assert_eq!(store.notice(&reference(company, &booked, 1)).await.unwrap(), None);

    // The first notice is handed off and its caller channel delivered; rewriting the
    // appointment without a new change (the notice is there already) keeps all of that.
    assert!(store.mark_handed_off(&first, at(2)).await.unwrap());
    let sent = ChannelState {
        sent_at: Some(at(3)),
        external_id: Some("ses-1".into()),
        recipients: vec!["jonas@example.org".into()],
    };
    assert!(store.save_channel(&first, &NoticeChannel::Caller, &sent).await.unwrap());
    let mut rewrite = booked.clone();
    rewrite.updated_at = at(6);
    assert!(
        store.update_appointment(&rewrite, 1).await.unwrap(),
        "a rewrite is not refused because its notice exists"
    );
    let kept = store.notice(&first).await.unwrap().unwrap();
    assert_eq!(kept.state.handed_off_at, Some(at(2)));
    assert!(kept.state.sent(&NoticeChannel::Caller));
    assert!(
        !mine(store.pending_handoffs(at(100), 100).await.unwrap()).contains(&first),
        "handed off: off the list, and a rewrite does not put it back"
    );

    // The caller cancels: change 1 of this history (the rewrite replaced the staff change).
    let cancelled = with_change(
        rewrite.clone(),
        ChangeKind::Cancelled,
        ChangedBy::Caller {
            call_id: CallId::new(format!("call_{prefix}_cancel")),
        },
        10,
    );
    assert!(store.update_appointment(&cancelled, 2).await.unwrap());
    let second = store
        .notice(&reference(company, &booked, 1))
        .await
        .unwrap()
        .expect("the cancellation's notice");
    assert_eq!(second.notice.appointment.status, AppointmentStatus::Cancelled);
    assert_eq!(
        store.notice(&first).await.unwrap().unwrap().notice.appointment.status,
        AppointmentStatus::Booked,
        "the earlier notice still says what it said"
    );
    let other = NoticeRef {
        company_id: CompanyId::new(format!("{company}-other")),
        ..first.clone()
    };
    assert_eq!(store.notice(&other).await.unwrap(), None, "never another company's");
    assert!(!store.mark_handed_off(&other, at(2)).await.unwrap());
}

pub async fn a_delivery_claims_the_notice_and_marks_each_channel_once<S: AppointmentStore + NoticeStore>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let booked = appointment(company, &format!("{prefix}-claim"), "+4951100000102", 24 * 60);
    store.create_appointment(&booked).await.unwrap();
    let notice = reference(company, &booked, 0);
    assert!(matches!(
        store.claim_delivery(&notice, at(1), at(2)).await.unwrap(),
        DeliveryClaim::Claimed(_)
    ));
    assert_eq!(
        store.claim_delivery(&notice, at(1), at(2)).await.unwrap(),
        DeliveryClaim::Busy,
        "a second copy of the message finds the claim"
    );
    assert!(
        matches!(
            store.claim_delivery(&notice, at(3), at(4)).await.unwrap(),
            DeliveryClaim::Claimed(_)
        ),
        "an expired claim is taken over"
    );
    let webhook = NoticeChannel::Webhook { output: "crm".into() };
    let email = NoticeChannel::Email {
        output: "empfang".into(),
    };
    let progress = ChannelState {
        sent_at: None,
        external_id: Some("ses-1".into()),
        recipients: vec!["a@praxis.example".into()],
    };
    assert!(
        store.save_channel(&notice, &email, &progress).await.unwrap(),
        "progress"
    );
    let done = ChannelState {
        sent_at: Some(at(3)),
        external_id: Some("ext-7".into()),
        recipients: Vec::new(),
    };
    assert!(store.save_channel(&notice, &webhook, &done).await.unwrap());
    assert!(
        !store.save_channel(&notice, &webhook, &done).await.unwrap(),
        "a sent channel is never overwritten"
    );
    store
        .finish_delivery(
            &notice,
            &AttemptResult::Failed {
                error: "email: down".into(),
            },
        )
        .await
        .unwrap();
    let stored = store.notice(&notice).await.unwrap().unwrap();
    assert_eq!(stored.state.status, NoticeStatus::Pending);
    assert_eq!(stored.state.last_error.as_deref(), Some("email: down"));
    assert_eq!(stored.state.channel(&email), Some(&progress));
    assert!(stored.state.sent(&webhook) && !stored.state.sent(&email));
    assert!(
        matches!(
            store.claim_delivery(&notice, at(3), at(4)).await.unwrap(),
            DeliveryClaim::Claimed(_)
        ),
        "a finished attempt gave its claim back"
    );
    store
        .finish_delivery(&notice, &AttemptResult::Sent { at: at(4) })
        .await
        .unwrap();
    assert_eq!(
        store.claim_delivery(&notice, at(5), at(6)).await.unwrap(),
        DeliveryClaim::Sent
    );
    let stored = store.notice(&notice).await.unwrap().unwrap();
    assert_eq!(
        (stored.state.status, stored.state.sent_at),
        (NoticeStatus::Sent, Some(at(4)))
    );
    assert_eq!(stored.state.last_error, None);
    let missing = NoticeRef {
        appointment_id: AppointmentId::new(format!("{prefix}-nothing")),
        ..notice
    };
    assert_eq!(
        store.claim_delivery(&missing, at(5), at(6)).await.unwrap(),
        DeliveryClaim::Missing
    );
}

pub async fn the_final_failure_and_the_alerts_are_marked_once<S: AppointmentStore + NoticeStore>(
    store: &S,
    company: &CompanyId,
    prefix: &str,
) {
    let booked = appointment(company, &format!("{prefix}-failed"), "+4951100000103", 24 * 60);
    store.create_appointment(&booked).await.unwrap();
    let notice = reference(company, &booked, 0);
    assert!(
        store
            .mark_failed(&notice, "webhook:crm: HTTP 500", at(9))
            .await
            .unwrap()
    );
    let stored = store.notice(&notice).await.unwrap().unwrap();
    assert_eq!(stored.state.status, NoticeStatus::Failed);
    assert_eq!(stored.state.last_error.as_deref(), Some("webhook:crm: HTTP 500"));
    assert!(store.mark_alerted(&notice, AlertChannel::Email, at(9)).await.unwrap());
    assert!(!store.mark_alerted(&notice, AlertChannel::Email, at(10)).await.unwrap());
    assert!(store.mark_alerted(&notice, AlertChannel::Slack, at(10)).await.unwrap());
    let stored = store.notice(&notice).await.unwrap().unwrap();
    assert_eq!(stored.state.alerts.email_at, Some(at(9)));

    let sent = reference(
        company,
        &appointment(company, &format!("{prefix}-sent"), "+4951100000104", 60),
        0,
    );
    store
        .create_appointment(&appointment(company, &format!("{prefix}-sent"), "+4951100000104", 60))
        .await
        .unwrap();
    assert!(matches!(
        store.claim_delivery(&sent, at(1), at(2)).await.unwrap(),
        DeliveryClaim::Claimed(_)
    ));
    store
        .finish_delivery(&sent, &AttemptResult::Sent { at: at(1) })
        .await
        .unwrap();
    assert!(
        !store.mark_failed(&sent, "late dead letter", at(9)).await.unwrap(),
        "never failed over sent"
    );
    assert_eq!(
        store.notice(&sent).await.unwrap().unwrap().state.status,
        NoticeStatus::Sent
    );
}
