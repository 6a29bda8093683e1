//! Outbound URL guard against server-side request forgery: https only (http only in local
//! mode), ports 80/443, no credentials in URLs, no internal host names, and no private,
//! loopback, link-local, metadata, CGNAT, documentation or reserved addresses, including IPv4
//! written as a number or hex (the WHATWG parser normalises those) and IPv4-mapped IPv6. The
//! delivery side applies `is_blocked_ip` to every DNS answer and connects to the checked address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Hosts reachable despite the rules, for local tests only (`host:port`, e.g. `127.0.0.1:9000`).
#[derive(Debug, Clone, Default)]
pub struct UrlPolicy {
    pub allow_http: bool,
    pub allow_list: Vec<String>,
}

impl UrlPolicy {
    /// Production rules: https only, no exceptions.
    pub fn strict() -> Self {
        Self::default()
    }

    /// Local mode: http allowed too (addresses are still checked unless allow-listed).
    pub fn local(allow_list: Vec<String>) -> Self {
        Self {
            allow_http: true,
            allow_list,
        }
    }
}

const BLOCKED_NAMES: &[&str] = &[
    "localhost",
    "metadata",
    "metadata.google.internal",
    "instance-data",
    "kubernetes",
    "kubernetes.default",
];
const BLOCKED_SUFFIXES: &[&str] = &[
    ".localhost",
    ".local",
    ".internal",
    ".svc",
    ".cluster.local",
    ".localdomain",
];

/// Checks an outbound URL; the error says what is wrong in words an operator can act on.
pub fn check_url(raw: &str, policy: &UrlPolicy) -> Result<Url, String> {
    if raw.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace()) {
        return Err("URL contains backslashes, spaces or control characters".into());
    }
    let url = Url::parse(raw).map_err(|e| format!("not a valid URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => return Err("must use https (http is only allowed in local mode)".into()),
        other => return Err(format!("scheme '{other}' is not allowed; use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials in the URL are not allowed; use a header".into());
    }
    let host = url.host().ok_or("URL has no host")?;
    let port = url.port_or_known_default().unwrap_or(0);
    let host_port = format!("{}:{port}", url.host_str().unwrap_or_default());
    if policy.allow_list.iter().any(|a| a.eq_ignore_ascii_case(&host_port)) {
        return Ok(url);
    }
    if url.port().is_some_and(|p| p != 80 && p != 443) {
        return Err(format!("port {port} is not allowed; use 443 (or 80 in local mode)"));
    }
    match host {
        Host::Ipv4(ip) => check_ip(IpAddr::V4(ip))?,
        Host::Ipv6(ip) => check_ip(IpAddr::V6(ip))?,
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if BLOCKED_NAMES.contains(&name.as_str()) || BLOCKED_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                return Err(format!("host '{name}' is internal"));
            }
            if !name.contains('.') {
                return Err(format!("host '{name}' is not a public domain name"));
            }
        }
    }
    Ok(url)
}

fn check_ip(ip: IpAddr) -> Result<(), String> {
    if is_blocked_ip(ip) {
        Err(format!("address {ip} is private, loopback, link-local or reserved"))
    } else {
        Ok(())
    }
}

/// Whether an address must never be connected to from the gateway.
pub fn is_blocked_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_blocked_v4(v4),
        IpAddr::V6(v6) => is_blocked_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn is_blocked_v4(ip: Ipv4Addr) -> bool {
    const RANGES: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network"
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // CGNAT
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local, cloud metadata
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // documentation
        ([192, 88, 99, 0], 24),  // 6to4 relay
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // documentation
        ([203, 0, 113, 0], 24),  // documentation
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, broadcast
    ];
    RANGES.iter().any(|(net, prefix)| in_v4(ip, *net, *prefix))
}

fn is_blocked_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_blocked_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) embeds an IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_blocked_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local (incl. AWS fd00:ec2::254)
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard
        || s[0] == 0x2002 // 6to4 can tunnel to private IPv4
        || (s[0..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(url: &str) -> bool {
        check_url(url, &UrlPolicy::strict()).is_err()
    }

    #[test]
    fn the_originals_ssrf_cases_are_blocked() {
        for url in [
            "https://localhost/hook",
            "https://LOCALHOST./hook",
            "https://app.localhost/hook",
            "https://127.0.0.1/hook",
            "https://127.1/hook",
            "https://2130706433/hook",
            "https://0x7f000001/hook",
            "https://0177.0.0.1/hook",
            "https://[::1]/hook",
            "https://[::ffff:127.0.0.1]/hook",
            "https://[::ffff:10.0.0.1]/hook",
            "https://[::ffff:169.254.169.254]/hook",
            "https://10.1.2.3/hook",
            "https://172.16.5.4/hook",
            "https://172.31.255.255/hook",
            "https://192.168.1.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://metadata.google.internal/computeMetadata/v1",
            "https://100.100.100.200/hook",
            "https://[fd00:ec2::254]/hook",
            "https://[fe80::1]/hook",
            "https://kubernetes.default.svc/api",
            "https://kubernetes/api",
            "https://0.0.0.0/hook",
            "https://240.0.0.1/hook",
            "https://[64:ff9b::10.0.0.1]/hook",
            "file:///etc/passwd",
            "gopher://example.com/",
            "ftp://example.com/",
            "https://example.com:8443/hook",
            "https://example.com:22/hook",
            "https://user:pass@example.com/hook",
            "https://example.com\\@evil.com/",
            "http://example.com/hook",
            "https:// example.com/hook",
            "not a url",
        ] {
            assert!(blocked(url), "{url} should be blocked");
        }
    }

    #[test]
    fn public_https_targets_are_allowed() {
        for url in [
            "https://example.atlassian.net/rest/api/3/issue",
            "https://hooks.slack.com/services/T000/B000/XXX",
            "https://93.184.216.34/hook",
            "https://[2606:4700:4700::1111]/hook",
            "https://example.com:443/hook?x=1",
        ] {
            assert!(!blocked(url), "{url} should be allowed");
        }
    }

    #[test]
    fn local_mode_allows_http_and_the_allow_list_only() {
        let local = UrlPolicy::local(vec!["127.0.0.1:9000".into()]);
        assert!(check_url("http://127.0.0.1:9000/sink", &local).is_ok());
        assert!(check_url("http://127.0.0.1:9001/sink", &local).is_err());
        assert!(check_url("http://example.com/hook", &local).is_ok());
        assert!(check_url("http://10.0.0.1/hook", &local).is_err());
    }
}
