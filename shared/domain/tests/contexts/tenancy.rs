//! The configuration cache serves routes and tenants until its TTL passes.

use std::sync::Arc;

use chrono::{Duration, Utc};
use gateway_domain::ids::CompanyId;
use gateway_domain::tenancy::cache::*;
use gateway_domain::tenancy::{ConfigStore, RouteKey};
use gateway_testkit::memory::{FixedClock, MemoryConfigStore};
use std::sync::atomic::Ordering;

#[tokio::test]
async fn serves_from_cache_until_the_ttl_passes() {
    let clock = Arc::new(FixedClock::new(Utc::now()));
    let inner = MemoryConfigStore::default();
    inner.put_route(RouteKey::Agent("a1".into()), &CompanyId::new("c1"));
    let cached = CachedConfigStore::new(inner, clock.clone(), Duration::seconds(60));
    let route = RouteKey::Agent("a1".into());
    assert_eq!(cached.company_for(&route).await.unwrap().as_deref(), Some("c1"));
    assert_eq!(cached.company_for(&route).await.unwrap().as_deref(), Some("c1"));
    assert_eq!(cached.inner().reads.load(Ordering::Relaxed), 1);
    clock.advance(Duration::seconds(61));
    cached.company_for(&route).await.unwrap();
    assert_eq!(cached.inner().reads.load(Ordering::Relaxed), 2);
}
