//! Enrichment end to end: recordings streamed from a local host into the emulator's S3,
//! customer matching in DynamoDB, retries through SQS, the hand-off to delivery.

use std::time::Duration;

use gateway_adapters::S3Recordings;
use gateway_adapters::http::Budget;
use gateway_domain::case::{CustomerMatch, EnrichmentStatus, MatchKind};
use gateway_domain::deadline::Deadline;
use gateway_domain::enrichment::customer::Customer;
use gateway_domain::ssrf::UrlPolicy;
use gateway_e2e::prelude::*;
use gateway_e2e::*;
use gateway_local::recording_server::expected_sha256;
use lambda_http::http::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

async fn stored_sha256(s: &Stack, key: &str) -> (u64, String) {
    let mut obj =
        s.s3.get_object()
            .bucket(&s.resources.bucket)
            .key(key)
            .send()
            .await
            .expect("object stored");
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    while let Some(chunk) = obj.body.try_next().await.expect("read object") {
        len += chunk.len() as u64;
        hasher.update(&chunk);
    }
    (len, hex::encode(hasher.finalize()))
}

fn recordings(s: &Stack, read_timeout: Duration) -> S3Recordings {
    S3Recordings::with_budget(
        s.s3.clone(),
        &s.resources.bucket,
        UrlPolicy::local(vec![s.recording_host.clone()]),
        Budget {
            connect: Duration::from_secs(2),
            read: read_timeout,
            total: Duration::from_secs(60),
        },
    )
    .unwrap()
}

#[tokio::test]
async fn recordings_of_0_b_1_kb_and_50_mb_arrive_byte_identical() {
    let s = stack().await;
    let copier = recordings(&s, Duration::from_secs(10));
    for size in [0u64, 1024, 50 * 1024 * 1024] {
        let key = format!("{COMPANY}/case-{size}/recording.wav");
        let copy = copier
            .copy(&s.recording_url(&format!("/rec/{size}.wav")), &key, Deadline::none())
            .await
            .unwrap();
        assert_eq!((copy.bytes, copy.already_present), (size, false));
        assert_eq!(
            stored_sha256(&s, &key).await,
            (size, expected_sha256(size)),
            "{size} bytes"
        );
        let again = copier
            .copy(&s.recording_url(&format!("/rec/{size}.wav")), &key, Deadline::none())
            .await
            .unwrap();
        assert!(again.already_present, "an object already stored is not copied again");
    }
}

#[tokio::test]
async fn download_errors_timeouts_and_refused_urls() {
    let s = stack().await;
    let copier = recordings(&s, Duration::from_millis(500));
    let err = copier
        .copy(&s.recording_url("/status/503"), "k/1", Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RecordingError::Failed(m) if m.contains("HTTP 503")),
        "{err}"
    );
    let err = copier
        .copy(&s.recording_url("/status/302"), "k/2", Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RecordingError::Failed(m) if m.contains("302")),
        "redirects are not followed: {err}"
    );
    let err = copier
        .copy(&s.recording_url("/stall"), "k/3", Deadline::none())
        .await
        .unwrap_err();
    assert!(matches!(err, RecordingError::Timeout(_)), "{err}");
    let err = copier
        .copy("https://10.0.0.1/recording.wav", "k/4", Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RecordingError::Failed(m) if m.contains("refused")),
        "{err}"
    );
    let err = copier
        .copy("http://127.0.0.1:1/recording.wav", "k/5", Deadline::none())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RecordingError::Failed(m) if m.contains("refused")),
        "not allow-listed: {err}"
    );
    for key in ["k/1", "k/2", "k/3"] {
        assert!(
            s.s3.head_object()
                .bucket(&s.resources.bucket)
                .key(key)
                .send()
                .await
                .is_err(),
            "nothing stored for {key}"
        );
    }
}

fn immediate_tenant() -> gateway_domain::tenancy::TenantSpec {
    let mut tenant = nordit();
    tenant.company.enrichment_delay_seconds = 0;
    tenant
}

