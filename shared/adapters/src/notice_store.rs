//! The notice outbox on DynamoDB. A notice item (`COMPANY#c / NOTICE#<appointment>#<change>`) is
//! written by the appointment store in the change's own transaction; here it is read, handed off
//! (which takes it off the sweep's sparse GSI2 list `NOTICE#PENDING`), claimed by one delivery
//! attempt at a time, and marked per channel, failed and alerted, each with a conditional write.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use gateway_domain::StoreError;
use gateway_domain::alerting::AlertChannel;
use gateway_domain::case::ChannelState;
use gateway_domain::ids::{AppointmentId, CompanyId};
use gateway_domain::notices::{
    AppointmentNotice, AttemptResult, DeliveryClaim, NoticeChannel, NoticeRef, NoticeState, NoticeStatus, NoticeStore,
    StoredNotice,
};

use crate::aws::unavailable;
use crate::dynamo::{DynamoStore, Item, from_item, n, s, to_value};
use crate::keys;

/// Notices are kept this long after their appointment ends (the audit trail of what was said).
const KEEP_DAYS: i64 = 400;

const STATUS: &str = "status";
const LEASE: &str = "lease_until";

fn status(value: NoticeStatus) -> AttributeValue {
    s(match value {
        NoticeStatus::Pending => "pending",
        NoticeStatus::Sent => "sent",
        NoticeStatus::Failed => "failed",
    })
}

impl DynamoStore {
    fn notice_key(notice: &NoticeRef) -> Item {
        Self::key(
            keys::company(&notice.company_id),
            keys::notice_sk(&notice.appointment_id, notice.change),
        )
    }

    /// A new notice item: the notice itself, an empty delivery state, and its place on the
    /// sweep's list until it is handed off.
    pub(crate) fn notice_item(notice: &AppointmentNotice) -> Result<Item, StoreError> {
        let reference = notice.reference();
        let mut item = Self::notice_key(&reference);
        item.insert("notice".into(), to_value(notice)?);
        item.insert("company_id".into(), s(notice.company_id.as_str()));
        item.insert("appointment_id".into(), s(notice.appointment_id.as_str()));
        item.insert("change".into(), n(notice.change));
        item.insert(STATUS.into(), status(NoticeStatus::Pending));
        // Empty maps, so per-channel and per-alert marks can be set inside them.
        item.insert("channels".into(), AttributeValue::M(Default::default()));
        item.insert("alerts".into(), AttributeValue::M(Default::default()));
        item.insert(keys::GSI2PK.into(), s(keys::PENDING_NOTICES));
        item.insert(
            keys::GSI2SK.into(),
            s(keys::pending_notice_sk(
                &keys::sortable(notice.occurred_at),
                &notice.company_id,
                &notice.appointment_id,
                notice.change,
            )),
        );
        item.insert(
            keys::EXPIRES_AT.into(),
            n(notice.appointment.end.timestamp() + KEEP_DAYS * 86_400),
        );
        Ok(item)
    }

    fn stored_notice(item: Item) -> Result<StoredNotice, StoreError> {
        let notice = item
            .get("notice")
            .cloned()
            .ok_or_else(|| StoreError::Corrupt("notice item without its notice".into()))?;
        let notice: AppointmentNotice = serde_dynamo::from_attribute_value(notice)
            .map_err(|e| StoreError::Corrupt(format!("cannot read notice: {e}")))?;
        let state: NoticeState = from_item(item)?;
        Ok(StoredNotice { notice, state })
    }
}

/// What a refused conditional update found (`None` when there was no item).
fn refused(e: &aws_sdk_dynamodb::error::SdkError<UpdateItemError>) -> Option<Option<Item>> {
    match e.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(c)) => Some(c.item().cloned().filter(|i| !i.is_empty())),
        _ => None,
    }
}

