//! Adapters: the domain's ports implemented with the AWS SDK (DynamoDB, SQS), plus the
//! resource definitions the local stack provisions.

pub mod admin_store;
pub mod appointment_store;
pub mod aws;
pub mod calcom;
pub mod caldav;
pub mod calendar_sync_store;
pub mod calendars;
pub mod case_store;
pub mod cognito;
pub mod console_store;
pub mod cost_store;
pub mod dynamo;
pub mod http;
pub mod keys;
pub mod notice_store;
pub mod outbound;
pub mod provision;
pub mod recordings;
pub mod secrets;
pub mod sqs;
pub mod tenant_store;

pub use dynamo::DynamoStore;
pub use outbound::{HttpWebhooks, SesMailer};
pub use recordings::S3Recordings;
pub use sqs::SqsQueue;
