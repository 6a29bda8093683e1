//! In-memory twins of calendar sync's ports: webhook receipts and the engine's change marks
//! (the contract suite in `calendar_sync_contract` runs against these and DynamoDB).

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gateway_domain::appointments::calendar_sync::ports::{ChangeMarks, PendingChange, WebhookReceipts};
use gateway_domain::error::StoreError;
use gateway_domain::ids::CompanyId;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
pub struct MemoryCalendarSync {
    receipts: Mutex<HashMap<(CompanyId, String), DateTime<Utc>>>,
    marks: Mutex<HashMap<(CompanyId, String), PendingChange>>,
}

impl MemoryCalendarSync {
    /// Every receipt kept, as `(company, key)`.
    pub fn receipts(&self) -> Vec<(CompanyId, String)> {
        lock(&self.receipts).keys().cloned().collect()
    }

    /// Every mark, expired or not.
    pub fn marks(&self) -> Vec<PendingChange> {
        lock(&self.marks).values().cloned().collect()
    }
}

#[async_trait]
impl WebhookReceipts for MemoryCalendarSync {
    async fn first_receipt(
        &self,
        company: &CompanyId,
        key: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut receipts = lock(&self.receipts);
        let key = (company.clone(), key.to_string());
        if receipts.contains_key(&key) {
            return Ok(false);
        }
        receipts.insert(key, expires_at);
        Ok(true)
    }

    async fn forget_receipt(&self, company: &CompanyId, key: &str) -> Result<(), StoreError> {
        lock(&self.receipts).remove(&(company.clone(), key.to_string()));
        Ok(())
    }
}

#[async_trait]
impl ChangeMarks for MemoryCalendarSync {
    async fn mark_change(&self, company: &CompanyId, change: &PendingChange) -> Result<(), StoreError> {
        lock(&self.marks).insert((company.clone(), change.backend_uid.clone()), change.clone());
        Ok(())
    }

    async fn pending_change(
        &self,
        company: &CompanyId,
        backend_uid: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingChange>, StoreError> {
        Ok(lock(&self.marks)
            .get(&(company.clone(), backend_uid.to_string()))
            .filter(|m| m.until > now)
            .cloned())
    }

    async fn clear_change(&self, company: &CompanyId, backend_uid: &str) -> Result<(), StoreError> {
        lock(&self.marks).remove(&(company.clone(), backend_uid.to_string()));
        Ok(())
    }
}
