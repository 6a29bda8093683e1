//! The hand-off of a notice to the delivery queue: right after the change, by the request that
//! made it ([`NoticeHandoff::after_change`]), and by the sweep for every notice a request left
//! behind (it died, timed out, or the queue was down).
//!
//! The hand-off never fails the caller's tool call: the change is written and its notice with it
//! (the outbox), so a failed enqueue only delays the notice until the next sweep. A message that
//! goes out twice (the request enqueued but could not mark it; the sweep found it meanwhile) is
//! harmless: delivery claims the notice and sends each channel once.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;

use crate::appointments::desk::ChangeListener;
use crate::appointments::record::Appointment;
use crate::clock::Clock;
use crate::error::{StoreError, chain};
use crate::notices::notice::{AppointmentNotice, NoticeRef};
use crate::notices::ports::{NoticeQueue, NoticeStore};

/// A notice not handed off this long after its change is the sweep's: far longer than a request
/// of the ingest function may run (8 s), so the sweep never races a live request.
pub const SWEEP_AFTER: Duration = Duration::seconds(60);

#[derive(Clone)]
pub struct NoticeHandoff {
    pub notices: Arc<dyn NoticeStore>,
    pub queue: Arc<dyn NoticeQueue>,
    pub clock: Arc<dyn Clock>,
}

/// What [`NoticeHandoff::after_change`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandoffOutcome {
    /// The change is not announced (a staff change; nothing changed).
    NoNotice,
    HandedOff(NoticeRef),
    /// Enqueueing or marking failed (logged): the sweep hands it off.
    LeftForSweep(NoticeRef),
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeSweepReport {
    pub pending: usize,
    pub handed_off: usize,
    pub failed: usize,
}

impl NoticeHandoff {
    /// Call after an appointment change was written (booked, moved, cancelled: the engine's
    /// outcome's appointment): puts its notice on the delivery queue and marks it handed off.
    /// Never fails; a failure is logged and the sweep picks the notice up within minutes.
    pub async fn after_change(&self, appointment: &Appointment) -> HandoffOutcome {
        let Some(notice) = AppointmentNotice::for_change(appointment) else {
            return HandoffOutcome::NoNotice;
        };
        let reference = notice.reference();
        match self.hand_off(&reference).await {
            Ok(()) => HandoffOutcome::HandedOff(reference),
            Err(err) => {
                tracing::warn!(
                    notice = %reference.label(),
                    company_id = %reference.company_id,
                    error = %chain(&err),
                    "notice not handed off; the sweep will"
                );
                HandoffOutcome::LeftForSweep(reference)
            }
        }
    }

    async fn hand_off(&self, notice: &NoticeRef) -> Result<(), StoreError> {
        self.queue.enqueue_notice(notice).await?;
        if !self.notices.mark_handed_off(notice, self.clock.now()).await? {
            // Written in the change's transaction: missing means the change was not written.
            tracing::warn!(notice = %notice.label(), "handed off a notice that is not stored");
        }
        Ok(())
    }

    /// Hands off every notice whose change is older than [`SWEEP_AFTER`] and that is still
    /// not handed off, up to `limit` per run.
    pub async fn sweep(&self, limit: usize) -> Result<NoticeSweepReport, StoreError> {
        let before = self.clock.now() - SWEEP_AFTER;
        let pending = self.notices.pending_handoffs(before, limit).await?;
        let mut report = NoticeSweepReport {
            pending: pending.len(),
            ..Default::default()
        };
        for notice in pending {
            match self.hand_off(&notice).await {
                Ok(()) => {
                    tracing::warn!(notice = %notice.label(), company_id = %notice.company_id, "sweep handed off a notice");
                    report.handed_off += 1;
                }
                Err(err) => {
                    tracing::error!(notice = %notice.label(), error = %chain(&err), "sweep could not hand off a notice; next run tries again");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}

/// The booking desk tells the hand-off about every change it made during a call.
#[async_trait]
impl ChangeListener for NoticeHandoff {
    async fn changed(&self, appointment: &Appointment) {
        self.after_change(appointment).await;
    }
}
