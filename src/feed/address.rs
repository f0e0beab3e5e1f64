//! Which addresses parley may connect to because of what a feed says.
//!
//! A feed is content from outside: its item links (fetched with `fetch_article`), its
//! redirects and the robots.txt of those hosts would otherwise let any feed make parley
//! request loopback services (parley's own API on 127.0.0.1:7878), the cloud metadata
//! address 169.254.169.254 or the private network it runs in. So every such request must
//! reach a public address, checked on the address actually connected to: the HTTP client's
//! resolver ([`PolicyResolver`]) drops refused addresses at connect time, so a name that
//! resolves to a public address once and to a private one later (DNS rebinding) still
//! cannot get through, and an IP literal (which never goes through a resolver) is checked by
//! [`AddressPolicy::check_url`] before the request and in the redirect policy.
//!
//! The feed URLs the operator configured are trusted as written (an intranet feed is the
//! operator's choice): their hosts are resolved without the policy, and a redirect that stays
//! on a configured feed's origin is followed. Redirects elsewhere, item links and robots.txt
//! are not trusted, whatever host they name. Networks in `[daemon] allow_networks` are opened
//! on purpose.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The address policy of one configuration: the networks opened on purpose and the
/// configured feeds, trusted as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    /// `[daemon] allow_networks`: ranges the operator opened.
    pub allow: Vec<IpNet>,
    /// Origins (`scheme://host:port`) of the configured feed URLs: a feed's redirect that
    /// stays on one of them is followed as written.
    pub trusted_origins: HashSet<String>,
    /// Host names of the configured feed URLs, lower-cased: the feed client resolves them
    /// without the policy (the page client trusts no name).
    pub trusted_names: HashSet<String>,
}

/// Every refusal reason, in the label order of `parley_fetch_refused_total{reason}`.
pub const REASONS: [&str; 8] = [
    "loopback",
    "link_local",
    "private",
    "shared",
    "multicast",
    "unspecified",
    "broadcast",
    "reserved",
];

/// A refused fetch: why, as the bounded label of `parley_fetch_refused_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused by the address policy: {reason} address {addr} (set [daemon] allow_networks to open it)"
)]
pub struct Refused {
    /// The class of address: `loopback`, `link_local`, `private`, `shared` (CGNAT),
    /// `multicast`, `unspecified`, `broadcast`, `reserved`.
    pub reason: &'static str,
    /// The address refused.
    pub addr: IpAddr,
}

impl AddressPolicy {
    /// Why `ip` may not be connected to for feed content, or `None` when it is public (or
    /// in an allowed network).
    pub fn refusal(&self, ip: IpAddr) -> Option<Refused> {
        if self.allow.iter().any(|net| net.contains(&ip)) {
            return None;
        }
        let reason = match ip {
            IpAddr::V4(v4) => v4_class(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                // ::ffff:a.b.c.d is a.b.c.d on the wire.
                Some(v4) => {
                    if self.allow.iter().any(|net| net.contains(&IpAddr::V4(v4))) {
                        return None;
                    }
                    v4_class(v4)
                }
                None => v6_class(v6),
            },
        };
        reason.map(|reason| Refused { reason, addr: ip })
    }

    /// The policy for the configured feeds `urls` and the networks `allow`.
    pub fn new<'a>(allow: Vec<IpNet>, urls: impl IntoIterator<Item = &'a Url>) -> AddressPolicy {
        let mut policy = AddressPolicy {
            allow,
            ..AddressPolicy::default()
        };
        for url in urls {
            policy
                .trusted_origins
                .insert(url.origin().ascii_serialization());
            if let Some(Host::Domain(name)) = url.host() {
                policy.trusted_names.insert(name.to_ascii_lowercase());
            }
        }
        policy
    }

    /// The check before a request whose URL came from feed content (an item link, a
    /// robots.txt, a redirect target): an IP literal must be allowed; a name is checked by
    /// the resolver when the connection is made. With `from_feed`, a redirect target on a
    /// configured feed's origin is trusted as the feed is.
    pub fn check_url(&self, url: &Url, from_feed: bool) -> Result<(), Refused> {
        if from_feed
            && self
                .trusted_origins
                .contains(&url.origin().ascii_serialization())
        {
            return Ok(());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        self.refusal(ip).map_or(Ok(()), Err)
    }
}

fn v4_class(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_link_local() {
        "link_local"
    } else if ip.is_private() {
        "private"
    } else if a == 100 && (64..128).contains(&b) {
        // 100.64.0.0/10, carrier-grade NAT (RFC 6598).
        "shared"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_unspecified() || a == 0 {
        "unspecified"
    } else if ip.is_broadcast() {
        "broadcast"
    } else if a >= 240 {
        "reserved"
    } else {
        return None;
    })
}

