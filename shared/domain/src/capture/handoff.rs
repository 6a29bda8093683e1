//! The hand-off of a captured case: its ticket number, the enrich message, then the mark that
//! both happened, under a short lease so concurrent duplicates cannot hand it off twice. A request
//! that dies (or times out) after writing the case leaves it un-handed-off; the sweep finishes such
//! cases once their lease has expired, so no captured case waits on a Retell retry that may never
//! come.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Utc};

use crate::capture::error::IngestError;
use crate::capture::ports::CaptureStore;
use crate::case::ServiceCase;
use crate::clock::Clock;
use crate::enrichment::{EnrichQueue, EnrichRequest};
use crate::error::{StoreError, chain};
use crate::ids::TicketRef;
use crate::tenancy::{ConfigStore, Tenant};

/// SQS's limit for `DelaySeconds`.
const MAX_DELAY_SECONDS: u32 = 900;

#[derive(Clone)]
pub struct Handoff {
    pub cases: Arc<dyn CaptureStore>,
    pub queue: Arc<dyn EnrichQueue>,
    pub clock: Arc<dyn Clock>,
    /// How long one request owns a case's hand-off: longer than the ingest function may run.
    pub lease: Duration,
}

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Cases found waiting for their hand-off.
    pub pending: usize,
    /// Of those, handed off now.
    pub handed_off: usize,
    /// Still leased by a request that may finish them.
    pub leased: usize,
    /// Failed this time (left for the next sweep).
    pub failed: usize,
}

impl Handoff {
    pub fn lease_until(&self, now: DateTime<Utc>) -> i64 {
        (now + self.lease).timestamp_millis()
    }

    /// Ticket number, enrich message, then the mark that both happened. The caller holds the lease.
    pub async fn hand_off(&self, tenant: &Tenant, mut case: ServiceCase) -> Result<ServiceCase, IngestError> {
        let cases = &self.cases;
        let year = case.created_at.with_timezone(&tenant.tz()).year();
        let number = cases.next_ticket_number(&case.company_id, year).await?;
        let ticket_ref = TicketRef::format(year, number);
        let request = EnrichRequest {
            company_id: case.company_id.clone(),
            call_id: case.call_id.clone(),
            case_id: case.case_id.clone(),
        };
        let delay = tenant.config.enrichment_delay_seconds.min(MAX_DELAY_SECONDS);
        if let Err(err) = self.queue.enqueue(&request, delay).await {
            if let Err(release) = cases.release_handoff(&case.company_id, &case.call_id).await {
                tracing::warn!(error = %chain(&release), "could not release the hand-off lease; a retry waits for it to expire");
            }
            tracing::error!(call_id = %case.call_id, error = %chain(&err), "enqueue failed; a retry or the sweep hands it off");
            return Err(IngestError::Enqueue(err));
        }
        let at = self.clock.now();
        cases
            .complete_handoff(&case.company_id, &case.call_id, &ticket_ref, at)
            .await?;
        tracing::info!(company_id = %case.company_id, call_id = %case.call_id, ticket = %ticket_ref, delay, "case handed to enrichment");
        case.ticket_ref = Some(ticket_ref);
        case.enqueued_at = Some(at);
        case.handoff_lease_until = 0;
        Ok(case)
    }

    /// Hands off every case whose hand-off an interrupted request left open (created more than a
    /// lease ago, not handed off, lease expired), up to `limit` per run.
    pub async fn sweep(&self, config: &dyn ConfigStore, limit: usize) -> Result<SweepReport, StoreError> {
        let now = self.clock.now();
        let pending = self.cases.pending_handoffs(now - self.lease, limit).await?;
        let mut report = SweepReport {
            pending: pending.len(),
            ..Default::default()
        };
        for (company, call) in pending {
            let now = self.clock.now();
            if !self
                .cases
                .claim_handoff(&company, &call, now.timestamp_millis(), self.lease_until(now))
                .await?
            {
                // Handed off meanwhile, or a request is still at it.
                report.leased += 1;
                continue;
            }
            let found = (
                self.cases.get_case(&company, &call).await?,
                config.tenant(&company).await?,
            );
            let (Some(case), Some(tenant)) = found else {
                tracing::error!(company_id = %company, call_id = %call, "pending hand-off without case or tenant");
                report.failed += 1;
                continue;
            };
            match self.hand_off(&tenant, case).await {
                Ok(case) => {
                    tracing::warn!(company_id = %company, call_id = %call, ticket = ?case.ticket_ref, "sweep finished an interrupted hand-off");
                    report.handed_off += 1;
                }
                Err(err) => {
                    tracing::error!(company_id = %company, call_id = %call, error = %chain(&err), "sweep could not hand off; next run tries again");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}
