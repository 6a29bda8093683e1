//! The booking engine's store on DynamoDB: slot holds (conditional items with a TTL, owned by a
//! call), idempotency records in the call's own partition, and appointments with two index
//! entries (a caller's by end time; by calendar uid). Every appointment change also writes a call
//! event, so the call's audit trail shows what it booked, moved or cancelled, and a caller's or
//! operator's change its notice (the outbox of `gateway_domain::notices`), in the same transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};
use gateway_domain::StoreError;
use gateway_domain::appointments::ports::{AppointmentStore, HoldOutcome, OperationClaim, OperationKey, SlotHold};
use gateway_domain::appointments::record::{Appointment, CallOutcome};
use gateway_domain::ids::{AppointmentId, CallId, CompanyId};
use gateway_domain::notices::AppointmentNotice;
use serde_json::Value;

use crate::aws::unavailable;
use crate::dynamo::{DynamoStore, Item, built, from_item, n, s, to_item, to_value};
use crate::keys;

/// Idempotency records outlive any retry by far (Retell retries within minutes).
const OPERATION_DAYS: i64 = 30;

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn attr_str(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn attr_num(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

impl DynamoStore {
    fn appointment_item(appointment: &Appointment) -> Result<Item, StoreError> {
        let company = &appointment.company_id;
        let mut item = to_item(appointment)?;
        item.extend(Self::key(
            keys::company(company),
            keys::appointment_sk(&appointment.appointment_id),
        ));
        if let Some(phone) = &appointment.customer.phone {
            item.insert(keys::GSI1PK.into(), s(keys::appointment_phone_index(company, phone)));
            item.insert(
                keys::GSI1SK.into(),
                s(format!("{}#{}", instant(appointment.end), appointment.appointment_id)),
            );
        }
        item.insert(
            keys::GSI2PK.into(),
            s(keys::appointment_uid_index(company, &appointment.backend_uid)),
        );
        item.insert(keys::GSI2SK.into(), s("APPT"));
        Ok(item)
    }

    /// The call event for an appointment's latest change, in the call's partition.
    fn change_event(appointment: &Appointment) -> Result<Option<Item>, StoreError> {
        appointment.change_event().as_ref().map(Self::event_item).transpose()
    }

    /// Writes the appointment under `condition` together with its change's call event and, for
    /// a change that is announced, its notice (the outbox: see `gateway_domain::notices`), all in
    /// one transaction. The notice is put only where none is (`attribute_not_exists`), so a
    /// rewrite of the appointment never resets a notice's delivery state: when only the notice's
    /// condition fails, the appointment is written again without it.
    async fn write_appointment(
        &self,
        appointment: &Appointment,
        condition: &str,
        values: Vec<(&str, aws_sdk_dynamodb::types::AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(Self::appointment_item(appointment)?))
            .condition_expression(condition);
        for (k, v) in values {
            put = put.expression_attribute_values(k, v);
        }
        let mut items = vec![TransactWriteItem::builder().put(built(put.build())?).build()];
        if let Some(event) = Self::change_event(appointment)? {
            let event_put = built(Put::builder().table_name(&self.table).set_item(Some(event)).build())?;
            items.push(TransactWriteItem::builder().put(event_put).build());
        }
        let notice = match AppointmentNotice::for_change(appointment) {
            Some(notice) => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(Self::notice_item(&notice)?))
                    .condition_expression("attribute_not_exists(PK)")
                    .build();
                Some(TransactWriteItem::builder().put(built(put)?).build())
            }
            None => None,
        };
        let with_notice = notice.is_some();
        let mut attempt: Vec<TransactWriteItem> = items.iter().cloned().chain(notice).collect();
        loop {
            let notice_index = with_notice.then_some(items.len()).filter(|i| *i < attempt.len());
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(attempt.clone()))
                .send()
                .await;
            let err = match result {
                Ok(_) => return Ok(true),
                Err(err) => err,
            };
            let failed: Vec<bool> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => cancel
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code() == Some("ConditionalCheckFailed"))
                    .collect(),
                _ => return Err(unavailable("write appointment", err)),
            };
            if failed.first().copied().unwrap_or(false) {
                return Ok(false);
            }
            match notice_index {
                // The notice of this change is stored already: keep it as it is.
                Some(i) if failed.get(i).copied().unwrap_or(false) => attempt = items.clone(),
                _ => return Err(unavailable("write appointment", err)),
            }
        }
    }
}