#[tokio::test]
async fn a_captured_call_is_enriched_and_handed_to_delivery_once() {
    let s = stack_with(&[immediate_tenant()]).await;
    let caller = Customer::from_fields(
        "Brandt Elektrotechnik",
        "+4951187654321",
        "",
        "",
        "K-10482",
        "DE".parse().unwrap(),
    )
    .unwrap();
    s.store.put_customer(&company_id(COMPANY), &caller).await.unwrap();
    // Same number at another company: must never match.
    s.store
        .put_customer(
            &company_id("kanzlei-berg"),
            &Customer::from_fields("Fremd", "+4951187654321", "", "", "X-1", "DE".parse().unwrap()).unwrap(),
        )
        .await
        .unwrap();
    let url = s.recording_url("/rec/3000000.wav");
    let body = edited(ANALYZED, |v| v["call"]["recording_url"] = json!(url));
    assert_eq!(s.post("/webhooks/retell", &body).await.0, StatusCode::OK);

    assert_eq!(s.run_enrich_once(5).await, (1, 0));
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.enrichment_status, EnrichmentStatus::Enriched);
    let m = case.enrichment.customer.as_ref().unwrap();
    assert_eq!((m.customer_id.as_str(), m.kind), ("ext-K-10482", MatchKind::CallerId));
    let key = case.enrichment.audio_object_key.clone().unwrap();
    assert_eq!(key, format!("{COMPANY}/{}/recording.wav", case.case_id));
    assert_eq!(stored_sha256(&s, &key).await, (3_000_000, expected_sha256(3_000_000)));
    assert_eq!(case.enrichment.transcript_segment_count, Some(9));
    assert!(
        !serde_json::to_string(&case).unwrap().contains(&s.recording_host),
        "the recording URL is not on the case"
    );
    assert_eq!(s.counts(&s.resources.delivery_queue_url).await.0, 1);
    let log = s.store.exchange_log(&company_id(COMPANY), &case.case_id).await.unwrap();
    let ops: Vec<&str> = log.iter().filter_map(|e| e["operation"].as_str()).collect();
    for op in ["customer-match", "audio-storage", "enrichment", "delivery-enqueue"] {
        assert!(ops.contains(&op), "{op} missing from {ops:?}");
    }
    assert!(
        !serde_json::to_string(&log).unwrap().contains("/rec/"),
        "the log keeps no recording path"
    );

    // The same message again (SQS delivers at least once): nothing changes, nothing is resent.
    let message = json!({"company_id": COMPANY, "call_id": CALL_ID, "case_id": case.case_id}).to_string();
    s.sqs
        .send_message()
        .queue_url(&s.resources.enrich_queue_url)
        .message_body(message)
        .send()
        .await
        .unwrap();
    assert_eq!(s.run_enrich_once(5).await, (1, 0));
    assert_eq!(s.counts(&s.resources.delivery_queue_url).await.0, 1);
}

#[tokio::test]
async fn the_last_attempt_marks_enrichment_failed_and_still_delivers() {
    let s = stack_with(&[immediate_tenant()]).await;
    let body = edited(ANALYZED, |v| {
        v["call"]["recording_url"] = json!(s.recording_url("/status/500"))
    });
    s.post("/webhooks/retell", &body).await;
    assert_eq!(s.run_enrich_once(5).await, (1, 1), "receive 1 fails");
    // The handler set a 1 s retry delay: the message is back within the next 5 s long poll
    // (with the queue's 6-minute visibility timeout it would not be).
    assert_eq!(s.run_enrich_once(5).await, (1, 1), "receive 2 fails");
    assert_eq!(s.counts(&s.resources.delivery_queue_url).await.0, 0);
    assert_eq!(s.run_enrich_once(5).await, (1, 0), "receive 3 is the last: it finishes");
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(case.enrichment_status, EnrichmentStatus::Failed);
    assert!(case.enrichment.error.as_deref().unwrap().contains("HTTP 500"));
    assert_eq!(s.counts(&s.resources.delivery_queue_url).await.0, 1, "delivered anyway");
    assert_eq!(s.counts(&s.resources.enrich_dlq_url).await, (0, 0, 0));
}

/// Captures a `finalize_ticket` call, ends it with a recording, enriches it: the customer it matched.
async fn finalize_and_match(s: &Stack, finalize: &str) -> CustomerMatch {
    s.post("/retell/functions", finalize).await;
    let ended = edited(include_str!("../../../events/retell/call_ended.json"), |v| {
        v["call"]["recording_url"] = json!(s.recording_url("/rec/10.wav"))
    });
    s.post("/webhooks/retell", &ended).await;
    assert_eq!(s.run_enrich_once(5).await, (1, 0));
    let case = s
        .store
        .get_case(&company_id(COMPANY), &call_id(CALL_ID))
        .await
        .unwrap()
        .unwrap();
    case.enrichment.customer.expect("a customer matched")
}

#[tokio::test]
async fn e_mail_and_name_matching_in_dynamodb_with_umlauts() {
    let s = stack_with(&[immediate_tenant()]).await;
    let by_mail = Customer::from_fields(
        "Jonas W.",
        "",
        "J.Weber@Brandt-Elektro.example",
        "",
        "",
        "DE".parse().unwrap(),
    )
    .unwrap();
    s.store.put_customer(&company_id(COMPANY), &by_mail).await.unwrap();
    // finalize_ticket: agent-collected number (nobody has it) and e-mail (case differs).
    let m = finalize_and_match(&s, FINALIZE).await;
    assert_eq!(
        (m.customer_id.as_str(), m.kind),
        (by_mail.customer_id.as_str(), MatchKind::Email)
    );

    // Name only: "Jürgen Weiß" on file, the caller said "Juergen Weiss".
    let s = stack_with(&[immediate_tenant()]).await;
    let jw = Customer::from_fields("Jürgen Weiß", "", "", "Weiß & Söhne GmbH", "K-7", "DE".parse().unwrap()).unwrap();
    s.store.put_customer(&company_id(COMPANY), &jw).await.unwrap();
    let call = edited(FINALIZE, |v| {
        let args = v["args"].as_object_mut().unwrap();
        args.insert("customer_name".into(), json!("Juergen Weiss"));
        args.remove("customer_phone");
        args.remove("customer_email");
        v["call"]["from_number"] = json!("anonymous");
    });
    let m = finalize_and_match(&s, &call).await;
    assert_eq!((m.customer_id.as_str(), m.kind), ("ext-K-7", MatchKind::Name));
}
