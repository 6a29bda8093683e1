//! template.yaml and the local provisioning must not drift: the table and queues the local stack
//! creates in the emulator are compared with the resources the SAM template declares.

use std::collections::BTreeSet;

use aws_sdk_sqs::types::QueueAttributeName as A;
use gateway_e2e::*;
use serde_norway::Value;

/// (attribute, key type) pairs of a key schema.
type Keys = Vec<(String, String)>;
/// (index name, key schema, projection type, projected non-key attributes) of a GSI.
type Index = (String, Keys, String, Vec<String>);

fn template() -> Value {
    let text = std::fs::read_to_string("../template.yaml").expect("template.yaml");
    serde_norway::from_str(&text).expect("template.yaml parses")
}

fn props<'a>(t: &'a Value, logical_id: &str) -> &'a Value {
    &t["Resources"][logical_id]["Properties"]
}

fn num(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not a number: {other:?}"),
    }
}

/// `!GetAtt X.Arn` → `X`.
fn get_att_target(v: &Value) -> String {
    match v {
        Value::Tagged(t) => t.value.as_str().unwrap().trim_end_matches(".Arn").to_string(),
        other => panic!("expected !GetAtt: {other:?}"),
    }
}

#[tokio::test]
async fn the_local_table_matches_the_template() {
    let s = stack_with(&[]).await;
    let t = template();
    let table = props(&t, "GatewayTable");
    let described = s
        .ddb
        .describe_table()
        .table_name(&s.resources.table)
        .send()
        .await
        .unwrap();
    let local = described.table().unwrap();

    let declared_attrs: BTreeSet<(String, String)> = table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["AttributeName"].as_str().unwrap().to_string(),
                a["AttributeType"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let local_attrs: BTreeSet<(String, String)> = local
        .attribute_definitions()
        .iter()
        .map(|a| (a.attribute_name().to_string(), a.attribute_type().as_str().to_string()))
        .collect();
    assert_eq!(local_attrs, declared_attrs);

    let keys = |v: &Value| -> Keys {
        v.as_sequence()
            .unwrap()
            .iter()
            .map(|k| {
                (
                    k["AttributeName"].as_str().unwrap().to_string(),
                    k["KeyType"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let local_keys = |ks: &[aws_sdk_dynamodb::types::KeySchemaElement]| -> Keys {
        ks.iter()
            .map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string()))
            .collect()
    };
    assert_eq!(local_keys(local.key_schema()), keys(&table["KeySchema"]));
    let declared_gsis: BTreeSet<Index> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["IndexName"].as_str().unwrap().to_string(),
                keys(&g["KeySchema"]),
                g["Projection"]["ProjectionType"].as_str().unwrap().to_string(),
                g["Projection"]["NonKeyAttributes"]
                    .as_sequence()
                    .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    let local_gsis: BTreeSet<Index> = local
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            (
                g.index_name().unwrap().to_string(),
                local_keys(g.key_schema()),
                g.projection()
                    .and_then(|p| p.projection_type())
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
                g.projection()
                    .map(|p| p.non_key_attributes().to_vec())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(local_gsis, declared_gsis);
    assert_eq!(
        local
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        table["BillingMode"].as_str()
    );

    let ttl = s
        .ddb
        .describe_time_to_live()
        .table_name(&s.resources.table)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(
        ttl.attribute_name(),
        table["TimeToLiveSpecification"]["AttributeName"].as_str()
    );
}

#[tokio::test]
async fn the_local_queues_match_the_template() {
    let s = stack_with(&[]).await;
    let t = template();
    let r = &s.resources;
    let queues = [
        ("EnrichQueue", &r.enrich_queue_url),
        ("EnrichDeadLetterQueue", &r.enrich_dlq_url),
        ("DeliveryQueue", &r.delivery_queue_url),
        ("DeliveryDeadLetterQueue", &r.delivery_dlq_url),
        ("AlertDeadLetterQueue", &r.alert_dlq_url),
    ];
    let declared: BTreeSet<&str> = t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["Type"].as_str() == Some("AWS::SQS::Queue"))
        .map(|(k, _)| k.as_str().unwrap())
        .collect();
    assert_eq!(
        declared,
        queues.iter().map(|(id, _)| *id).collect(),
        "every template queue exists locally"
    );
    for (id, url) in queues {
        let p = props(&t, id);
        let attrs = s
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(A::All)
            .send()
            .await
            .unwrap();
        let attrs = attrs.attributes().unwrap();
        let local = |k: A| attrs.get(&k).cloned();
        let visibility = p.get("VisibilityTimeout").map(num).unwrap_or(30);
        assert_eq!(
            local(A::VisibilityTimeout).unwrap().parse::<i64>().unwrap(),
            visibility,
            "{id} visibility"
        );
        if let Some(retention) = p.get("MessageRetentionPeriod") {
            assert_eq!(
                local(A::MessageRetentionPeriod).unwrap().parse::<i64>().unwrap(),
                num(retention),
                "{id} retention"
            );
        }
        match (p.get("RedrivePolicy"), local(A::RedrivePolicy)) {
            (None, None) => {}
            (Some(declared), Some(actual)) => {
                let actual: serde_json::Value = serde_json::from_str(&actual).unwrap();
                assert_eq!(
                    actual["maxReceiveCount"].to_string().trim_matches('"'),
                    num(&declared["maxReceiveCount"]).to_string(),
                    "{id}"
                );
                let target = get_att_target(&declared["deadLetterTargetArn"]);
                let target_url = queues.iter().find(|(qid, _)| *qid == target).unwrap().1;
                let target_name = target_url.rsplit('/').next().unwrap();
                assert!(
                    actual["deadLetterTargetArn"].as_str().unwrap().ends_with(target_name),
                    "{id} → {target}"
                );
            }
            (d, a) => panic!("{id}: redrive declared {d:?}, local {a:?}"),
        }
    }
}

/// Each function's timeout in the template is the one its code budgets for (and the local stack
/// applies), its longest outbound call plus the margin fits inside it, and its queue's visibility
/// is at least six times the timeout, as AWS advises for SQS event sources.
#[test]
fn function_timeouts_hold_their_clients_budgets() {
    let t = template();
    let functions = [
        ("IngestFunction", ingest::TIME_BUDGET, None),
        ("EnrichFunction", enrich::TIME_BUDGET, Some("EnrichQueue")),
        ("DeliverFunction", deliver::TIME_BUDGET, Some("DeliveryQueue")),
        ("AlertFunction", alert::TIME_BUDGET, Some("DeliveryDeadLetterQueue")),
        ("SweepFunction", sweep::TIME_BUDGET, None),
        ("ConsoleFunction", console::TIME_BUDGET, None),
    ];
    for (id, budget, queue) in functions {
        let timeout = num(&props(&t, id)["Timeout"]);
        assert_eq!(
            timeout as u64,
            budget.function_timeout.as_secs(),
            "{id}: template Timeout vs the code's TIME_BUDGET"
        );
        assert!(
            budget.fits(),
            "{id}: longest outbound call {:?} + margin {:?} exceeds the timeout {:?}",
            budget.longest_call(),
            budget.margin,
            budget.function_timeout
        );
        if let Some(queue) = queue {
            let visibility = num(&props(&t, queue)["VisibilityTimeout"]);
            assert!(
                visibility >= 6 * timeout,
                "{queue}: visibility {visibility} < 6 × {timeout}"
            );
        }
    }
    assert!(
        ingest::TIME_BUDGET.function_timeout < std::time::Duration::from_secs(10),
        "Retell gives up after 10 s: ingest must answer before"
    );
}

/// Every key reaches the functions as a Secrets Manager secret (a key ring read at cold start),
/// never as a plain environment value, and each function may read exactly the secrets it names.
#[test]
fn keys_reach_the_functions_from_secrets_they_may_read() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    let mut from_secrets = Vec::new();
    for (id, resource) in resources {
        if resource["Type"] != Value::String("AWS::Serverless::Function".into()) {
            continue;
        }
        let id = id.as_str().unwrap();
        let env = &resource["Properties"]["Environment"]["Variables"];
        let policies = resource["Properties"]["Policies"]
            .as_sequence()
            .cloned()
            .unwrap_or_default();
        let may_read = |secret: &str| {
            policies
                .iter()
                .any(|p| match &p["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"] {
                    Value::Tagged(tag) => tag.tag == "Ref" && tag.value.as_str() == Some(secret),
                    _ => false,
                })
        };
        for key in ["RETELL_API_KEY", "LINK_SIGNING_KEY", "CONSOLE_SESSION_KEY"] {
            assert!(
                env[key].is_null(),
                "{id}: {key} must come from its secret, not the environment"
            );
            assert!(
                env[format!("{key}_PREVIOUS").as_str()].is_null(),
                "{id}: {key}_PREVIOUS"
            );
            let var = format!("{key}{}", gateway_adapters::secrets::SECRET_ARN_SUFFIX);
            let secret = match &env[var.as_str()] {
                Value::Null => continue,
                Value::Tagged(tag) if tag.tag == "Ref" => tag.value.as_str().unwrap().to_string(),
                other => panic!("{id} {var}: expected !Ref to a secret, got {other:?}"),
            };
            assert_eq!(
                t["Resources"][secret.as_str()]["Type"],
                Value::String("AWS::SecretsManager::Secret".into()),
                "{id} {var}: {secret} is not a secret"
            );
            assert!(may_read(&secret), "{id} may not read {secret}");
            from_secrets.push((id.to_string(), key));
        }
    }
    let needed = ingest::ROTATED_KEYS.iter().map(|k| ("IngestFunction", *k)).chain([
        ("DeliverFunction", "LINK_SIGNING_KEY"),
        ("AlertFunction", "LINK_SIGNING_KEY"),
        ("ConsoleFunction", "LINK_SIGNING_KEY"),
        ("ConsoleFunction", "CONSOLE_SESSION_KEY"),
    ]);
    for (function, key) in needed {
        assert!(
            from_secrets.iter().any(|(f, k)| f == function && *k == key),
            "{function} does not get {key} from a secret"
        );
    }
}