fn v6_class(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_loopback() {
        "loopback"
    } else if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_unicast_link_local() {
        "link_local"
    } else if first & 0xfe00 == 0xfc00 {
        // fc00::/7, unique local (RFC 4193): IPv6's private ranges.
        "private"
    } else if first & 0xffc0 == 0xfec0 {
        // fec0::/10, the deprecated site-local range.
        "private"
    } else if let Some(v4) = ip.to_ipv4() {
        // ::a.b.c.d (IPv4-compatible, deprecated) carries an IPv4 address too.
        return v4_class(v4);
    } else {
        return None;
    })
}

/// An HTTP client's resolver: the system's answer, less every address the policy refuses.
/// Runs for every new connection, so the address checked is the one connected to.
#[derive(Debug, Clone)]
pub struct PolicyResolver {
    policy: Arc<AddressPolicy>,
    /// The feed client's: configured feed host names resolve without the policy.
    trust_feed_names: bool,
}

impl PolicyResolver {
    /// A resolver enforcing `policy` (except, with `trust_feed_names`, for the names of
    /// configured feeds).
    pub fn new(policy: Arc<AddressPolicy>, trust_feed_names: bool) -> PolicyResolver {
        PolicyResolver {
            policy,
            trust_feed_names,
        }
    }
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let trust = self.trust_feed_names;
        Box::pin(async move {
            let host = name.as_str().to_ascii_lowercase();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if trust && policy.trusted_names.contains(&host) {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match policy.refusal(a.ip()) {
                    Some(r) => {
                        refused.get_or_insert(r);
                        false
                    }
                    None => true,
                })
                .collect();
            match (allowed.is_empty(), refused) {
                (true, Some(r)) => Err(Box::new(r) as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

/// The policy's refusal somewhere in an error's source chain (reqwest wraps the resolver's
/// error in its own), for counting and logging it as such.
pub fn refused_in(error: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(*r);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(policy: &AddressPolicy, ip: &str) -> Option<&'static str> {
        policy.refusal(ip.parse().unwrap()).map(|r| r.reason)
    }

    #[test]
    fn non_public_addresses_are_refused_and_public_ones_pass() {
        // Every class the issue names, in IPv4, IPv6 and IPv4-mapped form, is refused.
        let p = AddressPolicy::default();
        for (ip, reason) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("169.254.169.254", "link_local"),
            ("::ffff:169.254.169.254", "link_local"),
            ("fe80::1", "link_local"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("::ffff:192.168.1.1", "private"),
            ("fd00::1", "private"),
            ("fc00::1", "private"),
            ("100.64.0.1", "shared"),
            ("100.127.255.254", "shared"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("255.255.255.255", "broadcast"),
        ] {
            assert_eq!(refused(&p, ip), Some(reason), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
        ] {
            assert_eq!(refused(&p, ip), None, "{ip}");
        }
    }

    #[test]
    fn allowed_networks_open_their_ranges_only() {
        // allow_networks opens exactly the ranges given, mapped forms included.
        let p = AddressPolicy {
            allow: vec!["10.0.0.0/8".parse().unwrap(), "fd12::/16".parse().unwrap()],
            ..AddressPolicy::default()
        };
        assert_eq!(refused(&p, "10.9.8.7"), None);
        assert_eq!(refused(&p, "::ffff:10.9.8.7"), None);
        assert_eq!(refused(&p, "fd12::5"), None);
        assert_eq!(refused(&p, "192.168.0.1"), Some("private"));
        assert_eq!(refused(&p, "127.0.0.1"), Some("loopback"));
    }

    #[test]
    fn literal_urls_are_checked_and_only_a_feeds_own_origin_is_trusted() {
        // IP literals never reach a resolver, so the URL check must catch them; a redirect on
        // a configured feed's origin is trusted, an item link there is not, nor another port.
        let feed = Url::parse("http://127.0.0.1:9/f").unwrap();
        let p = AddressPolicy::new(Vec::new(), [&feed]);
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(p.check_url(&url("http://127.0.0.1:9/moved"), true).is_ok());
        assert_eq!(
            p.check_url(&url("http://127.0.0.1:9/story"), false)
                .unwrap_err()
                .reason,
            "loopback"
        );
        assert_eq!(
            p.check_url(&url("http://127.0.0.1:7878/api/v1/events"), true)
                .unwrap_err()
                .reason,
            "loopback"
        );
        assert_eq!(
            p.check_url(&url("http://169.254.169.254/latest/meta-data"), true)
                .unwrap_err()
                .reason,
            "link_local"
        );
        assert_eq!(
            p.check_url(&url("http://[::ffff:7f00:2]/"), false)
                .unwrap_err()
                .reason,
            "loopback"
        );
        assert!(
            p.check_url(&url("https://example.org/story"), false)
                .is_ok()
        );
    }
}