#[async_trait]
impl NoticeStore for DynamoStore {
    async fn notice(&self, notice: &NoticeRef) -> Result<Option<StoredNotice>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::notice_key(notice)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("get notice", e))?;
        out.item.map(Self::stored_notice).transpose()
    }

    async fn mark_handed_off(&self, notice: &NoticeRef, at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::notice_key(notice),
            "SET #at = :at REMOVE #g2pk, #g2sk",
            "attribute_exists(PK)",
            &[
                ("#at", "handed_off_at"),
                ("#g2pk", keys::GSI2PK),
                ("#g2sk", keys::GSI2SK),
            ],
            vec![(":at", to_value(&at)?)],
        )
        .await
    }

    async fn pending_handoffs(
        &self,
        changed_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<NoticeRef>, StoreError> {
        let items = self
            .pending_before(keys::PENDING_NOTICES, changed_before, limit, "pending notices")
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|item| {
                Some(NoticeRef {
                    company_id: CompanyId::new(item.get("company_id")?.as_s().ok()?.as_str()),
                    appointment_id: AppointmentId::new(item.get("appointment_id")?.as_s().ok()?.as_str()),
                    change: item.get("change")?.as_n().ok()?.parse().ok()?,
                })
            })
            .collect())
    }

    async fn claim_delivery(
        &self,
        notice: &NoticeRef,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<DeliveryClaim, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::notice_key(notice)))
            .update_expression("SET #lease = :until")
            .condition_expression(
                "attribute_exists(PK) AND #status <> :sent AND (attribute_not_exists(#lease) OR #lease < :now)",
            )
            .expression_attribute_names("#lease", LEASE)
            .expression_attribute_names("#status", STATUS)
            .expression_attribute_values(":until", n(lease_until.timestamp_millis()))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":sent", status(NoticeStatus::Sent))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => match out.attributes {
                Some(item) => Ok(DeliveryClaim::Claimed(Box::new(Self::stored_notice(item)?))),
                None => Err(StoreError::Corrupt("claimed notice came back empty".into())),
            },
            Err(e) => match refused(&e) {
                Some(None) => Ok(DeliveryClaim::Missing),
                Some(Some(old)) if old.get(STATUS) == Some(&status(NoticeStatus::Sent)) => Ok(DeliveryClaim::Sent),
                Some(Some(_)) => Ok(DeliveryClaim::Busy),
                None => Err(unavailable("claim notice", e)),
            },
        }
    }

    async fn save_channel(
        &self,
        notice: &NoticeRef,
        channel: &NoticeChannel,
        state: &ChannelState,
    ) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::notice_key(notice),
            "SET #chs.#ch = :state",
            "attribute_exists(PK) AND attribute_not_exists(#chs.#ch.#sent)",
            &[
                ("#chs".to_string(), "channels".to_string()),
                ("#ch".to_string(), channel.key()),
                ("#sent".to_string(), "sent_at".to_string()),
            ],
            vec![(":state", to_value(state)?)],
        )
        .await
    }

    async fn finish_delivery(&self, notice: &NoticeRef, result: &AttemptResult) -> Result<(), StoreError> {
        let key = Self::notice_key(notice);
        let done = match result {
            AttemptResult::Sent { at } => {
                self.conditional_update(
                    key,
                    "SET #status = :sent, #at = :at REMOVE #lease, #err",
                    "attribute_exists(PK)",
                    &[
                        ("#status", STATUS),
                        ("#at", "sent_at"),
                        ("#lease", LEASE),
                        ("#err", "last_error"),
                    ],
                    vec![(":sent", status(NoticeStatus::Sent)), (":at", to_value(at)?)],
                )
                .await?
            }
            AttemptResult::Failed { error } => {
                self.conditional_update(
                    key,
                    "SET #err = :e REMOVE #lease",
                    "attribute_exists(PK)",
                    &[("#err", "last_error"), ("#lease", LEASE)],
                    vec![(":e", s(error.as_str()))],
                )
                .await?
            }
        };
        if done {
            Ok(())
        } else {
            Err(StoreError::Corrupt(format!("no notice {}", notice.label())))
        }
    }

    async fn mark_failed(&self, notice: &NoticeRef, error: &str, _at: DateTime<Utc>) -> Result<bool, StoreError> {
        self.conditional_update(
            Self::notice_key(notice),
            "SET #status = :failed, #err = :e",
            "attribute_exists(PK) AND #status <> :sent",
            &[("#status", STATUS), ("#err", "last_error")],
            vec![
                (":failed", status(NoticeStatus::Failed)),
                (":sent", status(NoticeStatus::Sent)),
                (":e", s(error)),
            ],
        )
        .await
    }

    async fn mark_alerted(
        &self,
        notice: &NoticeRef,
        channel: AlertChannel,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let field = match channel {
            AlertChannel::Slack => "slack_at",
            AlertChannel::Email => "email_at",
        };
        self.conditional_update(
            Self::notice_key(notice),
            "SET #a.#f = :at",
            "attribute_exists(PK) AND attribute_not_exists(#a.#f)",
            &[("#a", "alerts"), ("#f", field)],
            vec![(":at", to_value(&at)?)],
        )
        .await
    }
}

impl DynamoStore {
    /// Every notice of an appointment, oldest change first (operators and tests).
    pub async fn notices_of(
        &self,
        company_id: &CompanyId,
        appointment_id: &AppointmentId,
    ) -> Result<Vec<StoredNotice>, StoreError> {
        self.query_prefix(keys::company(company_id), &keys::notice_prefix(appointment_id))
            .await?
            .into_iter()
            .map(Self::stored_notice)
            .collect()
    }
}
