//! What final-failure alerting needs from storage: the failed mark and one mark per alert channel.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::case::CaseReader;
use crate::error::StoreError;
use crate::ids::{CallId, CompanyId};

/// A channel admins are alerted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertChannel {
    Email,
    Slack,
}

impl AlertChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertChannel::Email => "email",
            AlertChannel::Slack => "slack",
        }
    }
}

#[async_trait]
pub trait AlertStore: CaseReader {
    /// The final state after the last delivery attempt: `output_status = failed` with the error
    /// (never over `sent`). `false` when the case was sent after all.
    async fn mark_output_failed(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Records that the alert on `channel` went out, once: `false` if it already had.
    async fn mark_alerted(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        channel: AlertChannel,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}
