//! Creates the gateway's table and queues in the local emulator (the deployed stack gets them
//! from template.yaml). Idempotent: existing resources are reused.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use gateway_domain::StoreError;

use crate::keys;

/// Names of the local resources; `prefix` lets tests run side by side in one emulator.
#[derive(Debug, Clone)]
pub struct ResourceNames {
    pub table: String,
    pub enrich_queue: String,
    pub enrich_dlq: String,
    pub delivery_queue: String,
    pub delivery_dlq: String,
    pub alert_dlq: String,
    pub bucket: String,
}

impl ResourceNames {
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            table: format!("{prefix}-table"),
            enrich_queue: format!("{prefix}-enrich"),
            enrich_dlq: format!("{prefix}-enrich-dlq"),
            delivery_queue: format!("{prefix}-delivery"),
            delivery_dlq: format!("{prefix}-delivery-dlq"),
            alert_dlq: format!("{prefix}-alert-dlq"),
            bucket: format!("{prefix}-recordings"),
        }
    }
}

/// What provisioning created: the table name and the queue URLs.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub table: String,
    pub enrich_queue_url: String,
    pub enrich_dlq_url: String,
    pub delivery_queue_url: String,
    pub delivery_dlq_url: String,
    /// Where dead letters go whose alert kept failing.
    pub alert_dlq_url: String,
    pub bucket: String,
}

/// Receives before a message moves to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 3;
/// Enrich queue visibility: six times the 300 s function timeout, as AWS advises for event sources.
pub const ENRICH_VISIBILITY_SECONDS: u32 = 1800;
/// Dead letters are kept for the SQS maximum of 14 days.
pub const DLQ_RETENTION_SECONDS: u32 = 1_209_600;

fn err(context: &str, e: impl Into<gateway_domain::error::BoxError>) -> StoreError {
    StoreError::unavailable(context, e)
}

/// Delivery DLQ visibility (the alert function's source): six times its 60 s timeout.
pub const ALERT_VISIBILITY_SECONDS: u32 = 360;
/// Alert attempts before a dead letter moves on to the alert DLQ.
pub const ALERT_MAX_RECEIVE_COUNT: u32 = 5;

/// Delivery queue visibility: six times the 60 s function timeout.
pub const DELIVERY_VISIBILITY_SECONDS: u32 = 360;

pub async fn provision(
    ddb: &aws_sdk_dynamodb::Client,
    sqs: &aws_sdk_sqs::Client,
    s3: &aws_sdk_s3::Client,
    names: &ResourceNames,
) -> Result<Provisioned, StoreError> {
    create_table(ddb, &names.table).await?;
    let (enrich_queue_url, enrich_dlq_url) =
        create_queue_with_dlq(sqs, &names.enrich_queue, &names.enrich_dlq, ENRICH_VISIBILITY_SECONDS).await?;
    let (delivery_queue_url, delivery_dlq_url) = create_queue_with_dlq(
        sqs,
        &names.delivery_queue,
        &names.delivery_dlq,
        DELIVERY_VISIBILITY_SECONDS,
    )
    .await?;
    // The delivery DLQ is the alert function's source: failing alerts end in their own DLQ.
    let alert_dlq_url = create_queue(
        sqs,
        &names.alert_dlq,
        &[(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS.to_string(),
        )],
    )
    .await?;
    let alert_dlq_arn = queue_arn(sqs, &alert_dlq_url).await?;
    sqs.set_queue_attributes()
        .queue_url(&delivery_dlq_url)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            ALERT_VISIBILITY_SECONDS.to_string(),
        )
        .attributes(
            QueueAttributeName::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{alert_dlq_arn}","maxReceiveCount":"{ALERT_MAX_RECEIVE_COUNT}"}}"#),
        )
        .send()
        .await
        .map_err(|e| err("delivery DLQ redrive", e))?;
    create_bucket(s3, &names.bucket).await?;
    Ok(Provisioned {
        table: names.table.clone(),
        enrich_queue_url,
        enrich_dlq_url,
        delivery_queue_url,
        delivery_dlq_url,
        alert_dlq_url,
        bucket: names.bucket.clone(),
    })
}

