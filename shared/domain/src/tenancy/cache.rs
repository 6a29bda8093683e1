//! A read-through cache for routes and tenant configuration, so a warm function answers a
//! webhook without reading configuration from the database. Entries live for a short TTL, so a
//! change applied by an operator reaches every function within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::clock::Clock;
use crate::error::StoreError;
use crate::ids::CompanyId;
use crate::tenancy::{ConfigStore, RouteKey, Tenant};

type Entry<T> = (DateTime<Utc>, T);

pub struct CachedConfigStore<S> {
    inner: S,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    routes: Mutex<HashMap<RouteKey, Entry<Option<CompanyId>>>>,
    tenants: Mutex<HashMap<CompanyId, Entry<Option<Tenant>>>>,
}

impl<S: ConfigStore> CachedConfigStore<S> {
    pub fn new(inner: S, clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self {
            inner,
            clock,
            ttl,
            routes: Mutex::default(),
            tenants: Mutex::default(),
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn fresh<K: std::hash::Hash + Eq, T: Clone>(&self, map: &Mutex<HashMap<K, Entry<T>>>, key: &K) -> Option<T> {
        let now = self.clock.now();
        let map = map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(at, _)| now - *at < self.ttl)
            .map(|(_, v)| v.clone())
    }

    fn store<K: std::hash::Hash + Eq, T>(&self, map: &Mutex<HashMap<K, Entry<T>>>, key: K, value: T) {
        let now = self.clock.now();
        map.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (now, value));
    }
}

#[async_trait]
impl<S: ConfigStore> ConfigStore for CachedConfigStore<S> {
    async fn company_for(&self, route: &RouteKey) -> Result<Option<CompanyId>, StoreError> {
        if let Some(hit) = self.fresh(&self.routes, route) {
            return Ok(hit);
        }
        let value = self.inner.company_for(route).await?;
        self.store(&self.routes, route.clone(), value.clone());
        Ok(value)
    }

    async fn tenant(&self, company_id: &CompanyId) -> Result<Option<Tenant>, StoreError> {
        if let Some(hit) = self.fresh(&self.tenants, company_id) {
            return Ok(hit);
        }
        let value = self.inner.tenant(company_id).await?;
        self.store(&self.tenants, company_id.clone(), value.clone());
        Ok(value)
    }
}
