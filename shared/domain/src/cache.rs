//! A read-through cache for routes and tenant configuration, so a warm function answers a
//! webhook without reading configuration from the database. Entries live for a short TTL, so a
//! change applied by an operator reaches every function within that time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::error::StoreError;
use crate::ports::{Clock, ConfigStore};
use crate::tenant::{RouteKey, Tenant};

type Entry<T> = (DateTime<Utc>, T);

pub struct CachedConfigStore<S> {
    inner: S,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    routes: Mutex<HashMap<RouteKey, Entry<Option<String>>>>,
    tenants: Mutex<HashMap<String, Entry<Option<Tenant>>>>,
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
    async fn company_for(&self, route: &RouteKey) -> Result<Option<String>, StoreError> {
        if let Some(hit) = self.fresh(&self.routes, route) {
            return Ok(hit);
        }
        let value = self.inner.company_for(route).await?;
        self.store(&self.routes, route.clone(), value.clone());
        Ok(value)
    }

    async fn tenant(&self, company_id: &str) -> Result<Option<Tenant>, StoreError> {
        if let Some(hit) = self.fresh(&self.tenants, &company_id.to_string()) {
            return Ok(hit);
        }
        let value = self.inner.tenant(company_id).await?;
        self.store(&self.tenants, company_id.to_string(), value.clone());
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{FixedClock, MemoryConfigStore};
    use std::sync::atomic::Ordering;

    #[tokio::test]
    async fn serves_from_cache_until_the_ttl_passes() {
        let clock = Arc::new(FixedClock::new(Utc::now()));
        let inner = MemoryConfigStore::default();
        inner.put_route(RouteKey::Agent("a1".into()), "c1");
        let cached = CachedConfigStore::new(inner, clock.clone(), Duration::seconds(60));
        let route = RouteKey::Agent("a1".into());
        assert_eq!(cached.company_for(&route).await.unwrap().as_deref(), Some("c1"));
        assert_eq!(cached.company_for(&route).await.unwrap().as_deref(), Some("c1"));
        assert_eq!(cached.inner.reads.load(Ordering::Relaxed), 1);
        clock.advance(Duration::seconds(61));
        cached.company_for(&route).await.unwrap();
        assert_eq!(cached.inner.reads.load(Ordering::Relaxed), 2);
    }
}
