//! Appointment notices against in-memory ports: the outbox written with the change, the hand-off
//! and the sweep, each channel delivered once (also when two copies of the message race), retries
//! and permanent failures, the audit in the appointment's own log, and one alert per dead notice.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use gateway_domain::alerting::AlertOutcome;
use gateway_domain::appointments::backend::CalendarRef;
use gateway_domain::appointments::ports::AppointmentStore;
use gateway_domain::appointments::record::{
    Appointment, AppointmentCustomer, AppointmentStatus, Change, ChangeKind, ChangedBy,
};
use gateway_domain::deadline::Deadline;
use gateway_domain::delivery::{DeliverError, HttpResponse};
use gateway_domain::ids::{AppointmentId, BranchId, CallId, CompanyId, ServiceId};
use gateway_domain::notices::{
    HandoffOutcome, NoticeAlertPorts, NoticeAlerter, NoticeChannel, NoticeDeliverer, NoticeHandoff, NoticeOutcome,
    NoticePorts, NoticeRef, NoticeStatus, NoticeStore,
};
use gateway_domain::tenancy::output::{OutputConfig, OutputType, WebhookOutput};
use gateway_domain::tenancy::tenant::TenantSpec;
use gateway_testkit::appointments::MemoryAppointmentStore;
use gateway_testkit::memory::{FixedClock, MemoryConfigStore, MemoryExchangeLog, MemoryMailer, ScriptedWebhooks};
use gateway_testkit::notices::MemoryNoticeQueue;

const PRAXIS: &str = include_str!("../../../../infra/tenants/praxis.yaml");
const COMPANY: &str = "praxis-lister-platz";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

struct World {
    store: Arc<MemoryAppointmentStore>,
    queue: Arc<MemoryNoticeQueue>,
    mailer: Arc<MemoryMailer>,
    webhooks: Arc<ScriptedWebhooks>,
    log: Arc<MemoryExchangeLog>,
    clock: Arc<FixedClock>,
    handoff: NoticeHandoff,
    deliverer: NoticeDeliverer,
    alerter: NoticeAlerter,
}

