//! DynamoDB adapter: cases, call events, counters, routes and tenant configuration in one table
//! (layout in `keys`). Items are (de)serialised with serde_dynamo.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use gateway_domain::StoreError;
use gateway_domain::call_event::CallEvent;
use gateway_domain::case::ServiceCase;
use gateway_domain::ids::{CallId, CompanyId};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::unavailable;
use crate::keys;

pub(crate) type Item = HashMap<String, AttributeValue>;

#[derive(Clone)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn to_item<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value).map_err(|e| StoreError::Corrupt(format!("cannot serialise item: {e}")))
}

pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Corrupt(format!("cannot read item: {e}")))
}

/// Configuration types reject unknown fields (to catch typos in tenant files), so the table's
/// own attributes are removed before reading them.
pub(crate) fn from_config_item<T: DeserializeOwned>(mut item: Item) -> Result<T, StoreError> {
    for k in [
        keys::PK,
        keys::SK,
        keys::GSI1PK,
        keys::GSI1SK,
        keys::GSI2PK,
        keys::GSI2SK,
        keys::EXPIRES_AT,
    ] {
        item.remove(k);
    }
    from_item(item)
}

pub(crate) fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| StoreError::Corrupt(format!("cannot serialise value: {e}")))
}

pub(crate) fn built<T>(r: Result<T, aws_sdk_dynamodb::error::BuildError>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Corrupt(format!("invalid request: {e}")))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Up to `limit` items of a sparse GSI2 work list (`partition`) whose sort key (their time)
    /// is before `before`, oldest first: what the sweep still has to hand off.
    pub(crate) async fn pending_before(
        &self,
        partition: &str,
        before: chrono::DateTime<chrono::Utc>,
        limit: usize,
        what: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::GSI2)
            .key_condition_expression("#pk = :pk AND #sk < :before")
            .expression_attribute_names("#pk", keys::GSI2PK)
            .expression_attribute_names("#sk", keys::GSI2SK)
            .expression_attribute_values(":pk", s(partition))
            .expression_attribute_values(":before", s(keys::sortable(before)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| unavailable(what, e))?;
        Ok(out.items.unwrap_or_default())
    }

    pub(crate) fn key(pk: String, sk: String) -> Item {
        HashMap::from([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))])
    }

    pub(crate) fn case_key(company_id: &CompanyId, call_id: &CallId) -> Item {
        Self::key(keys::company(company_id), keys::case_sk(call_id))
    }

    /// The stored form of a case (public for the hot-path benchmark).
    pub fn case_item(case: &ServiceCase) -> Result<Item, StoreError> {
        let mut item = to_item(case)?;
        item.extend(Self::case_key(&case.company_id, &case.call_id));
        item.insert(keys::GSI1PK.into(), s(keys::cases_index(&case.company_id)));
        item.insert(
            keys::GSI1SK.into(),
            s(format!("{}#{}", case.created_at.to_rfc3339(), case.case_id)),
        );
        // Until the hand-off completes (which overwrites GSI2 with the ticket index), the case is
        // listed in the sweep's work list.
        if !case.is_handed_off() {
            item.insert(keys::GSI2PK.into(), s(keys::PENDING_HANDOFFS));
            item.insert(
                keys::GSI2SK.into(),
                s(keys::pending_handoff_sk(
                    &keys::sortable(case.created_at),
                    &case.company_id,
                    &case.call_id,
                )),
            );
        }
        Ok(item)
    }

    pub(crate) fn event_item(event: &CallEvent) -> Result<Item, StoreError> {
        let mut item = to_item(event)?;
        item.extend(Self::key(
            keys::call(event.company_id.as_ref(), &event.call_id),
            keys::event_sk(&event.event, event.discriminator.as_deref()),
        ));
        Ok(item)
    }

    /// All items of a partition whose sort key starts with `prefix` (follows pagination).
    pub(crate) async fn query_prefix(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", keys::PK)
                .expression_attribute_names("#sk", keys::SK)
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("query", e))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Runs a conditional update; `Ok(false)` when the condition did not hold.
    pub(crate) async fn conditional_update<N: AsRef<str>, K: Into<String>>(
        &self,
        key: Item,
        update: &str,
        condition: &str,
        names: &[(N, N)],
        values: Vec<(K, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .condition_expression(condition);
        for (k, v) in names {
            req = req.expression_attribute_names(k.as_ref(), v.as_ref());
        }
        for (k, v) in values {
            req = req.expression_attribute_values(k, v);
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable("update item", e)),
        }
    }

    pub(crate) async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| unavailable("put item", e))?;
        Ok(())
    }
}