/// A queue whose messages move to `dlq` after `MAX_RECEIVE_COUNT` receives; returns both URLs.
async fn create_queue_with_dlq(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    dlq: &str,
    visibility: u32,
) -> Result<(String, String), StoreError> {
    let dlq_url = create_queue(
        sqs,
        dlq,
        &[(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS.to_string(),
        )],
    )
    .await?;
    let dlq_arn = queue_arn(sqs, &dlq_url).await?;
    let redrive = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{MAX_RECEIVE_COUNT}"}}"#);
    let url = create_queue(
        sqs,
        name,
        &[
            (QueueAttributeName::VisibilityTimeout, visibility.to_string()),
            (QueueAttributeName::RedrivePolicy, redrive),
        ],
    )
    .await?;
    Ok((url, dlq_url))
}

/// Lets the local SES send as `from` (an address or a whole domain).
pub async fn create_email_identity(ses: &aws_sdk_sesv2::Client, identity: &str) -> Result<(), StoreError> {
    match ses.create_email_identity().email_identity(identity).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_already_exists_exception()) => Ok(()),
        Err(e) => Err(err("create e-mail identity", e)),
    }
}

/// The recordings bucket: private (no public ACLs), encrypted by default.
pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<(), StoreError> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let region = s3
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| "us-east-1".into());
    let mut req = s3.create_bucket().bucket(bucket);
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match req.send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_bucket_already_owned_by_you()) => Ok(()),
        Err(e) => Err(err("create bucket", e)),
    }
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(|e| err("key schema", e))
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(|e| err("attribute definition", e))
}

fn index(name: &str, pk: &str, sk: &str) -> Result<GlobalSecondaryIndex, StoreError> {
    index_projecting(
        name,
        pk,
        sk,
        Projection::builder().projection_type(ProjectionType::All).build(),
    )
}

fn index_projecting(
    name: &str,
    pk: &str,
    sk: &str,
    projection: Projection,
) -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key_element(pk, KeyType::Hash)?)
        .key_schema(key_element(sk, KeyType::Range)?)
        .projection(projection)
        .build()
        .map_err(|e| err("index", e))
}

/// GSI1's keys with the case-list row attributes only (the console's list and dashboard).
fn rows_index() -> Result<GlobalSecondaryIndex, StoreError> {
    let mut projection = Projection::builder().projection_type(ProjectionType::Include);
    for name in keys::CASE_ROW_ATTRIBUTES {
        projection = projection.non_key_attributes(*name);
    }
    index_projecting(keys::GSI1_ROWS, keys::GSI1PK, keys::GSI1SK, projection.build())
}

pub async fn create_table(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<(), StoreError> {
    let mut req = ddb
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element(keys::PK, KeyType::Hash)?)
        .key_schema(key_element(keys::SK, KeyType::Range)?)
        .global_secondary_indexes(index(keys::GSI1, keys::GSI1PK, keys::GSI1SK)?)
        .global_secondary_indexes(index(keys::GSI2, keys::GSI2PK, keys::GSI2SK)?)
        .global_secondary_indexes(rows_index()?);
    for name in [
        keys::PK,
        keys::SK,
        keys::GSI1PK,
        keys::GSI1SK,
        keys::GSI2PK,
        keys::GSI2SK,
    ] {
        req = req.attribute_definitions(string_attribute(name)?);
    }
    match req.send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => {
            return Ok(());
        }
        Err(e) => return Err(crate::aws::unavailable("create table", e)),
    }
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(keys::EXPIRES_AT)
        .enabled(true)
        .build()
        .map_err(|e| err("ttl", e))?;
    ddb.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| crate::aws::unavailable("enable ttl", e))?;
    Ok(())
}

pub async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    attributes: &[(QueueAttributeName, String)],
) -> Result<String, StoreError> {
    let mut req = sqs.create_queue().queue_name(name);
    for (k, v) in attributes {
        req = req.attributes(k.clone(), v);
    }
    let out = req.send().await.map_err(|e| err("create queue", e))?;
    out.queue_url
        .ok_or_else(|| err("create queue", "no queue URL returned"))
}

pub async fn queue_arn(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<String, StoreError> {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| err("queue attributes", e))?;
    out.attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| err("queue attributes", "no ARN returned"))
}
