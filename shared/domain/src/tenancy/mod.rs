//! Tenancy: a company's configuration (settings, routes, categories, outputs, presets) as
//! operators write it, validated and planned before it is applied, and read by every function.

pub mod cache;
pub mod output;
pub mod plan;
pub mod tenant;
pub mod validate;

use async_trait::async_trait;

pub use tenant::{
    Category, CompanyConfig, FallbackMode, GatewayMode, Keyword, RouteKey, Routes, Tenant, TenantError, TenantSpec,
};

use crate::error::StoreError;
use crate::ids::CompanyId;

/// Routes and tenant configuration (read side).
#[async_trait]
pub trait ConfigStore: Send + Sync {
    async fn company_for(&self, route: &RouteKey) -> Result<Option<CompanyId>, StoreError>;
    async fn tenant(&self, company_id: &CompanyId) -> Result<Option<Tenant>, StoreError>;
}
