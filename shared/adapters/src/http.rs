//! Outbound HTTP with the SSRF guard applied at connect time: every DNS answer is checked and
//! the client connects only to the addresses that passed (no second resolution), so a name
//! that resolves to a private address cannot be reached even after `check_url` accepted it.
//! The client fails closed: if it cannot be built exactly so, the function does not start.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gateway_domain::ssrf::{UrlPolicy, is_blocked_ip};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The guard refused every address a name resolves to. Found again by type in a request error's
/// sources, so a refusal is never mistaken for a network failure (or the other way round).
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to private, loopback or reserved addresses")]
pub struct BlockedAddress {
    pub host: String,
}

/// The guarded client could not be built (a broken TLS setup, say): never fall back to an
/// unguarded one.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the SSRF-guarded HTTP client")]
pub struct ClientBuildError(#[source] reqwest::Error);

/// Budgets of one outbound client; every request is also capped by the invocation's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub connect: Duration,
    /// Longest wait for the next bytes.
    pub read: Duration,
    /// The whole request, body included.
    pub total: Duration,
}

struct GuardedResolver {
    /// Host names exempt from the address check (the allow-list, local tests only).
    allowed_hosts: Vec<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let exempt = self.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host));
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = addrs
                .iter()
                .copied()
                .filter(|a| exempt || !is_blocked_ip(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(BlockedAddress { host }) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for untrusted targets: guarded DNS, no redirects, the budget's timeouts.
pub fn guarded_client(policy: &UrlPolicy, budget: Budget) -> Result<reqwest::Client, ClientBuildError> {
    let allowed_hosts = policy
        .allow_list
        .iter()
        .map(|hp| hp.rsplit_once(':').map_or(hp.as_str(), |(h, _)| h).to_string())
        .collect();
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { allowed_hosts }))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(budget.connect)
        .read_timeout(budget.read)
        .timeout(budget.total)
        .user_agent(concat!("ServiceGateway/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(ClientBuildError)
}

/// The guard's refusal among an error's sources, if it is one.
pub fn blocked_address<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a BlockedAddress> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(blocked) = e.downcast_ref::<BlockedAddress>() {
            return Some(blocked);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Budget = Budget {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(2),
        total: Duration::from_secs(2),
    };

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        let resolver = GuardedResolver { allowed_hosts: vec![] };
        let name: Name = "localhost".parse().unwrap();
        let err = resolver
            .resolve(name)
            .await
            .err()
            .expect("loopback answers are dropped");
        assert!(err.to_string().contains("private, loopback or reserved"), "{err}");
        let exempt = GuardedResolver {
            allowed_hosts: vec!["localhost".into()],
        };
        let addrs: Vec<SocketAddr> = exempt.resolve("localhost".parse().unwrap()).await.unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }

    #[tokio::test]
    async fn a_refusal_is_recognised_by_its_type_through_the_request_error() {
        let client = guarded_client(&UrlPolicy::local(vec![]), BUDGET).unwrap();
        let err = client.get("http://localhost:9/").send().await.unwrap_err();
        let blocked = blocked_address(&err).expect("the resolver's refusal is in the error's sources");
        assert_eq!(blocked.host, "localhost");
        // An ordinary connection failure is not a refusal.
        let allowed = guarded_client(&UrlPolicy::local(vec!["localhost:9".into()]), BUDGET).unwrap();
        let err = allowed.get("http://localhost:9/").send().await.unwrap_err();
        assert!(blocked_address(&err).is_none(), "{err:?}");
    }
}
