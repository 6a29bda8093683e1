//! Tenant configuration in DynamoDB: the read side for the functions (`ConfigStore`) and the
//! write side for the operator CLI (load the stored document, apply a plan).

use async_trait::async_trait;
use gateway_domain::StoreError;
use gateway_domain::ids::CompanyId;
use gateway_domain::tenancy::plan::{Change, ChangeKind, ItemRef};

use gateway_domain::tenancy::{CompanyConfig, ConfigStore, RouteKey, Routes, Tenant, TenantSpec};

use crate::aws::unavailable;
use crate::dynamo::{DynamoStore, Item, from_config_item, s, to_item};
use crate::keys;

impl DynamoStore {
    /// The stored tenant document of a company (`None` if the company has no configuration).
    pub async fn load_spec(&self, company_id: &CompanyId) -> Result<Option<TenantSpec>, StoreError> {
        let items = self
            .query_prefix(keys::company(company_id), keys::CONFIG_PREFIX)
            .await?;
        let mut company: Option<CompanyConfig> = None;
        let mut spec = TenantSpec {
            company: CompanyConfig::default(),
            routes: Routes::default(),
            categories: Vec::new(),
            outputs: Vec::new(),
            presets: Vec::new(),
            appointments: None,
        };
        for item in items {
            let sk = item
                .get(keys::SK)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            if sk == keys::COMPANY_CONFIG {
                company = Some(from_config_item(item)?);
            } else if sk == keys::APPOINTMENTS_CONFIG {
                spec.appointments = Some(from_config_item(item)?);
            } else if sk.starts_with(keys::CATEGORY_PREFIX) {
                spec.categories.push(from_config_item(item)?);
            } else if sk.starts_with(keys::OUTPUT_PREFIX) {
                spec.outputs.push(from_config_item(item)?);
            } else if sk.starts_with(keys::PRESET_PREFIX) {
                spec.presets.push(from_config_item(item)?);
            } else if let Some(agent) = sk.strip_prefix(&format!("{}AGENT#", keys::ROUTE_MIRROR_PREFIX)) {
                spec.routes.agents.push(agent.to_string());
            } else if let Some(phone) = sk.strip_prefix(&format!("{}PHONE#", keys::ROUTE_MIRROR_PREFIX)) {
                spec.routes.phones.push(phone.to_string());
            }
        }
        Ok(company.map(|company| TenantSpec { company, ..spec }))
    }

    /// Plans `desired` against what is stored and writes it; returns the changes (no validation:
    /// the operator CLI validates first).
    pub async fn apply_spec(&self, desired: &TenantSpec) -> Result<Vec<Change>, StoreError> {
        let current = self.load_spec(&desired.company.company_id).await?;
        let changes = gateway_domain::tenancy::plan::plan(current.as_ref(), desired);
        self.apply_changes(desired, &changes).await?;
        Ok(changes)
    }

    /// Writes the changes of a plan for `desired`. Route writes are conditional, so a route
    /// taken by another company in the meantime is refused rather than stolen.
    pub async fn apply_changes(&self, desired: &TenantSpec, changes: &[Change]) -> Result<(), StoreError> {
        let company_id = &desired.company.company_id;
        let pk = keys::company(company_id);
        for change in changes {
            let remove = change.kind == ChangeKind::Remove;
            match &change.item {
                ItemRef::Company if remove => self.delete(Self::key(pk.clone(), keys::COMPANY_CONFIG.into())).await?,
                ItemRef::Company => {
                    self.put_config(&pk, keys::COMPANY_CONFIG.into(), &desired.company)
                        .await?
                }
                ItemRef::Appointments => {
                    let sk = keys::APPOINTMENTS_CONFIG.to_string();
                    match &desired.appointments {
                        Some(a) if !remove => self.put_config(&pk, sk, a).await?,
                        _ => self.delete(Self::key(pk.clone(), sk)).await?,
                    }
                }
                ItemRef::Category(slug) => {
                    let sk = keys::category(slug);
                    match desired.categories.iter().find(|c| &c.slug == slug) {
                        Some(c) if !remove => self.put_config(&pk, sk, c).await?,
                        _ => self.delete(Self::key(pk.clone(), sk)).await?,
                    }
                }
                ItemRef::Output(id) => {
                    let sk = keys::output(id);
                    match desired.outputs.iter().find(|o| &o.id == id) {
                        Some(o) if !remove => self.put_config(&pk, sk, o).await?,
                        _ => self.delete(Self::key(pk.clone(), sk)).await?,
                    }
                }
                ItemRef::Preset(slug) => {
                    let sk = keys::preset(slug);
                    match desired.presets.iter().find(|p| &p.slug == slug) {
                        Some(p) if !remove => self.put_config(&pk, sk, p).await?,
                        _ => self.delete(Self::key(pk.clone(), sk)).await?,
                    }
                }
                ItemRef::Route(route) if remove => self.remove_route(company_id, route).await?,
                ItemRef::Route(route) => self.claim_route(company_id, route).await?,
            }
        }
        Ok(())
    }

    async fn put_config<T: serde::Serialize>(&self, pk: &str, sk: String, value: &T) -> Result<(), StoreError> {
        let mut item = to_item(value)?;
        item.extend(Self::key(pk.to_string(), sk));
        self.put(item).await
    }

    async fn delete(&self, key: Item) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .send()
            .await
            .map_err(|e| unavailable("delete item", e))?;
        Ok(())
    }

    async fn claim_route(&self, company_id: &CompanyId, route: &RouteKey) -> Result<(), StoreError> {
        let mut item = Self::key(keys::route(route), keys::ROUTE_SK.into());
        item.insert("company_id".into(), s(company_id.as_str()));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR company_id = :c")
            .expression_attribute_values(":c", s(company_id.as_str()))
            .send()
            .await;
        match res {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                return Err(StoreError::Corrupt(format!(
                    "{} is routed to another company",
                    ItemRef::Route(route.clone())
                )));
            }
            Err(e) => return Err(unavailable("put route", e)),
        }
        let mut mirror = Self::key(keys::company(company_id), keys::route_mirror(route));
        mirror.insert("company_id".into(), s(company_id.as_str()));
        self.put(mirror).await
    }

    async fn remove_route(&self, company_id: &CompanyId, route: &RouteKey) -> Result<(), StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::route(route), keys::ROUTE_SK.into())))
            .condition_expression("attribute_not_exists(PK) OR company_id = :c")
            .expression_attribute_values(":c", s(company_id.as_str()))
            .send()
            .await;
        match res {
            Ok(_) => {}
            // Owned by someone else now: only our copy goes.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) => {}
            Err(e) => return Err(unavailable("delete route", e)),
        }
        self.delete(Self::key(keys::company(company_id), keys::route_mirror(route)))
            .await
    }
}

#[async_trait]
impl ConfigStore for DynamoStore {
    async fn company_for(&self, route: &RouteKey) -> Result<Option<CompanyId>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(keys::route(route), keys::ROUTE_SK.into())))
            .send()
            .await
            .map_err(|e| unavailable("get route", e))?;
        Ok(out.item.and_then(|i| {
            i.get("company_id")
                .and_then(|v| v.as_s().ok().map(|c| CompanyId::new(c.as_str())))
        }))
    }

    async fn tenant(&self, company_id: &CompanyId) -> Result<Option<Tenant>, StoreError> {
        // The document was validated when it was applied; one that still fails to parse is corrupt.
        self.load_spec(company_id)
            .await?
            .map(|spec| {
                spec.tenant()
                    .map_err(|e| StoreError::Corrupt(format!("tenant {company_id}: {e}")))
            })
            .transpose()
    }
}
