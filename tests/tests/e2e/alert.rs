//! Final failure end to end: three failed attempts with backoff, the dead letter, one alert
//! e-mail and one Slack message, the case `failed`; then the target is repaired and the case is
//! redelivered without sending its e-mail again.

use std::time::{Duration, Instant};

use gateway_domain::case::{Channel, OutputStatus};
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use lambda_http::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_dead_letter_alerts_once_and_a_redelivery_completes_the_case() {
    let s = stack_with(&[]).await;
    let mut spec = nordit();
    spec.company.enrichment_delay_seconds = 0;
    spec.company.admin_emails = vec![format!("admin+{}@nordit.example", s.prefix)];
    spec.company.slack_webhook_url = Some(s.slack.url("/services/T0/B0/alerts"));
    let out = &mut spec.outputs[0];
    let email = out.email.as_mut().unwrap();
    email.recipients = vec![format!("desk+{}@nordit.example", s.prefix)];
    email.muted.clear();
    let hook = out.webhook.as_mut().unwrap();
    hook.url = s.sink.url("/tickets");
    hook.preset = Some("generic-rest".into());
    s.store.apply_spec(&spec).await.unwrap();
    s.sink.script(&[(500, r#"{"error": "ticket system down"}"#)]);

    let call = edited(ANALYZED, |v| {
        v["call"]["recording_url"] = json!(s.recording_url("/rec/1024.wav"))
    });
    let (status, body) = s.post("/webhooks/retell", &call).await;
    assert_eq!(status, StatusCode::OK);
    let ticket = body["ticket_id"].as_str().unwrap().to_string();
    assert_eq!(s.run_enrich_once(5).await, (1, 0));

    // Three attempts, 1 s and 2 s apart (the test backoff), then SQS dead-letters the message.
    let mut attempts = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.counts(&s.resources.delivery_dlq_url).await.0 == 0 {
        assert!(Instant::now() < deadline, "never dead-lettered");
        let (received, failed) = s.run_deliver_once(2).await;
        if received > 0 {
            assert_eq!(failed, 1);
            attempts.push(Instant::now());
        }
    }
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts[1] - attempts[0] >= Duration::from_millis(900)
            && attempts[2] - attempts[1] >= Duration::from_millis(1900)
    );

    assert_eq!(s.run_alert_once(2).await, (1, 0));
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.output_status, OutputStatus::Failed);
    assert!(case.output_error.as_deref().unwrap().contains("ticket system down"));
    assert!(
        case.delivery.sent(Channel::Email),
        "the e-mail channel went out on the first attempt"
    );
    let admin_mails = |mails: &[serde_json::Value]| {
        mails
            .iter()
            .filter(|m| m.to_string().contains(&format!("admin+{}@", s.prefix)))
            .cloned()
            .collect::<Vec<_>>()
    };
    let alerts = admin_mails(&s.sent_emails().await);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0]["subject"],
        format!("[ALERT] Zustellung fehlgeschlagen: {ticket}")
    );
    let slack = s.slack.received();
    assert_eq!(slack.len(), 1);
    let blocks: serde_json::Value = serde_json::from_slice(&slack[0].body).unwrap();
    let text = blocks.to_string();
    assert!(
        text.contains("NordIT Systemhaus GmbH") && text.contains(&ticket) && text.contains("Drucker"),
        "{text}"
    );
    // Its "Fall ansehen" button opens the case's page through the gateway.
    let button = blocks["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .expect("a button block");
    let link = button["elements"][0]["url"].as_str().unwrap();
    let page = lambda_http::http::Request::builder()
        .uri(link.trim_start_matches("http://127.0.0.1:3000"))
        .body(lambda_http::Body::Empty)
        .unwrap();
    let (status, _, body) = s.send_raw(page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains(ticket.as_str()));

    // The same dead letter once more: no second alert.
    let again = json!({"company_id": COMPANY, "call_id": CALL_ID, "case_id": case.case_id}).to_string();
    s.sqs
        .send_message()
        .queue_url(&s.resources.delivery_dlq_url)
        .message_body(again)
        .send()
        .await
        .unwrap();
    assert_eq!(s.run_alert_once(2).await, (1, 0));
    assert_eq!(admin_mails(&s.sent_emails().await).len(), 1);
    assert_eq!(s.slack.received().len(), 1);

    // The target is repaired: redeliver. The webhook goes out, the e-mail is not sent again.
    s.sink.script(&[(201, r#"{"id": "EXT-77"}"#)]);
    let redelivery = gatewayctl::Redelivery {
        store: s.store.clone(),
        queue: gateway_adapters::SqsQueue::new(s.sqs.clone(), &s.resources.delivery_queue_url),
        operator: "Petra Leitstand".into(),
    };
    redelivery
        .case(&company_id(COMPANY), &TicketRef::new(ticket.as_str()), &[])
        .await
        .unwrap();
    assert_eq!(s.run_deliver_once(5).await, (1, 0));
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.output_status, OutputStatus::Sent);
    assert_eq!(case.external_reference.as_deref(), Some("EXT-77"));
    let desk = s
        .sent_emails()
        .await
        .into_iter()
        .filter(|m| m.to_string().contains(&format!("desk+{}@", s.prefix)))
        .count();
    assert_eq!(desk, 1, "the hybrid case's e-mail was not sent a second time");
    let log = s.store.exchange_log(&company_id(COMPANY), &case.case_id).await.unwrap();
    let manual = log
        .iter()
        .find(|e| e["operation"] == "manual-redelivery")
        .expect("redelivery logged");
    assert!(manual["detail"].as_str().unwrap().contains("Petra Leitstand"));

    // Bulk: nothing failed any more.
    assert!(
        redelivery
            .failed(&company_id(COMPANY), None, &[])
            .await
            .unwrap()
            .is_empty()
    );
}
