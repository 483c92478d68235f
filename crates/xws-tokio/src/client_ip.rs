//! Who the client is: the TCP peer, or behind a trusted reverse proxy the
//! address that proxy reports in `X-Forwarded-For`.

use http::HeaderMap;
use ipnet::IpNet;
use std::{fmt, net::IpAddr, str::FromStr};

/// The reverse proxies whose `X-Forwarded-For` header is believed: the
/// client of a connection from one of them is the address it forwarded
/// for, not the proxy itself. Empty by default: `X-Forwarded-For` is then
/// ignored, since any client can send one.
///
/// ```
/// use std::net::IpAddr;
/// use xws_tokio::TrustedProxies;
///
/// let proxies: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-forwarded-for", "198.51.100.7, 10.1.2.3".parse().unwrap());
/// let proxy: IpAddr = "127.0.0.1".parse().unwrap();
/// assert_eq!(proxies.client_ip(proxy, &headers), "198.51.100.7".parse::<IpAddr>().unwrap());
/// // A client that is not a trusted proxy cannot claim another address.
/// let stranger: IpAddr = "203.0.113.9".parse().unwrap();
/// assert_eq!(proxies.client_ip(stranger, &headers), stranger);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A trusted proxy list that is not a list of addresses and networks.
#[derive(Debug, thiserror::Error)]
#[error("not an IP address or network (such as 10.0.0.0/8): {0:?}")]
pub struct InvalidProxy(String);

impl TrustedProxies {
    /// Trusts the proxies in these networks (a single address is a /32 or
    /// /128 network).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self(networks.into_iter().collect())
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address for a connection from `peer`: `peer` itself,
    /// unless it is a trusted proxy; then, reading `X-Forwarded-For` from
    /// the right (the entry the nearest proxy added), the first address that
    /// is not a trusted proxy. An entry that is not an address stops the
    /// walk at the last trusted hop, which is then the client.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.contains(client) {
            return client;
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .rev()
            .flat_map(|value| value.as_bytes().rsplit(|&b| b == b','));
        for entry in forwarded {
            let Some(ip) = parse_entry(entry) else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`) as some proxies write it.
fn parse_entry(entry: &[u8]) -> Option<IpAddr> {
    let entry = std::str::from_utf8(entry).ok()?.trim();
    let ip = entry.parse::<IpAddr>().ok().or_else(|| {
        entry
            .parse::<std::net::SocketAddr>()
            .ok()
            .map(|addr| addr.ip())
    })?;
    Some(ip.to_canonical())
}

impl FromStr for TrustedProxies {
    type Err = InvalidProxy;

    /// Comma-separated addresses and networks: `10.0.0.0/8, 127.0.0.1`.
    fn from_str(list: &str) -> Result<Self, InvalidProxy> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidProxy(item.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.0.iter().map(IpNet::to_string).collect();
        f.write_str(&list.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn walks_from_the_right_past_trusted_hops_only() {
        let proxies: TrustedProxies = "10.0.0.0/8, ::1".parse().unwrap();
        let headers = forwarded(&["1.1.1.1, 203.0.113.5", "10.0.0.2"]);
        // The spoofed 1.1.1.1 was written by the client; 203.0.113.5 by the
        // first trusted proxy, which saw it connect.
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &headers),
            ip("203.0.113.5")
        );
        assert_eq!(proxies.client_ip(ip("::1"), &headers), ip("203.0.113.5"));
        assert_eq!(
            proxies.client_ip(ip("192.0.2.1"), &headers),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn ports_mapped_addresses_garbage_and_all_trusted() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let peer = ip("::ffff:10.0.0.1");
        let client = |value: &str| proxies.client_ip(peer, &forwarded(&[value]));
        assert_eq!(client("192.0.2.7:4711"), ip("192.0.2.7"));
        assert_eq!(client("[2001:db8::1]:80"), ip("2001:db8::1"));
        assert_eq!(client("::ffff:192.0.2.8"), ip("192.0.2.8"));
        assert_eq!(client("192.0.2.9, unknown, 10.0.0.3"), ip("10.0.0.3"));
        assert_eq!(client("10.0.0.4, 10.0.0.5"), ip("10.0.0.4"));
        assert_eq!(proxies.client_ip(peer, &HeaderMap::new()), ip("10.0.0.1"));
    }

    #[test]
    fn parses_lists_and_names_what_is_wrong() {
        let proxies: TrustedProxies = " 127.0.0.1 ,fd00::/8,".parse().unwrap();
        assert_eq!(proxies.to_string(), "127.0.0.1/32, fd00::/8");
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        let error = "proxy.local".parse::<TrustedProxies>().unwrap_err();
        assert!(error.to_string().contains("proxy.local"));
        assert!(TrustedProxies::default().is_empty());
    }
}
