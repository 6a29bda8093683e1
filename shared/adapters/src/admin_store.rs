//! Operator queries and writes: customers, cases by time or ticket reference, exchange logs.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use gateway_domain::StoreError;
use gateway_domain::case::ServiceCase;
use gateway_domain::enrichment::CustomerStore;
use gateway_domain::enrichment::customer::Customer;
use gateway_domain::exchange::ExchangeEntry;
use gateway_domain::exchange::{ExchangeLog, LogSubject};
use gateway_domain::ids::{AppointmentId, CaseId, CompanyId, TicketRef};

use crate::aws::unavailable;
use crate::dynamo::{DynamoStore, Item, from_item, s, to_item};
use crate::keys;

impl DynamoStore {
    /// Creates or replaces a customer (its id is stable, so a re-import updates).
    pub async fn put_customer(&self, company_id: &CompanyId, customer: &Customer) -> Result<(), StoreError> {
        let mut item = to_item(customer)?;
        item.extend(Self::key(
            keys::company(company_id),
            keys::customer(&customer.customer_id),
        ));
        let sk = keys::customer(&customer.customer_id);
        if let Some(phone) = &customer.phone {
            item.insert(keys::GSI1PK.into(), s(keys::customer_phone_index(company_id, phone)));
            item.insert(keys::GSI1SK.into(), s(sk.clone()));
        }
        if let Some(email) = &customer.email {
            item.insert(keys::GSI2PK.into(), s(keys::customer_email_index(company_id, email)));
            item.insert(keys::GSI2SK.into(), s(sk));
        }
        self.put(item).await
    }

    pub async fn list_customers(&self, company_id: &CompanyId) -> Result<Vec<Customer>, StoreError> {
        self.query_prefix(keys::company(company_id), keys::CUSTOMER_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    pub(crate) async fn query_index(
        &self,
        index: &str,
        pk: String,
        sk_from: Option<String>,
    ) -> Result<Vec<Item>, StoreError> {
        let (pk_name, sk_name) = if index == keys::GSI1 {
            (keys::GSI1PK, keys::GSI1SK)
        } else {
            (keys::GSI2PK, keys::GSI2SK)
        };
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .expression_attribute_names("#pk", pk_name)
                .expression_attribute_values(":pk", s(pk.clone()))
                .scan_index_forward(false)
                .set_exclusive_start_key(start);
            req = match &sk_from {
                Some(from) => req
                    .key_condition_expression("#pk = :pk AND #sk >= :from")
                    .expression_attribute_names("#sk", sk_name)
                    .expression_attribute_values(":from", s(from.clone())),
                None => req.key_condition_expression("#pk = :pk"),
            };
            let page = req.send().await.map_err(|e| unavailable("query index", e))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// A company's cases, newest first, optionally only those created at or after `since`.
    pub async fn cases_since(
        &self,
        company_id: &CompanyId,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<ServiceCase>, StoreError> {
        let from = since.map(|t| t.to_rfc3339());
        self.query_index(keys::GSI1, keys::cases_index(company_id), from)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    pub async fn case_by_ticket(
        &self,
        company_id: &CompanyId,
        ticket_ref: &TicketRef,
    ) -> Result<Option<ServiceCase>, StoreError> {
        let items = self
            .query_index(keys::GSI2, keys::ticket_index(company_id, ticket_ref), None)
            .await?;
        items.into_iter().next().map(from_item).transpose()
    }

    /// The case's exchange-log entries, oldest first, as stored.
    pub async fn exchange_log(
        &self,
        company_id: &CompanyId,
        case_id: &CaseId,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let items = self
            .query_prefix(keys::exchange_log(company_id, case_id), keys::LOG_PREFIX)
            .await?;
        items.into_iter().map(from_item).collect()
    }

    /// An appointment's exchange-log entries (its notices' deliveries and alerts), oldest first.
    pub async fn appointment_log(
        &self,
        company_id: &CompanyId,
        appointment_id: &AppointmentId,
    ) -> Result<Vec<serde_json::Value>, StoreError> {
        let items = self
            .query_prefix(keys::appointment_log(company_id, appointment_id), keys::LOG_PREFIX)
            .await?;
        items.into_iter().map(from_item).collect()
    }
}

#[async_trait]
impl CustomerStore for DynamoStore {
    async fn customers_by_phone(&self, company_id: &CompanyId, e164: &str) -> Result<Vec<Customer>, StoreError> {
        let items = self
            .query_index(keys::GSI1, keys::customer_phone_index(company_id, e164), None)
            .await?;
        items.into_iter().map(from_item).collect()
    }

    async fn customers_by_email(&self, company_id: &CompanyId, email: &str) -> Result<Vec<Customer>, StoreError> {
        let items = self
            .query_index(
                keys::GSI2,
                keys::customer_email_index(company_id, &email.to_lowercase()),
                None,
            )
            .await?;
        items.into_iter().map(from_item).collect()
    }

    async fn all_customers(&self, company_id: &CompanyId) -> Result<Vec<Customer>, StoreError> {
        self.list_customers(company_id).await
    }

    async fn save_customer(&self, company_id: &CompanyId, customer: &Customer) -> Result<(), StoreError> {
        self.put_customer(company_id, customer).await
    }
}

#[async_trait]
impl ExchangeLog for DynamoStore {
    async fn append_to(
        &self,
        company_id: &CompanyId,
        subject: &LogSubject,
        entry: &ExchangeEntry,
    ) -> Result<(), StoreError> {
        let mut item = to_item(entry)?;
        let sk = format!(
            "{}{}#{}",
            keys::LOG_PREFIX,
            entry.created_at.to_rfc3339(),
            entry.event_id
        );
        let partition = match subject {
            LogSubject::Case(case_id) => keys::exchange_log(company_id, case_id),
            LogSubject::Appointment(appointment_id) => keys::appointment_log(company_id, appointment_id),
        };
        item.extend(Self::key(partition, sk));
        // The company's log by time, for the console (keyed by the company: no page can cross
        // tenants). Case entries only: the console reads each entry's case from its key.
        if let LogSubject::Case(_) = subject {
            item.insert(keys::GSI1PK.into(), s(keys::exchange_log_index(company_id)));
            item.insert(
                keys::GSI1SK.into(),
                s(format!("{}#{}", keys::sortable(entry.created_at), entry.event_id)),
            );
        }
        self.put(item).await
    }
}
