//! The webhook hot path's AWS request budget, counted on the wire (an SDK interceptor sees
//! every request the ingest handler sends to the emulator).

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use gateway_e2e::*;
use lambda_http::http::StatusCode;

#[derive(Debug, Default, Clone)]
struct Counter(Arc<Mutex<Vec<String>>>);

impl Counter {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "request-counter"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = ctx.request().headers().get("x-amz-target").unwrap_or("?");
        let op = target.rsplit('.').next().unwrap_or(target).to_string();
        self.0.lock().unwrap().push(op);
        Ok(())
    }
}

#[tokio::test]
async fn a_new_case_costs_four_requests_and_a_duplicate_one_request() {
    let s = stack().await;
    let counter = Counter::default();
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&s.sdk)
            .interceptor(counter.clone())
            .build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&s.sdk)
            .interceptor(counter.clone())
            .build(),
    );
    let router = ingest::App::from_clients(
        &gateway_local::ingest_config(&s.resources, API_KEY, gateway_domain::ssrf::UrlPolicy::local(vec![])),
        ddb,
        sqs,
    )
    .into_router();
    let post = |body: String| {
        let router = router.clone();
        async move {
            tower::ServiceExt::oneshot(router, request("/webhooks/retell", &body, Some(sign(&body))))
                .await
                .unwrap()
                .status()
        }
    };

    // Cold container: the route and the tenant are read once, then cached.
    assert_eq!(post(ANALYZED.to_string()).await, StatusCode::OK);
    let cold = counter.take();
    assert_eq!(
        cold,
        [
            "GetItem",
            "Query",
            "TransactWriteItems",
            "UpdateItem",
            "SendMessage",
            "UpdateItem"
        ],
        "{cold:?}"
    );

    // Warm: a new case is the guarded transaction, the counter, the message and the hand-off mark.
    let second = edited(ANALYZED, |v| v["call"]["call_id"] = serde_json::json!("call_budget_2"));
    assert_eq!(post(second).await, StatusCode::OK);
    let warm = counter.take();
    assert_eq!(
        warm,
        ["TransactWriteItems", "UpdateItem", "SendMessage", "UpdateItem"],
        "{warm:?}"
    );

    // A duplicate: the failed guard returns the stored case, nothing else is sent.
    assert_eq!(post(ANALYZED.to_string()).await, StatusCode::OK);
    assert_eq!(counter.take(), ["TransactWriteItems"]);

    // A lifecycle event is a single write.
    assert_eq!(
        post(include_str!("../../../events/retell/call_ended.json").to_string()).await,
        StatusCode::OK
    );
    assert_eq!(counter.take(), ["PutItem"]);
}
