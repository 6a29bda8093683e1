//! Every sample event under events/ parses as what its function receives.

use aws_lambda_events::event::sqs::SqsEvent;

#[test]
fn api_gateway_envelopes_parse() {
    for file in [
        "ingest-call-analyzed",
        "ingest-call-inbound",
        "ingest-finalize-ticket",
        "ingest-recording-link",
    ] {
        let text = std::fs::read_to_string(format!("../../events/apigw/{file}.json")).unwrap();
        let req = lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(req.uri().path().starts_with('/'), "{file}");
    }
}

#[test]
fn sqs_events_parse_into_requests() {
    for file in ["enrich", "deliver", "alert"] {
        let text = std::fs::read_to_string(format!("../../events/sqs/{file}.json")).unwrap();
        let event: SqsEvent = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let body = event.records[0].body.as_deref().unwrap();
        let request: gateway_domain::delivery::DeliverRequest = serde_json::from_str(body).unwrap();
        assert_eq!(request.company_id, "nordit-hannover");
        assert_eq!(event.records[0].attributes["ApproximateReceiveCount"], "1");
    }
}