/// Whether a PutItem failed on its condition (and the item it found, when asked for).
fn condition_failed(e: &aws_sdk_dynamodb::error::SdkError<PutItemError>) -> Option<Item> {
    match e.as_service_error() {
        Some(PutItemError::ConditionalCheckFailedException(c)) => Some(c.item().cloned().unwrap_or_default()),
        _ => None,
    }
}

#[async_trait]
impl AppointmentStore for DynamoStore {
    async fn hold_slot(
        &self,
        company_id: &CompanyId,
        hold: &SlotHold,
        now: DateTime<Utc>,
    ) -> Result<HoldOutcome, StoreError> {
        let item = Item::from([
            (keys::PK.to_string(), s(keys::slot_holds(company_id))),
            (
                keys::SK.to_string(),
                s(keys::slot_hold_sk(&hold.calendar_key, &instant(hold.start))),
            ),
            ("owner".to_string(), s(hold.owner.as_str())),
            ("until".to_string(), n(hold.until.timestamp_millis())),
            // DynamoDB removes it a day later; the condition below ignores it once expired.
            (keys::EXPIRES_AT.to_string(), n(hold.until.timestamp() + 86_400)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR #until < :now OR #owner = :owner")
            .expression_attribute_names("#until", "until")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":owner", s(hold.owner.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(HoldOutcome::Held),
            Err(e) => match condition_failed(&e) {
                Some(old) => Ok(HoldOutcome::HeldByOther {
                    owner: CallId::new(attr_str(&old, "owner").unwrap_or_default()),
                    until: attr_num(&old, "until")
                        .and_then(DateTime::from_timestamp_millis)
                        .unwrap_or(now),
                }),
                None => Err(unavailable("hold slot", e)),
            },
        }
    }

    async fn release_slot(
        &self,
        company_id: &CompanyId,
        calendar_key: &str,
        start: DateTime<Utc>,
        owner: &CallId,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::slot_holds(company_id),
                keys::slot_hold_sk(calendar_key, &instant(start)),
            )))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Not ours (any more): nothing to give back.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable("release slot", e)),
        }
    }

    async fn claim_operation(
        &self,
        key: &OperationKey,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<OperationClaim, StoreError> {
        let item = Item::from([
            (keys::PK.to_string(), s(keys::call(Some(&key.company_id), &key.call_id))),
            (keys::SK.to_string(), s(keys::operation_sk(key.intent, &key.subject))),
            ("state".to_string(), s("claimed")),
            ("lease_until".to_string(), n(lease_until.timestamp_millis())),
            (
                keys::EXPIRES_AT.to_string(),
                n(now.timestamp() + OPERATION_DAYS * 86_400),
            ),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR (#state = :claimed AND #lease < :now)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#lease", "lease_until")
            .expression_attribute_values(":claimed", s("claimed"))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(OperationClaim::Claimed),
            Err(e) => match condition_failed(&e) {
                Some(old) if attr_str(&old, "state").as_deref() == Some("done") => {
                    let answer = attr_str(&old, "answer").unwrap_or_default();
                    serde_json::from_str::<Value>(&answer)
                        .map(OperationClaim::Done)
                        .map_err(|e| StoreError::Corrupt(format!("stored answer: {e}")))
                }
                Some(_) => Ok(OperationClaim::InProgress),
                None => Err(unavailable("claim operation", e)),
            },
        }
    }

    async fn complete_operation(&self, key: &OperationKey, answer: &Value) -> Result<(), StoreError> {
        let item = Item::from([
            (keys::PK.to_string(), s(keys::call(Some(&key.company_id), &key.call_id))),
            (keys::SK.to_string(), s(keys::operation_sk(key.intent, &key.subject))),
            ("state".to_string(), s("done")),
            ("answer".to_string(), s(answer.to_string())),
            (
                keys::EXPIRES_AT.to_string(),
                n(Utc::now().timestamp() + OPERATION_DAYS * 86_400),
            ),
        ]);
        self.put(item).await
    }

    async fn release_operation(&self, key: &OperationKey) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(
                keys::call(Some(&key.company_id), &key.call_id),
                keys::operation_sk(key.intent, &key.subject),
            )))
            .condition_expression("#state = :claimed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":claimed", s("claimed"))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable("release operation", e)),
        }
    }

    async fn create_appointment(&self, appointment: &Appointment) -> Result<(), StoreError> {
        if self
            .write_appointment(appointment, "attribute_not_exists(PK)", Vec::new())
            .await?
        {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!(
                "appointment {} exists",
                appointment.appointment_id
            )))
        }
    }

    async fn update_appointment(&self, appointment: &Appointment, expected_version: u64) -> Result<bool, StoreError> {
        let mut next = appointment.clone();
        next.version = expected_version + 1;
        self.write_appointment(&next, "version = :expected", vec![(":expected", n(expected_version))])
            .await
    }

    async fn appointment(&self, company_id: &CompanyId, id: &AppointmentId) -> Result<Option<Appointment>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::company(company_id), keys::appointment_sk(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("get appointment", e))?;
        out.item.map(from_item).transpose()
    }

    async fn appointment_by_uid(&self, company_id: &CompanyId, uid: &str) -> Result<Option<Appointment>, StoreError> {
        let items = self
            .query_index(keys::GSI2, keys::appointment_uid_index(company_id, uid), None)
            .await?;
        items.into_iter().next().map(from_item).transpose()
    }

    async fn upcoming_by_phone(
        &self,
        company_id: &CompanyId,
        phone: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        let items = self
            .query_index(
                keys::GSI1,
                keys::appointment_phone_index(company_id, phone),
                Some(instant(now)),
            )
            .await?;
        let mut found: Vec<Appointment> = items
            .into_iter()
            .map(from_item::<Appointment>)
            .collect::<Result<_, _>>()?;
        found.retain(|a| a.is_upcoming(now));
        found.sort_by_key(|a| a.start);
        Ok(found)
    }

    /// One query of the company's appointment items (`APPT#…` in its partition), filtered by
    /// time here: a company books hundreds a month, not millions. (An index by start time would
    /// be the next step for a company with many thousands of appointments.)
    async fn appointments_between(
        &self,
        company_id: &CompanyId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Appointment>, StoreError> {
        let items = self
            .query_prefix(keys::company(company_id), keys::APPOINTMENT_PREFIX)
            .await?;
        let mut found: Vec<Appointment> = items
            .into_iter()
            .map(from_item::<Appointment>)
            .collect::<Result<_, _>>()?;
        found.retain(|a| a.start < to && a.end > from);
        found.sort_by_key(|a| a.start);
        Ok(found)
    }

    async fn record_call_outcome(
        &self,
        company_id: &CompanyId,
        id: &AppointmentId,
        call_id: &CallId,
        outcome: &CallOutcome,
    ) -> Result<bool, StoreError> {
        let key = Self::key(keys::company(company_id), keys::appointment_sk(id));
        let value = to_value(outcome)?;
        // The map exists (a later call): set its entry. It does not yet: create it with this entry.
        // Two attempts each, as a concurrent first outcome may create the map in between.
        for _ in 0..2 {
            let into_map = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .update_expression("SET #calls.#call = :o, #v = #v + :one")
                .condition_expression("attribute_exists(PK) AND attribute_exists(#calls)")
                .expression_attribute_names("#calls", "calls")
                .expression_attribute_names("#call", call_id.as_str())
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":o", value.clone())
                .expression_attribute_values(":one", n(1))
                .send()
                .await;
            match into_map {
                Ok(_) => return Ok(true),
                Err(e)
                    if !e
                        .as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    return Err(unavailable("record call outcome", e));
                }
                Err(_) => {}
            }
            let new_map = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.clone()))
                .update_expression("SET #calls = :m, #v = #v + :one")
                .condition_expression("attribute_exists(PK) AND attribute_not_exists(#calls)")
                .expression_attribute_names("#calls", "calls")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(
                    ":m",
                    aws_sdk_dynamodb::types::AttributeValue::M([(call_id.to_string(), value.clone())].into()),
                )
                .expression_attribute_values(":one", n(1))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match new_map {
                Ok(_) => return Ok(true),
                Err(e) => match e.as_service_error() {
                    Some(
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c),
                    ) if c.item().is_none_or(|i| i.is_empty()) => {
                        return Ok(false);
                    }
                    Some(s) if s.is_conditional_check_failed_exception() => {}
                    _ => return Err(unavailable("record call outcome", e)),
                },
            }
        }
        Err(StoreError::unavailable(
            "record call outcome",
            format!("appointment {id} kept changing"),
        ))
    }
}
