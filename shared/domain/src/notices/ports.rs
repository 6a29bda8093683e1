//! What notices need from storage and the delivery queue. The notice items themselves are
//! written by the appointment store, in the same transaction as the change they announce.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::alerting::AlertChannel;
use crate::case::ChannelState;
use crate::error::StoreError;
use crate::notices::notice::{NoticeChannel, NoticeRef, StoredNotice};

/// What a delivery attempt found when it claimed a notice.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryClaim {
    /// This attempt delivers it; the claim is its own until it finishes or `lease_until` passes.
    Claimed(Box<StoredNotice>),
    /// Every channel was delivered already.
    Sent,
    /// Another attempt is delivering it right now (a second copy of its message).
    Busy,
    Missing,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// Every channel is delivered.
    Sent { at: DateTime<Utc> },
    /// Something is left; `error` says what failed (the notice stays `pending`).
    Failed { error: String },
}

#[async_trait]
pub trait NoticeStore: Send + Sync {
    async fn notice(&self, notice: &NoticeRef) -> Result<Option<StoredNotice>, StoreError>;

    /// Notes that the notice's message is on the delivery queue, which takes it off the sweep's
    /// list; `false` when there is no such notice.
    async fn mark_handed_off(&self, notice: &NoticeRef, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Notices not handed off yet whose change happened before `changed_before`, oldest first.
    async fn pending_handoffs(&self, changed_before: DateTime<Utc>, limit: usize)
    -> Result<Vec<NoticeRef>, StoreError>;

    /// Claims the notice for one delivery attempt, unless it was sent or another attempt holds
    /// an unexpired claim.
    async fn claim_delivery(
        &self,
        notice: &NoticeRef,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<DeliveryClaim, StoreError>;

    /// Stores a channel's state (delivered, or an e-mail's progress so far) unless the channel
    /// was delivered already: `false` if it was.
    async fn save_channel(
        &self,
        notice: &NoticeRef,
        channel: &NoticeChannel,
        state: &ChannelState,
    ) -> Result<bool, StoreError>;

    /// Ends the attempt: the result is kept and the claim given back.
    async fn finish_delivery(&self, notice: &NoticeRef, result: &AttemptResult) -> Result<(), StoreError>;

    /// The final state after the last attempt: `failed` with the error, never over `sent`;
    /// `false` when it was sent after all.
    async fn mark_failed(&self, notice: &NoticeRef, error: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    /// Records that the admins were alerted on `channel`, once: `false` if they had been.
    async fn mark_alerted(
        &self,
        notice: &NoticeRef,
        channel: AlertChannel,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// The delivery queue, for notices.
#[async_trait]
pub trait NoticeQueue: Send + Sync {
    async fn enqueue_notice(&self, notice: &NoticeRef) -> Result<(), StoreError>;
}
