//! DynamoDB adapter: cases, call events, counters, routes and tenant configuration in one table
//! (layout in `keys`). Items are (de)serialised with serde_dynamo.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Utc};
use gateway_domain::StoreError;
use gateway_domain::case::{Channel, ChannelState, Enrichment, EnrichmentStatus, OutputStatus, ServiceCase};
use gateway_domain::ports::{CallEvent, CaseStore, CreateOutcome, EnrichClaim};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::aws::unavailable;
use crate::keys;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Attributes owned by the hand-off or fixed at creation: never rewritten by a content update.
const NOT_CONTENT: &[&str] = &[
    "company_id",
    "case_id",
    "call_id",
    "created_at",
    "ticket_ref",
    "enqueued_at",
    "handoff_lease_until",
    "version",
];

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

    pub(crate) fn key(pk: String, sk: String) -> Item {
        HashMap::from([(keys::PK.to_string(), s(pk)), (keys::SK.to_string(), s(sk))])
    }

    pub(crate) fn case_key(company_id: &str, call_id: &str) -> Item {
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
        Ok(item)
    }

    fn event_item(event: &CallEvent) -> Result<Item, StoreError> {
        let mut item = to_item(event)?;
        item.extend(Self::key(
            keys::call(event.company_id.as_deref(), &event.call_id),
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
    pub(crate) async fn conditional_update(
        &self,
        key: Item,
        update: &str,
        condition: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(update)
            .condition_expression(condition);
        for (k, v) in names {
            req = req.expression_attribute_names(*k, *v);
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

#[async_trait]
impl CaseStore for DynamoStore {
    async fn create_case(&self, case: &ServiceCase, event: &CallEvent) -> Result<CreateOutcome, StoreError> {
        let case_put = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(Self::case_item(case)?))
                .condition_expression("attribute_not_exists(PK)")
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let event_put = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(Self::event_item(event)?))
                .build(),
        )?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(case_put).build())
            .transact_items(TransactWriteItem::builder().put(event_put).build())
            .send()
            .await;
        let err = match result {
            Ok(_) => return Ok(CreateOutcome::Created),
            Err(err) => err,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancel)) = err.as_service_error() {
            let guard = cancel.cancellation_reasons().first();
            if guard.and_then(|r| r.code()) == Some("ConditionalCheckFailed") {
                let existing = match guard.and_then(|r| r.item()).filter(|i| !i.is_empty()) {
                    Some(item) => from_item(item.clone())?,
                    None => self
                        .get_case(&case.company_id, &case.call_id)
                        .await?
                        .ok_or_else(|| StoreError::Corrupt("guard failed but the case is missing".into()))?,
                };
                return Ok(CreateOutcome::Exists(Box::new(existing)));
            }
        }
        Err(unavailable("create case", err))
    }

    async fn record_event(&self, event: &CallEvent) -> Result<(), StoreError> {
        self.put(Self::event_item(event)?).await
    }

    async fn update_content(&self, case: &ServiceCase, expected_version: u64) -> Result<bool, StoreError> {
        let mut item = to_item(case)?;
        item.retain(|k, _| !NOT_CONTENT.contains(&k.as_str()));
        let fields: Vec<(String, String, String, AttributeValue)> = item
            .into_iter()
            .enumerate()
            .map(|(i, (name, value))| (format!("#a{i}"), name, format!(":v{i}"), value))
            .collect();
        let mut sets: Vec<String> = fields.iter().map(|(n, _, v, _)| format!("{n} = {v}")).collect();
        sets.push("#version = :next".into());
        let mut names: Vec<(&str, &str)> = fields
            .iter()
            .map(|(alias, name, _, _)| (alias.as_str(), name.as_str()))
            .collect();
        names.push(("#version", "version"));
        let mut values: Vec<(&str, AttributeValue)> = fields
            .iter()
            .map(|(_, _, v, value)| (v.as_str(), value.clone()))
            .collect();
        values.push((":next", n(expected_version + 1)));
        values.push((":expected", n(expected_version)));
        self.conditional_update(
            Self::case_key(&case.company_id, &case.call_id),
            &format!("SET {}", sets.join(", ")),
            "#version = :expected",
            &names,
            values,
        )
        .await
    }

    async fn claim_handoff(
        &self,
        company_id: &str,
        call_id: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #lease = :until",
            "attribute_exists(PK) AND attribute_not_exists(#enq) AND #lease < :now",
            &[("#lease", "handoff_lease_until"), ("#enq", "enqueued_at")],
            vec![(":until", n(lease_until_ms)), (":now", n(now_ms))],
        )
        .await
    }

    async fn next_ticket_number(&self, company_id: &str, year: i32) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::company(company_id), keys::counter_sk(year))))
            .update_expression("ADD #n :one")
            .expression_attribute_names("#n", "n")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| unavailable("ticket counter", e))?;
        out.attributes
            .and_then(|a| a.get("n").cloned())
            .and_then(|v| v.as_n().ok().and_then(|n| n.parse().ok()))
            .ok_or_else(|| StoreError::Corrupt("ticket counter returned no number".into()))
    }

    async fn complete_handoff(
        &self,
        company_id: &str,
        call_id: &str,
        ticket_ref: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let done = self
            .conditional_update(
                Self::case_key(company_id, call_id),
                "SET #ref = :ref, #enq = :at, #lease = :zero, #g2pk = :g2pk, #g2sk = :g2sk",
                "attribute_exists(PK)",
                &[
                    ("#ref", "ticket_ref"),
                    ("#enq", "enqueued_at"),
                    ("#lease", "handoff_lease_until"),
                    ("#g2pk", keys::GSI2PK),
                    ("#g2sk", keys::GSI2SK),
                ],
                vec![
                    (":ref", s(ticket_ref)),
                    (":at", to_value(&at)?),
                    (":zero", n(0)),
                    (":g2pk", s(keys::ticket_index(company_id, ticket_ref))),
                    (":g2sk", s("CASE")),
                ],
            )
            .await?;
        if done {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!("no case for call {call_id}")))
        }
    }

    async fn release_handoff(&self, company_id: &str, call_id: &str) -> Result<(), StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #lease = :zero",
            "attribute_exists(PK)",
            &[("#lease", "handoff_lease_until")],
            vec![(":zero", n(0))],
        )
        .await
        .map(|_| ())
    }

    async fn begin_enrichment(&self, company_id: &str, call_id: &str) -> Result<EnrichClaim, StoreError> {
        let res = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::case_key(company_id, call_id)))
            .update_expression("SET #st = :enriching")
            .condition_expression("attribute_exists(PK) AND (#st = :pending OR #st = :enriching)")
            .expression_attribute_names("#st", "enrichment_status")
            .expression_attribute_values(":enriching", s(EnrichmentStatus::Enriching.as_str()))
            .expression_attribute_values(":pending", s(EnrichmentStatus::Pending.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => match out.attributes {
                Some(item) => Ok(EnrichClaim::Started(Box::new(from_item(item)?))),
                None => Err(StoreError::Corrupt("update returned no case".into())),
            },
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(match self.get_case(company_id, call_id).await? {
                    Some(case) => EnrichClaim::Finished(Box::new(case)),
                    None => EnrichClaim::Missing,
                })
            }
            Err(e) => Err(unavailable("begin enrichment", e)),
        }
    }

    async fn finish_enrichment(
        &self,
        company_id: &str,
        call_id: &str,
        status: EnrichmentStatus,
        enrichment: &Enrichment,
    ) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #st = :status, #en = :info",
            "#st = :enriching",
            &[("#st", "enrichment_status"), ("#en", "enrichment")],
            vec![
                (":status", s(status.as_str())),
                (":info", to_value(enrichment)?),
                (":enriching", s(EnrichmentStatus::Enriching.as_str())),
            ],
        )
        .await
    }

    async fn save_channel_state(
        &self,
        company_id: &str,
        call_id: &str,
        channel: Channel,
        state: &ChannelState,
    ) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #d.#ch = :state",
            "attribute_exists(PK) AND attribute_not_exists(#d.#ch.#sent)",
            &[("#d", "delivery"), ("#ch", channel.as_str()), ("#sent", "sent_at")],
            vec![(":state", to_value(state)?)],
        )
        .await
    }

    async fn mark_output_sent(
        &self,
        company_id: &str,
        call_id: &str,
        external_reference: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut names = vec![
            ("#os", "output_status"),
            ("#at", "output_sent_at"),
            ("#err", "output_error"),
        ];
        let mut values = vec![(":sent", s(OutputStatus::Sent.as_str())), (":at", to_value(&at)?)];
        let mut update = "SET #os = :sent, #at = :at".to_string();
        if let Some(r) = external_reference {
            update.push_str(", #ext = :ext");
            names.push(("#ext", "external_reference"));
            values.push((":ext", s(r)));
        }
        update.push_str(" REMOVE #err");
        self.conditional_update(
            Self::case_key(company_id, call_id),
            &update,
            "attribute_exists(PK)",
            &names,
            values,
        )
        .await
        .map(|_| ())
    }

    async fn record_output_error(&self, company_id: &str, call_id: &str, error: &str) -> Result<(), StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #err = :e",
            "attribute_exists(PK)",
            &[("#err", "output_error")],
            vec![(":e", s(error))],
        )
        .await
        .map(|_| ())
    }

    async fn mark_output_failed(
        &self,
        company_id: &str,
        call_id: &str,
        error: &str,
        _at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #os = :failed, #err = :e",
            "attribute_exists(PK) AND #os <> :sent",
            &[("#os", "output_status"), ("#err", "output_error")],
            vec![
                (":failed", s(OutputStatus::Failed.as_str())),
                (":sent", s(OutputStatus::Sent.as_str())),
                (":e", s(error)),
            ],
        )
        .await
    }

    async fn mark_alerted(
        &self,
        company_id: &str,
        call_id: &str,
        channel: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let field = if channel == "slack" { "slack_at" } else { "email_at" };
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #a.#f = :at",
            "attribute_exists(PK) AND attribute_not_exists(#a.#f)",
            &[("#a", "alerts"), ("#f", field)],
            vec![(":at", to_value(&at)?)],
        )
        .await
    }

    async fn reset_for_redelivery(
        &self,
        company_id: &str,
        call_id: &str,
        channels: &[Channel],
    ) -> Result<(), StoreError> {
        let mut names = vec![("#os", "output_status"), ("#a", "alerts")];
        if !channels.is_empty() {
            names.push(("#d", "delivery"));
        }
        let mut removes = Vec::new();
        for ch in channels {
            let (alias, name) = match ch {
                Channel::Email => ("#email", "email"),
                Channel::Webhook => ("#webhook", "webhook"),
            };
            names.push((alias, name));
            removes.push(format!("#d.{alias}"));
        }
        let mut update = "SET #os = :pending, #a = :none".to_string();
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        self.conditional_update(
            Self::case_key(company_id, call_id),
            &update,
            "attribute_exists(PK)",
            &names,
            vec![
                (":pending", s(OutputStatus::Pending.as_str())),
                (":none", AttributeValue::M(Default::default())),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn mark_delivery_enqueued(
        &self,
        company_id: &str,
        call_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #d = :at",
            "attribute_exists(PK)",
            &[("#d", "delivery_enqueued_at")],
            vec![(":at", to_value(&at)?)],
        )
        .await
        .map(|_| ())
    }

    async fn get_case(&self, company_id: &str, call_id: &str) -> Result<Option<ServiceCase>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::case_key(company_id, call_id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("get case", e))?;
        out.item.map(from_item).transpose()
    }

    async fn list_cases(&self, company_id: &str) -> Result<Vec<ServiceCase>, StoreError> {
        self.query_prefix(keys::company(company_id), keys::CASE_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    async fn list_events(&self, company_id: Option<&str>, call_id: &str) -> Result<Vec<CallEvent>, StoreError> {
        self.query_prefix(keys::call(company_id, call_id), keys::EVENT_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }
}
