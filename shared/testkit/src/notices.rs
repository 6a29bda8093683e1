//! The in-memory twin of the notice outbox: the appointment store writes a change's notice with
//! the change (unless it is there: a rewrite keeps its delivery state), as DynamoDB does in the
//! change's transaction; and a delivery queue that records the notices put on it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gateway_domain::alerting::AlertChannel;
use gateway_domain::appointments::record::Appointment;
use gateway_domain::case::ChannelState;
use gateway_domain::error::StoreError;
use gateway_domain::notices::{
    AppointmentNotice, AttemptResult, DeliveryClaim, NoticeChannel, NoticeQueue, NoticeRef, NoticeState, NoticeStatus,
    NoticeStore, StoredNotice,
};

use crate::appointments::MemoryAppointmentStore;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A stored notice and the claim of the attempt delivering it.
#[derive(Debug, Clone)]
pub struct MemoryNotice {
    stored: StoredNotice,
    lease_until: Option<DateTime<Utc>>,
}

impl MemoryAppointmentStore {
    /// Writes the notice of the appointment's latest change unless it exists.
    pub(crate) fn write_notice(&self, appointment: &Appointment) {
        let Some(notice) = AppointmentNotice::for_change(appointment) else {
            return;
        };
        lock(&self.notices).entry(notice.reference()).or_insert(MemoryNotice {
            stored: StoredNotice {
                notice,
                state: NoticeState::default(),
            },
            lease_until: None,
        });
    }

    /// Every notice of a company, by appointment and change (tests read what was stored).
    pub fn notices_of(&self, company: &gateway_domain::ids::CompanyId) -> Vec<StoredNotice> {
        lock(&self.notices)
            .iter()
            .filter(|(r, _)| &r.company_id == company)
            .map(|(_, n)| n.stored.clone())
            .collect()
    }

    fn with_notice<T>(&self, notice: &NoticeRef, f: impl FnOnce(&mut MemoryNotice) -> T) -> Option<T> {
        lock(&self.notices).get_mut(notice).map(f)
    }
}

#[async_trait]
impl NoticeStore for MemoryAppointmentStore {
    async fn notice(&self, notice: &NoticeRef) -> Result<Option<StoredNotice>, StoreError> {
        Ok(lock(&self.notices).get(notice).map(|n| n.stored.clone()))
    }

    async fn mark_handed_off(&self, notice: &NoticeRef, at: DateTime<Utc>) -> Result<bool, StoreError> {
        Ok(self
            .with_notice(notice, |n| n.stored.state.handed_off_at = Some(at))
            .is_some())
    }

    async fn pending_handoffs(
        &self,
        changed_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<NoticeRef>, StoreError> {
        let mut pending: Vec<(DateTime<Utc>, NoticeRef)> = lock(&self.notices)
            .iter()
            .filter(|(_, n)| n.stored.state.handed_off_at.is_none() && n.stored.notice.occurred_at < changed_before)
            .map(|(r, n)| (n.stored.notice.occurred_at, r.clone()))
            .collect();
        pending.sort();
        Ok(pending.into_iter().take(limit).map(|(_, r)| r).collect())
    }

    async fn claim_delivery(
        &self,
        notice: &NoticeRef,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<DeliveryClaim, StoreError> {
        let claim = self.with_notice(notice, |n| {
            if n.stored.state.status == NoticeStatus::Sent {
                DeliveryClaim::Sent
            } else if n.lease_until.is_some_and(|until| until > now) {
                DeliveryClaim::Busy
            } else {
                n.lease_until = Some(lease_until);
                DeliveryClaim::Claimed(Box::new(n.stored.clone()))
            }
        });
        Ok(claim.unwrap_or(DeliveryClaim::Missing))
    }

    async fn save_channel(
        &self,
        notice: &NoticeRef,
        channel: &NoticeChannel,
        state: &ChannelState,
    ) -> Result<bool, StoreError> {
        let saved = self.with_notice(notice, |n| {
            if n.stored.state.sent(channel) {
                return false;
            }
            n.stored.state.channels.insert(channel.key(), state.clone());
            true
        });
        Ok(saved.unwrap_or(false))
    }

    async fn finish_delivery(&self, notice: &NoticeRef, result: &AttemptResult) -> Result<(), StoreError> {
        self.with_notice(notice, |n| {
            n.lease_until = None;
            match result {
                AttemptResult::Sent { at } => {
                    n.stored.state.status = NoticeStatus::Sent;
                    n.stored.state.sent_at = Some(*at);
                    n.stored.state.last_error = None;
                }
                AttemptResult::Failed { error } => n.stored.state.last_error = Some(error.clone()),
            }
        });
        Ok(())
    }

    async fn mark_failed(&self, notice: &NoticeRef, error: &str, _at: DateTime<Utc>) -> Result<bool, StoreError> {
        let marked = self.with_notice(notice, |n| {
            if n.stored.state.status == NoticeStatus::Sent {
                return false;
            }
            n.stored.state.status = NoticeStatus::Failed;
            n.stored.state.last_error = Some(error.to_string());
            true
        });
        Ok(marked.unwrap_or(false))
    }

    async fn mark_alerted(
        &self,
        notice: &NoticeRef,
        channel: AlertChannel,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let marked = self.with_notice(notice, |n| {
            let slot = match channel {
                AlertChannel::Email => &mut n.stored.state.alerts.email_at,
                AlertChannel::Slack => &mut n.stored.state.alerts.slack_at,
            };
            if slot.is_some() {
                return false;
            }
            *slot = Some(at);
            true
        });
        Ok(marked.unwrap_or(false))
    }
}

/// A delivery queue for notices that records what was put on it; `fail_next(n)` makes the next n
/// sends fail.
#[derive(Default)]
pub struct MemoryNoticeQueue {
    sent: Mutex<Vec<NoticeRef>>,
    failures: AtomicUsize,
}

impl MemoryNoticeQueue {
    pub fn fail_next(&self, n: usize) {
        self.failures.store(n, Ordering::SeqCst);
    }

    pub fn sent(&self) -> Vec<NoticeRef> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl NoticeQueue for MemoryNoticeQueue {
    async fn enqueue_notice(&self, notice: &NoticeRef) -> Result<(), StoreError> {
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(StoreError::unavailable("send message", "injected queue failure"));
        }
        lock(&self.sent).push(notice.clone());
        Ok(())
    }
}
