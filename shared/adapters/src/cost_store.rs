//! The cost ledger on DynamoDB: one item per call under its company and month
//! (`COMPANY#c` / `COST#<YYYY-MM>#<call_id>`), written in the same request as the call's
//! `call_analyzed` event; a company's month is one Query. GSI1 lists every company's entries of
//! a month (`COSTS#<YYYY-MM>` / `<company>#<day>#<call_id>`) for the platform's report.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::Put;
use gateway_domain::StoreError;
use gateway_domain::call_event::CallEvent;
use gateway_domain::costs::{CostLedger, CostRecord, Month};
use gateway_domain::ids::CompanyId;

use crate::dynamo::{DynamoStore, Item, built, from_item, s, to_item};
use crate::keys;

impl DynamoStore {
    pub(crate) fn cost_item(record: &CostRecord) -> Result<Item, StoreError> {
        let mut item = to_item(record)?;
        item.extend(Self::key(
            keys::company(&record.company_id),
            keys::cost_sk(record.month, &record.call_id),
        ));
        item.insert(keys::GSI1PK.into(), s(keys::costs_index(record.month)));
        item.insert(
            keys::GSI1SK.into(),
            s(format!("{}#{}#{}", record.company_id, record.day, record.call_id)),
        );
        Ok(item)
    }

    /// The puts that record `event`: the event, and its cost-ledger entry when it has one.
    pub(crate) fn event_puts(&self, event: &CallEvent) -> Result<Vec<Put>, StoreError> {
        let mut items = vec![Self::event_item(event)?];
        if let Some(cost) = &event.cost {
            items.push(Self::cost_item(cost)?);
        }
        items
            .into_iter()
            .map(|item| built(Put::builder().table_name(&self.table).set_item(Some(item)).build()))
            .collect()
    }
}

#[async_trait]
impl CostLedger for DynamoStore {
    async fn costs_of_month(&self, company_id: &CompanyId, month: Month) -> Result<Vec<CostRecord>, StoreError> {
        let mut found: Vec<CostRecord> = self
            .query_prefix(keys::company(company_id), &keys::cost_month_prefix(month))
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        found.sort_by(|a, b| (a.day, &a.call_id).cmp(&(b.day, &b.call_id)));
        Ok(found)
    }

    async fn all_costs_of_month(&self, month: Month) -> Result<Vec<CostRecord>, StoreError> {
        let mut found: Vec<CostRecord> = self
            .query_index(keys::GSI1, keys::costs_index(month), None)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        found.sort_by(|a, b| (&a.company_id, a.day, &a.call_id).cmp(&(&b.company_id, b.day, &b.call_id)));
        Ok(found)
    }
}
