//! The console's reads and writes on DynamoDB: a company's cases (GSI1Rows) and exchange-log
//! entries (GSI1) by time, keyed by the company, so no page can cross tenants and none scans the
//! table; a
//! case by its internal id, and the operator's status and priority changes.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use gateway_domain::StoreError;
use gateway_domain::case::{CaseStatus, Priority, ServiceCase};
use gateway_domain::exchange::ExchangeEntry;
use gateway_domain::ids::{CallId, CaseId, CompanyId};

use crate::aws::unavailable;
use crate::dynamo::{DynamoStore, Item, from_item, s};
use crate::keys;

/// A time window over an index's sort key (`from` inclusive, `to` exclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl DynamoStore {
    /// A company's cases created in `window`, newest first, without transcript and analysis.
    pub async fn case_rows(&self, company_id: &CompanyId, window: Window) -> Result<Vec<ServiceCase>, StoreError> {
        // The case index's sort key is `created_at` in RFC 3339 (as chrono writes it) + `#id`.
        let bound = |t: DateTime<Utc>| t.to_rfc3339();
        let items = self
            .query_window(
                keys::GSI1_ROWS,
                keys::cases_index(company_id),
                window.from.map(bound),
                window.to.map(bound),
                Some(keys::CASE_ROW_ATTRIBUTES),
                usize::MAX,
            )
            .await?;
        items.into_iter().map(from_item).collect()
    }

    /// One page of a company's cases in `window`, newest first: at most `limit` rows after
    /// `cursor` (from the previous page), and the cursor of the next page if there is one. Reads
    /// only the page, whatever the window holds.
    pub async fn case_page(
        &self,
        company_id: &CompanyId,
        window: Window,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<ServiceCase>, Option<String>), StoreError> {
        let bound = |t: DateTime<Utc>| t.to_rfc3339();
        // The cursor is the last row's index key and call id; the partition is always the
        // session's company, so a forged cursor cannot reach another company's cases.
        let start = cursor.and_then(|c| c.split_once('|')).map(|(sk, call)| {
            let mut key = Self::case_key(company_id, &CallId::new(call));
            key.insert(keys::GSI1PK.into(), s(keys::cases_index(company_id)));
            key.insert(keys::GSI1SK.into(), s(sk));
            key
        });
        // One row more than the page tells whether there is a next page.
        let mut items = self
            .query_window_page(
                keys::cases_index(company_id),
                window.from.map(bound),
                window.to.map(bound),
                start,
                limit + 1,
            )
            .await?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next = match items.last() {
            Some(last) if more => {
                let sk = last.get(keys::GSI1SK).and_then(|v| v.as_s().ok()).cloned();
                let call = last.get("call_id").and_then(|v| v.as_s().ok()).cloned();
                sk.zip(call).map(|(sk, call)| format!("{sk}|{call}"))
            }
            _ => None,
        };
        let rows: Vec<ServiceCase> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        Ok((rows, next))
    }

    /// A company's exchange-log entries written in `window`, newest first (at most `limit`),
    /// each with the case it belongs to.
    pub async fn log_rows(
        &self,
        company_id: &CompanyId,
        window: Window,
        limit: usize,
    ) -> Result<Vec<(CaseId, ExchangeEntry)>, StoreError> {
        let items = self
            .query_window(
                keys::GSI1,
                keys::exchange_log_index(company_id),
                window.from.map(keys::sortable),
                window.to.map(keys::sortable),
                None,
                limit,
            )
            .await?;
        let prefix = keys::exchange_log(company_id, &CaseId::new(""));
        items
            .into_iter()
            .map(|item| {
                let case = item
                    .get(keys::PK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|pk| pk.strip_prefix(&prefix))
                    .map(CaseId::new)
                    .ok_or_else(|| StoreError::Corrupt("exchange-log entry without its case".into()))?;
                Ok((case, from_item(item)?))
            })
            .collect()
    }

    /// One exchange-log entry of a case, by its event id.
    pub async fn log_entry(
        &self,
        company_id: &CompanyId,
        case_id: &CaseId,
        event_id: &str,
    ) -> Result<Option<ExchangeEntry>, StoreError> {
        let entries = self.exchange_log(company_id, case_id).await?;
        Ok(entries
            .into_iter()
            .filter_map(|v| serde_json::from_value::<ExchangeEntry>(v).ok())
            .find(|e| e.event_id == event_id))
    }

    /// A case by its internal id. The id is a ULID made from the case's creation time, so the
    /// case index is read for that one millisecond only.
    pub async fn case_by_id(
        &self,
        company_id: &CompanyId,
        case_id: &CaseId,
    ) -> Result<Option<ServiceCase>, StoreError> {
        let Ok(ulid) = ulid::Ulid::from_string(case_id) else {
            return Ok(None);
        };
        let Some(at) = DateTime::<Utc>::from_timestamp_millis(ulid.timestamp_ms() as i64) else {
            return Ok(None);
        };
        let rows = self
            .case_rows(
                company_id,
                Window {
                    from: Some(at),
                    to: Some(at + chrono::Duration::milliseconds(2)),
                },
            )
            .await?;
        Ok(rows.into_iter().find(|c| &c.case_id == case_id))
    }

    /// An operator's change of status and priority; `false` when there is no such case.
    pub async fn set_case_workflow(
        &self,
        company_id: &CompanyId,
        call_id: &CallId,
        status: CaseStatus,
        priority: Priority,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::case_key(company_id, call_id),
            "SET #st = :st, #pr = :pr, #up = :at",
            "attribute_exists(PK)",
            &[("#st", "status"), ("#pr", "priority"), ("#up", "updated_at")],
            vec![
                (":st", s(status.as_str())),
                (":pr", s(priority.as_str())),
                (":at", crate::dynamo::to_value(&at)?),
            ],
        )
        .await
    }

    /// One query of the row index, at most `limit` items: the row attributes and the index key.
    async fn query_window_page(
        &self,
        pk: String,
        from: Option<String>,
        to: Option<String>,
        start: Option<Item>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut attributes = keys::CASE_ROW_ATTRIBUTES.to_vec();
        attributes.push(keys::GSI1SK);
        let page = self
            .window_request(keys::GSI1_ROWS, pk, &from, &to, Some(&attributes))
            .set_exclusive_start_key(start)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| unavailable("query page", e))?;
        Ok(page.items.unwrap_or_default())
    }

    fn window_request(
        &self,
        index: &str,
        pk: String,
        from: &Option<String>,
        to: &Option<String>,
        attributes: Option<&[&str]>,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let condition = match (from, to) {
            (Some(_), Some(_)) => "#pk = :pk AND #sk BETWEEN :from AND :to",
            (Some(_), None) => "#pk = :pk AND #sk >= :from",
            (None, Some(_)) => "#pk = :pk AND #sk < :to",
            (None, None) => "#pk = :pk",
        };
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(condition)
            .expression_attribute_names("#pk", keys::GSI1PK)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(false);
        if from.is_some() || to.is_some() {
            req = req.expression_attribute_names("#sk", keys::GSI1SK);
        }
        if let Some(from) = from {
            req = req.expression_attribute_values(":from", s(from.clone()));
        }
        if let Some(to) = to {
            req = req.expression_attribute_values(":to", AttributeValue::S(to.clone()));
        }
        if let Some(attributes) = attributes {
            let mut projection = Vec::with_capacity(attributes.len());
            for (i, name) in attributes.iter().enumerate() {
                req = req.expression_attribute_names(format!("#p{i}"), *name);
                projection.push(format!("#p{i}"));
            }
            req = req.projection_expression(projection.join(", "));
        }
        req
    }

    /// Items of a GSI1 (or GSI1Rows) partition with a sort key in [`from`, `to`), newest first.
    async fn query_window(
        &self,
        index: &str,
        pk: String,
        from: Option<String>,
        to: Option<String>,
        attributes: Option<&[&str]>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let req = self
                .window_request(index, pk.clone(), &from, &to, attributes)
                .set_exclusive_start_key(start);
            let page = req.send().await.map_err(|e| unavailable("query window", e))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() || items.len() >= limit {
                items.truncate(limit);
                return Ok(items);
            }
        }
    }
}
