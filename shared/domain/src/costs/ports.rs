//! Reading the cost ledger. Entries are written with the call's `call_analyzed` event (see
//! `CallEvent::cost`), in the same request, so capture needs no port of its own for them.

use async_trait::async_trait;

use crate::costs::record::{CostRecord, Month};
use crate::error::StoreError;
use crate::ids::CompanyId;

#[async_trait]
pub trait CostLedger: Send + Sync {
    /// The ledger entries of `company_id`'s calls in `month` (by the call's day in the company's
    /// time zone), in call order.
    async fn costs_of_month(&self, company_id: &CompanyId, month: Month) -> Result<Vec<CostRecord>, StoreError>;
    /// Every company's entries in `month` (the platform's view), by company, then call order.
    async fn all_costs_of_month(&self, month: Month) -> Result<Vec<CostRecord>, StoreError>;
}