/// The example practice, its `empfang` output also posting to a CRM webhook, admins set.
fn world(edit: impl FnOnce(&mut TenantSpec)) -> World {
    let mut spec: TenantSpec = serde_norway::from_str(PRAXIS).unwrap();
    spec.outputs.push(OutputConfig {
        id: "crm".into(),
        name: "CRM".into(),
        kind: OutputType::Webhook,
        email: None,
        webhook: Some(WebhookOutput {
            url: "https://crm.example/hooks".into(),
            headers: Default::default(),
            preset: None,
            template: None,
            external_id_path: None,
            secret: Some("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()),
            include_transcript: false,
            include_case_link: false,
            enabled: true,
            idempotency_header: None,
            params: Default::default(),
            permanent_statuses: vec![],
        }),
    });
    if let Some(n) = spec.appointments.as_mut().and_then(|a| a.notifications.as_mut()) {
        n.outputs = Some(vec!["empfang".into(), "crm".into()]);
    }
    edit(&mut spec);
    let config = Arc::new(MemoryConfigStore::default());
    config.put_tenant(spec.tenant().unwrap());
    let store = Arc::new(MemoryAppointmentStore::default());
    let queue = Arc::new(MemoryNoticeQueue::default());
    let mailer = Arc::new(MemoryMailer::default());
    let webhooks = Arc::new(ScriptedWebhooks::default());
    let log = Arc::new(MemoryExchangeLog::default());
    let clock = Arc::new(FixedClock::new(now()));
    World {
        handoff: NoticeHandoff {
            notices: store.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
        },
        deliverer: NoticeDeliverer::new(
            NoticePorts {
                notices: store.clone(),
                config: config.clone(),
                webhooks: webhooks.clone(),
                mailer: mailer.clone(),
                log: log.clone(),
                clock: clock.clone(),
            },
            "gateway@service-gateway.example",
        ),
        alerter: NoticeAlerter::new(NoticeAlertPorts {
            notices: store.clone(),
            config,
            mailer: mailer.clone(),
            slack: webhooks.clone(),
            log: log.clone(),
            clock: clock.clone(),
        }),
        store,
        queue,
        mailer,
        webhooks,
        log,
        clock,
    }
}

fn booked(email: Option<&str>) -> Appointment {
    let start = Utc.with_ymd_and_hms(2026, 12, 8, 13, 30, 0).unwrap();
    Appointment {
        company_id: CompanyId::new(COMPANY),
        appointment_id: AppointmentId::new("01KNOTICE000000000000000000"),
        branch_id: BranchId::new("lister-platz"),
        service_id: ServiceId::new("erstbefund"),
        staff_id: None,
        customer: AppointmentCustomer {
            name: "Jonas Weber".into(),
            phone: Some("+4951112345678".into()),
            email: email.map(str::to_string),
        },
        call_id: CallId::new("call_book"),
        calendar: CalendarRef::CalCom { event_type_id: 1480231 },
        backend_uid: "uid-1".into(),
        start,
        end: start + TimeDelta::minutes(30),
        time_zone: Default::default(),
        status: AppointmentStatus::Booked,
        history: vec![Change {
            at: now(),
            kind: ChangeKind::Booked,
            by: ChangedBy::Caller {
                call_id: CallId::new("call_book"),
            },
            from: None,
            to: Some(start),
            reason: None,
        }],
        calls: Default::default(),
        created_at: now(),
        updated_at: now(),
        version: 0,
    }
}

fn first(a: &Appointment) -> NoticeRef {
    NoticeRef {
        company_id: a.company_id.clone(),
        appointment_id: a.appointment_id.clone(),
        change: 0,
    }
}

fn ok(status: u16) -> Result<HttpResponse, gateway_domain::delivery::TransportError> {
    Ok(HttpResponse {
        status,
        body: "{}".into(),
    })
}

#[tokio::test]
async fn a_booking_is_handed_off_and_delivered_once_on_every_channel() {
    let w = world(|_| {});
    let a = booked(Some("jonas.weber@example.org"));
    w.store.create_appointment(&a).await.unwrap();
    assert_eq!(w.handoff.after_change(&a).await, HandoffOutcome::HandedOff(first(&a)));
    assert_eq!(w.queue.sent(), [first(&a)]);
    let stored = w.store.notice(&first(&a)).await.unwrap().unwrap();
    assert_eq!(stored.state.handed_off_at, Some(now()));
    assert!(
        w.store
            .pending_handoffs(now() + TimeDelta::hours(1), 10)
            .await
            .unwrap()
            .is_empty()
    );

    let outcome = w.deliverer.process(&first(&a), 1, Deadline::none()).await.unwrap();
    assert_eq!(outcome, NoticeOutcome::Sent);
    let mails = w.mailer.sent();
    let to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(to, ["jonas.weber@example.org", "empfang@physio-lister-platz.example"]);
    assert!(
        mails[0]
            .subject
            .starts_with("Ihr Termin ist bestätigt: Erstbefund und Beratung am Dienstag, 8. Dezember 2026, 14:30 Uhr")
    );
    let ics = String::from_utf8(mails[0].attachment.as_ref().unwrap().bytes.clone())
        .unwrap()
        .replace("\r\n ", "");
    assert!(
        ics.contains("ORGANIZER;CN=Physiotherapie am Lister Platz:mailto:termine@physio-lister-platz.example\r\n"),
        "the company's organizer address: {ics}"
    );
    assert!(mails[1].attachment.is_none() && mails[1].subject.starts_with("Neuer Termin: "));
    let hooks = w.webhooks.received();
    assert_eq!(hooks.len(), 1);
    assert!(hooks[0].body.contains("\"event\":\"appointment.booked\""));

    let stored = w.store.notice(&first(&a)).await.unwrap().unwrap();
    assert_eq!(stored.state.status, NoticeStatus::Sent);
    for channel in [
        NoticeChannel::Caller,
        NoticeChannel::Email {
            output: "empfang".into(),
        },
        NoticeChannel::Webhook { output: "crm".into() },
    ] {
        assert!(stored.state.sent(&channel), "{channel:?}");
    }
    // The message again (a sweep's copy, an SQS redelivery): nothing more goes out.
    assert_eq!(
        w.deliverer.process(&first(&a), 1, Deadline::none()).await.unwrap(),
        NoticeOutcome::Duplicate
    );
    assert_eq!((w.mailer.sent().len(), w.webhooks.received().len()), (2, 1));
    let audit: Vec<String> = w
        .log
        .appointment_operations(&a.appointment_id)
        .into_iter()
        .map(|(op, status)| format!("{op} {status}"))
        .collect();
    assert_eq!(
        audit,
        ["notice-confirmation 200", "notice-email 200", "notice-webhook 200"]
    );
    assert!(w.log.entries.lock().unwrap().is_empty(), "no case log was touched");
}

#[tokio::test]
async fn a_second_copy_arriving_during_delivery_comes_back_later_instead_of_sending_again() {
    let w = world(|_| {});
    let a = booked(Some("jonas.weber@example.org"));
    w.store.create_appointment(&a).await.unwrap();
    // The first copy has claimed the notice and is still sending.
    let claim = w
        .store
        .claim_delivery(&first(&a), now(), now() + TimeDelta::seconds(75))
        .await
        .unwrap();
    assert!(matches!(claim, gateway_domain::notices::DeliveryClaim::Claimed(_)));
    let second = w.deliverer.process(&first(&a), 1, Deadline::none()).await;
    assert!(matches!(second, Err(DeliverError::Retry(_))), "{second:?}");
    assert!(w.mailer.sent().is_empty());
    // The first copy died; once its claim ran out, the second delivers.
    w.clock.advance(TimeDelta::seconds(76));
    assert_eq!(
        w.deliverer.process(&first(&a), 2, Deadline::none()).await.unwrap(),
        NoticeOutcome::Sent
    );
    assert_eq!(w.mailer.sent().len(), 2);
}

#[tokio::test]
async fn a_failed_enqueue_never_fails_the_change_and_the_sweep_hands_it_off() {
    let w = world(|_| {});
    let a = booked(None);
    w.store.create_appointment(&a).await.unwrap();
    w.queue.fail_next(1);
    assert_eq!(
        w.handoff.after_change(&a).await,
        HandoffOutcome::LeftForSweep(first(&a))
    );
    assert_eq!(
        w.handoff.sweep(10).await.unwrap().pending,
        0,
        "too young: a request may still be at it"
    );
    w.clock.advance(TimeDelta::seconds(61));
    let report = w.handoff.sweep(10).await.unwrap();
    assert_eq!((report.pending, report.handed_off, report.failed), (1, 1, 0));
    assert_eq!(w.queue.sent(), [first(&a)]);
    assert_eq!(w.handoff.sweep(10).await.unwrap().pending, 0, "handed off once");

    // Without an e-mail address the caller gets nothing; the company is still told.
    w.deliverer.process(&first(&a), 1, Deadline::none()).await.unwrap();
    let to: Vec<String> = w.mailer.sent().into_iter().map(|m| m.to).collect();
    assert_eq!(to, ["empfang@physio-lister-platz.example"]);

    let mut by_staff = a.clone();
    by_staff.history.push(Change {
        at: now(),
        kind: ChangeKind::Cancelled,
        by: ChangedBy::Staff,
        from: Some(a.start),
        to: None,
        reason: None,
    });
    assert_eq!(w.handoff.after_change(&by_staff).await, HandoffOutcome::NoNotice);
}

#[tokio::test]
async fn a_failing_webhook_is_retried_without_mailing_again_and_a_gone_target_is_permanent() {
    let w = world(|_| {});
    let a = booked(Some("jonas.weber@example.org"));
    w.store.create_appointment(&a).await.unwrap();
    w.webhooks.answer(vec![ok(503), ok(410)]);
    let first_try = w.deliverer.process(&first(&a), 1, Deadline::none()).await;
    assert!(
        matches!(&first_try, Err(DeliverError::Retry(m)) if m.contains("webhook:crm")),
        "{first_try:?}"
    );
    let stored = w.store.notice(&first(&a)).await.unwrap().unwrap();
    assert_eq!(stored.state.status, NoticeStatus::Pending);
    assert!(stored.state.last_error.as_deref().unwrap().contains("HTTP 503"));
    assert!(stored.state.sent(&NoticeChannel::Caller));
    let second = w.deliverer.process(&first(&a), 2, Deadline::none()).await;
    assert!(matches!(second, Err(DeliverError::Permanent(_))), "410: {second:?}");
    assert_eq!(w.mailer.sent().len(), 2, "the e-mails went out once");
    assert_eq!(w.webhooks.received().len(), 2);
    assert_eq!(
        w.log
            .appointment_operations(&a.appointment_id)
            .iter()
            .filter(|(op, _)| op == "notice-webhook")
            .map(|(_, s)| *s)
            .collect::<Vec<_>>(),
        [503, 410]
    );
}

#[tokio::test]
async fn a_refused_caller_address_is_permanent_and_an_outage_is_retried() {
    let w = world(|_| {});
    let a = booked(Some("nobody@example.org"));
    w.store.create_appointment(&a).await.unwrap();
    w.mailer.unavailable.store(true, std::sync::atomic::Ordering::SeqCst);
    let outage = w.deliverer.process(&first(&a), 1, Deadline::none()).await;
    assert!(matches!(outage, Err(DeliverError::Retry(_))), "{outage:?}");
    w.mailer.unavailable.store(false, std::sync::atomic::Ordering::SeqCst);
    w.mailer.reject.lock().unwrap().push("nobody@example.org".into());
    let refused = w.deliverer.process(&first(&a), 2, Deadline::none()).await;
    assert!(
        matches!(&refused, Err(DeliverError::Permanent(m)) if m.contains("caller")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn outputs_default_to_the_default_categorys_and_a_missing_one_is_permanent() {
    let w = world(|spec| {
        let n = spec.appointments.as_mut().unwrap().notifications.as_mut().unwrap();
        n.outputs = None;
        n.confirm_to_caller = false;
    });
    let a = booked(Some("jonas.weber@example.org"));
    w.store.create_appointment(&a).await.unwrap();
    w.deliverer.process(&first(&a), 1, Deadline::none()).await.unwrap();
    let to: Vec<String> = w.mailer.sent().into_iter().map(|m| m.to).collect();
    assert_eq!(
        to,
        ["empfang@physio-lister-platz.example"],
        "rueckruf's output, no confirmation"
    );
    assert!(w.webhooks.received().is_empty());

    // An output removed after it was named (apply refuses that; a stored document may have it).
    let w = world(|spec| {
        spec.appointments
            .as_mut()
            .unwrap()
            .notifications
            .as_mut()
            .unwrap()
            .outputs = Some(vec!["weg".into()]);
    });
    w.store.create_appointment(&a).await.unwrap();
    let result = w.deliverer.process(&first(&a), 1, Deadline::none()).await;
    assert!(
        matches!(&result, Err(DeliverError::Permanent(m)) if m.contains("output weg")),
        "{result:?}"
    );
    assert_eq!(w.mailer.sent().len(), 1, "the caller's confirmation still went out");
}

#[tokio::test]
async fn a_dead_notice_is_marked_failed_and_alerts_the_admins_once() {
    let w = world(|spec| {
        spec.company.slack_webhook_url = Some("https://hooks.slack.com/services/T0/B0/x".into());
    });
    let a = booked(Some("jonas.weber@example.org"));
    w.store.create_appointment(&a).await.unwrap();
    let reason = Some("webhook:crm: HTTP 410: gone");
    let outcome = w.alerter.process(&first(&a), reason, Deadline::none()).await.unwrap();
    assert_eq!(
        outcome,
        AlertOutcome::Failed {
            alerts: vec!["email", "slack"]
        }
    );
    let stored = w.store.notice(&first(&a)).await.unwrap().unwrap();
    assert_eq!(stored.state.status, NoticeStatus::Failed);
    let alert = &w.mailer.sent()[0];
    assert_eq!(alert.to, "praxisleitung@physio-lister-platz.example");
    assert_eq!(
        alert.subject,
        "[ALERT] Terminbenachrichtigung nicht zugestellt: Termin gebucht, Erstbefund und Beratung"
    );
    assert!(
        alert
            .text
            .contains("Termin:    Dienstag, 8. Dezember 2026, 14:30 bis 15:00 Uhr"),
        "{}",
        alert.text
    );
    assert!(alert.text.contains("Fehler:    webhook:crm: HTTP 410: gone"));
    assert!(
        w.webhooks.received()[0]
            .body
            .contains("Terminbenachrichtigung nicht zugestellt")
    );
    // The same dead letter again: no second alert.
    let again = w.alerter.process(&first(&a), reason, Deadline::none()).await.unwrap();
    assert_eq!(again, AlertOutcome::Failed { alerts: vec![] });
    assert_eq!((w.mailer.sent().len(), w.webhooks.received().len()), (1, 1));
    let audit: Vec<String> = w
        .log
        .appointment_operations(&a.appointment_id)
        .into_iter()
        .map(|(op, _)| op)
        .collect();
    assert_eq!(
        audit,
        ["notice-final-failure", "notice-alert-email", "notice-alert-slack"]
    );

    // A notice delivered after all is never alerted on.
    let w = world(|_| {});
    w.store.create_appointment(&a).await.unwrap();
    w.deliverer.process(&first(&a), 1, Deadline::none()).await.unwrap();
    let sent = w.mailer.sent().len();
    assert_eq!(
        w.alerter.process(&first(&a), None, Deadline::none()).await.unwrap(),
        AlertOutcome::AlreadySent
    );
    assert_eq!(w.mailer.sent().len(), sent);
}
