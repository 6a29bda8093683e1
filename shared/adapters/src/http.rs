//! Outbound HTTP with the SSRF guard applied at connect time: every DNS answer is checked and
//! the client connects only to the addresses that passed (no second resolution), so a name
//! that resolves to a private address cannot be reached even after `check_url` accepted it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gateway_domain::ssrf::{UrlPolicy, is_blocked_ip};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

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
                let msg = format!("{host} resolves only to private, loopback or reserved addresses");
                return Err(msg.into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// An HTTP client for untrusted targets: guarded DNS, no redirects, the given timeouts.
pub fn guarded_client(policy: &UrlPolicy, connect: Duration, read: Duration, total: Duration) -> reqwest::Client {
    let allowed_hosts = policy
        .allow_list
        .iter()
        .map(|hp| hp.rsplit_once(':').map_or(hp.as_str(), |(h, _)| h).to_string())
        .collect();
    reqwest::Client::builder()
        .dns_resolver(Arc::new(GuardedResolver { allowed_hosts }))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(connect)
        .read_timeout(read)
        .timeout(total)
        .user_agent(concat!("ServiceGateway/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
