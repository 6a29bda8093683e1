//! The case ports on DynamoDB: capture's guarded write, merge and hand-off; enrichment's state
//! moves; delivery's per-channel marks; alerting's failed mark. Every state change is a
//! conditional write, so concurrent or repeated invocations cannot move a case backwards.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use chrono::{DateTime, Utc};
use gateway_domain::StoreError;
use gateway_domain::alerting::{AlertChannel, AlertStore};
use gateway_domain::call_event::{CallEvent, CallEventReader};
use gateway_domain::capture::{CaptureStore, CapturedContent, CreateOutcome};
use gateway_domain::case::{
    CaseReader, Channel, ChannelState, Enrichment, EnrichmentStatus, OutputStatus, ServiceCase,
};
use gateway_domain::delivery::{DeliveryStore, RedeliveryStore};
use gateway_domain::enrichment::{EnrichClaim, EnrichmentStore};
use gateway_domain::ids::{CallId, CompanyId, TicketRef};

use crate::aws::unavailable;
use crate::dynamo::{DynamoStore, built, from_item, n, s, to_item, to_value};
use crate::keys;

/// Capture's optional attributes: serde leaves them out when `None`, so a merge removes them.
const CAPTURED_OPTIONALS: &[&str] = &[
    "category",
    "category_match",
    "use_case_category",
    "use_case_detail",
    "sla_response_due_at",
    "sla_resolution_due_at",
];

#[async_trait]
impl CaseReader for DynamoStore {
    async fn get_case(&self, company_id: &CompanyId, call_id: &CallId) -> Result<Option<ServiceCase>, StoreError> {
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
}

#[async_trait]
impl CallEventReader for DynamoStore {
    async fn call_events(
        &self,
        company_id: Option<&CompanyId>,
        call_id: &CallId,
    ) -> Result<Vec<CallEvent>, StoreError> {
        self.query_prefix(keys::call(company_id, call_id), keys::EVENT_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }
}

#[async_trait]
impl CaptureStore for DynamoStore {
    async fn create_case(&self, case: &ServiceCase, event: &CallEvent) -> Result<CreateOutcome, StoreError> {
        let case_put = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(Self::case_item(case)?))
                .condition_expression("attribute_not_exists(PK)")
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(case_put).build());
        for put in self.event_puts(event)? {
            transaction = transaction.transact_items(TransactWriteItem::builder().put(put).build());
        }
        let result = transaction.send().await;
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
        if event.cost.is_none() {
            return self.put(Self::event_item(event)?).await;
        }
        // The event and its cost-ledger entry together: still one request.
        let mut transaction = self.client.transact_write_items();
        for put in self.event_puts(event)? {
            transaction = transaction.transact_items(TransactWriteItem::builder().put(put).build());
        }
        transaction.send().await.map_err(|e| unavailable("record event", e))?;
        Ok(())
    }

    async fn merge_content(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        content: &CapturedContent,
        expected_version: u64,
    ) -> Result<bool, StoreError> {
        // Only capture's own attributes are written (see `CapturedContent`); an absent optional
        // value is removed, so the item equals what serialising the merged case would give.
        let item = to_item(content)?;
        let mut names: Vec<(String, String)> = Vec::new();
        let mut values: Vec<(String, AttributeValue)> = Vec::new();
        let mut sets = Vec::new();
        for (i, (name, value)) in item.into_iter().enumerate() {
            names.push((format!("#a{i}"), name));
            values.push((format!(":v{i}"), value));
            sets.push(format!("#a{i} = :v{i}"));
        }
        let present: Vec<String> = names.iter().map(|(_, n)| n.clone()).collect();
        let removes: Vec<String> = CAPTURED_OPTIONALS
            .iter()
            .filter(|a| !present.iter().any(|p| p == *a))
            .enumerate()
            .map(|(i, a)| {
                names.push((format!("#r{i}"), (*a).to_string()));
                format!("#r{i}")
            })
            .collect();
        sets.push("#version = :next".into());
        names.push(("#version".into(), "version".into()));
        values.push((":next".into(), n(expected_version + 1)));
        values.push((":expected".into(), n(expected_version)));
        let mut update = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            update.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        self.conditional_update(
            Self::case_key(company_id, call_id),
            &update,
            "attribute_exists(PK) AND #version = :expected",
            &names,
            values,
        )
        .await
    }

    async fn claim_handoff(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
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

    async fn next_ticket_number(&self, company_id: &CompanyId, year: i32) -> Result<u64, StoreError> {
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
        company_id: &CompanyId,
        call_id: &CallId,
        ticket_ref: &TicketRef,
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
                    (":ref", s(ticket_ref.as_str())),
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

    async fn pending_handoffs(
        &self,
        created_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(CompanyId, CallId)>, StoreError> {
        let items = self
            .pending_before(keys::PENDING_HANDOFFS, created_before, limit, "pending hand-offs")
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|item| {
                let company = item.get("company_id")?.as_s().ok()?;
                let call = item.get("call_id")?.as_s().ok()?;
                Some((CompanyId::new(company.as_str()), CallId::new(call.as_str())))
            })
            .collect())
    }

    async fn release_handoff(&self, company_id: &CompanyId, call_id: &CallId) -> Result<(), StoreError> {
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
}

#[async_trait]
impl EnrichmentStore for DynamoStore {
    async fn begin_enrichment(&self, company_id: &CompanyId, call_id: &CallId) -> Result<EnrichClaim, StoreError> {
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
        company_id: &CompanyId,
        call_id: &CallId,
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

    async fn mark_delivery_enqueued(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
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
}

#[async_trait]
impl DeliveryStore for DynamoStore {
    async fn save_channel_state(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
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
        company_id: &CompanyId,
        call_id: &CallId,
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

    async fn record_output_error(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        error: &str,
    ) -> Result<(), StoreError> {
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
}

#[async_trait]
impl RedeliveryStore for DynamoStore {
    async fn reset_for_redelivery(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
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
}

#[async_trait]
impl AlertStore for DynamoStore {
    async fn mark_output_failed(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
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
        company_id: &CompanyId,
        call_id: &CallId,
        channel: AlertChannel,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let field = match channel {
            AlertChannel::Slack => "slack_at",
            AlertChannel::Email => "email_at",
        };
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #a.#f = :at",
            "attribute_exists(PK) AND attribute_not_exists(#a.#f)",
            &[("#a", "alerts"), ("#f", field)],
            vec![(":at", to_value(&at)?)],
        )
        .await
    }
}

impl DynamoStore {
    /// Every case of a company (operators and tests; the console pages through the index).
    pub async fn list_cases(&self, company_id: &CompanyId) -> Result<Vec<ServiceCase>, StoreError> {
        self.query_prefix(keys::company(company_id), keys::CASE_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }
}
