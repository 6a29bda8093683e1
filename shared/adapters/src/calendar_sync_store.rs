//! Calendar sync's store on DynamoDB: a receipt per Cal.com webhook delivery (a conditional put
//! that expires after 30 days), and the engine's marks on bookings it is changing (an item per
//! booking uid with a TTL; reads ignore a mark past its `until` even before DynamoDB removes it).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gateway_domain::StoreError;
use gateway_domain::appointments::calendar_sync::ports::{ChangeMarks, PendingChange, PendingKind, WebhookReceipts};
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};

use crate::aws::unavailable;
use crate::dynamo::{DynamoStore, Item, n, s};
use crate::keys;

/// DynamoDB removes a mark this long after it ran out (it is ignored from `until` on).
const MARK_KEPT_SECONDS: i64 = 86_400;

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn millis(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .and_then(DateTime::from_timestamp_millis)
}

fn mark_from(item: &Item) -> Result<PendingChange, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("change mark without {what}"));
    let kind = match text(item, "kind").as_deref() {
        Some("cancel") => PendingKind::Cancel,
        Some("reschedule") => PendingKind::Reschedule,
        _ => return Err(corrupt("a known kind")),
    };
    Ok(PendingChange {
        backend_uid: text(item, "uid").ok_or_else(|| corrupt("uid"))?,
        kind,
        appointment_id: AppointmentId::new(text(item, "appointment_id").ok_or_else(|| corrupt("appointment_id"))?),
        call_id: CallId::new(text(item, "call_id").ok_or_else(|| corrupt("call_id"))?),
        to: millis(item, "to"),
        until: millis(item, "until").ok_or_else(|| corrupt("until"))?,
    })
}

#[async_trait]
impl WebhookReceipts for DynamoStore {
    async fn first_receipt(
        &self,
        company: &CompanyId,
        key: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut item = Self::key(keys::webhook_receipts(company), keys::calcom_receipt_sk(key));
        item.insert(keys::EXPIRES_AT.into(), n(expires_at.timestamp()));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable("record webhook receipt", e)),
        }
    }

    async fn forget_receipt(&self, company: &CompanyId, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::webhook_receipts(company),
                keys::calcom_receipt_sk(key),
            )))
            .send()
            .await
            .map_err(|e| unavailable("forget webhook receipt", e))?;
        Ok(())
    }
}

#[async_trait]
impl ChangeMarks for DynamoStore {
    async fn mark_change(&self, company: &CompanyId, change: &PendingChange) -> Result<(), StoreError> {
        let kind = match change.kind {
            PendingKind::Cancel => "cancel",
            PendingKind::Reschedule => "reschedule",
        };
        let mut item = Self::key(keys::change_marks(company), keys::change_mark_sk(&change.backend_uid));
        item.extend([
            ("uid".to_string(), s(&change.backend_uid)),
            ("kind".to_string(), s(kind)),
            ("appointment_id".to_string(), s(change.appointment_id.as_str())),
            ("call_id".to_string(), s(change.call_id.as_str())),
            ("until".to_string(), n(change.until.timestamp_millis())),
            (
                keys::EXPIRES_AT.to_string(),
                n(change.until.timestamp() + MARK_KEPT_SECONDS),
            ),
        ]);
        if let Some(to) = change.to {
            item.insert("to".into(), n(to.timestamp_millis()));
        }
        self.put(item).await
    }

    async fn pending_change(
        &self,
        company: &CompanyId,
        backend_uid: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingChange>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::change_marks(company),
                keys::change_mark_sk(backend_uid),
            )))
            // The engine wrote it a moment ago, in another process: read it for sure.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("read change mark", e))?;
        match out.item {
            Some(item) => mark_from(&item).map(|m| Some(m).filter(|m| m.until > now)),
            None => Ok(None),
        }
    }

    async fn clear_change(&self, company: &CompanyId, backend_uid: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::change_marks(company),
                keys::change_mark_sk(backend_uid),
            )))
            .send()
            .await
            .map_err(|e| unavailable("clear change mark", e))?;
        Ok(())
    }
}
