//! Connection limits: total and per client address.
//!
//! [`serve`](crate::serve) and [`serve_app`](crate::serve_app) take a slot
//! when they accept a TCP connection, so a socket that never sends a
//! request counts like any other. A peer on such a connection shares its
//! slot; a peer on a connection nobody counted (an application's own
//! `axum::serve`) takes its own at the upgrade.

use parking_lot::Mutex;
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};
use xws::{Limits, Reject};

/// Counts open connections.
#[derive(Debug)]
pub(crate) struct Admission {
    max: usize,
    max_per_ip: Option<usize>,
    ipv6_prefix_len: u8,
    open: AtomicUsize,
    /// Connections per client network (see [`Limits::network_of`]).
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// Set while the total limit refuses connections, so that is logged
    /// once per episode, not once per refusal.
    saturated: AtomicBool,
    /// Whether the per-IP limit was found unenforceable (logged once).
    unknown_address_logged: AtomicBool,
}

/// Slots taken in the limits; dropping it frees them.
#[derive(Debug)]
pub(crate) struct Permit {
    admission: Arc<Admission>,
    /// Counted in the total.
    total: bool,
    /// The client network counted, if any.
    network: Option<IpAddr>,
}

/// A TCP connection's permit, put in its requests' extensions by `serve`.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionPermit(pub(crate) Arc<Permit>);

/// What one peer (WebSocket, SSE stream, fallback session) holds.
#[derive(Debug, Default)]
pub(crate) struct Permits {
    connection: ConnectionSlot,
    /// Boxed: most peers have none (their connection's permit counts
    /// them), and every idle connection would carry its room.
    _own: Option<Box<Permit>>,
}

/// A peer's share of its connection's slot.
#[derive(Debug, Default)]
enum ConnectionSlot {
    #[default]
    None,
    /// Shared with the connection's other requests (hyper's).
    Shared(Arc<Permit>),
    /// The peer alone holds it: no `Arc` kept for every idle connection.
    Owned(#[allow(dead_code, reason = "held for its drop, which frees the slot")] Permit),
}

impl Permits {
    /// Holds the connection's slot without its `Arc` once nothing else
    /// does (a connection upgraded directly by `serve`).
    pub(crate) fn unshare(&mut self) {
        if let ConnectionSlot::Shared(shared) = std::mem::take(&mut self.connection) {
            self.connection = match Arc::try_unwrap(shared) {
                Ok(permit) => ConnectionSlot::Owned(permit),
                Err(shared) => ConnectionSlot::Shared(shared),
            };
        }
    }
}

impl Admission {
    pub(crate) fn new(limits: &Limits, ipv6_prefix_len: u8) -> Self {
        Self {
            max: limits.max_connections,
            max_per_ip: limits.max_connections_per_ip,
            ipv6_prefix_len: ipv6_prefix_len.min(128),
            open: AtomicUsize::new(0),
            per_ip: Mutex::default(),
            saturated: AtomicBool::new(false),
            unknown_address_logged: AtomicBool::new(false),
        }
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Takes a slot in the total, and one for `ip` when there is a per-IP
    /// limit: 503 when the server is full, 429 when this client is.
    pub(crate) fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Permit, Reject> {
        let admitted = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max).then_some(open + 1)
            });
        if admitted.is_err() {
            if !self.saturated.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    max_connections = self.max,
                    "connection limit reached: refusing new connections with 503"
                );
            }
            return Err(Reject::server_full());
        }
        if self.saturated.swap(false, Ordering::Relaxed) {
            tracing::info!("below the connection limit again");
        }
        let mut permit = Permit {
            admission: Arc::clone(self),
            total: true,
            network: None,
        };
        if let Some(ip) = ip {
            // Dropping `permit` on refusal frees its total slot.
            permit.network = self.count_network(ip)?;
        }
        Ok(permit)
    }

    /// Takes a slot for `ip` only: the client behind a proxy whose
    /// connection is counted already.
    pub(crate) fn admit_ip(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Reject> {
        let network = self.count_network(ip)?;
        Ok(Permit {
            admission: Arc::clone(self),
            total: false,
            network,
        })
    }

    /// The permits of a peer whose client is `client`, on a connection
    /// holding `connection` (counted at accept) or not.
    pub(crate) fn admit_peer(
        self: &Arc<Self>,
        client: Option<IpAddr>,
        connection: Option<ConnectionPermit>,
    ) -> Result<Permits, Reject> {
        // A connection counted by another server's limits counts nothing here.
        let connection = connection
            .map(|ConnectionPermit(permit)| permit)
            .filter(|permit| Arc::ptr_eq(&permit.admission, self));
        let needs_ip = self.max_per_ip.is_some();
        if needs_ip && client.is_none() {
            return Err(self.unknown_address());
        }
        let own = match &connection {
            // Counted at accept, per client too unless from a trusted proxy.
            Some(permit) if permit.network.is_some() || !needs_ip => None,
            Some(_) => client.map(|ip| self.admit_ip(ip)).transpose()?,
            None => Some(self.admit(client)?),
        };
        Ok(Permits {
            connection: connection.map_or(ConnectionSlot::None, ConnectionSlot::Shared),
            _own: own.map(Box::new),
        })
    }

    /// Counts one connection from `ip`'s network, if there is a per-IP limit.
    fn count_network(&self, ip: IpAddr) -> Result<Option<IpAddr>, Reject> {
        let Some(max) = self.max_per_ip else {
            return Ok(None);
        };
        let network = Limits::network_of(ip, self.ipv6_prefix_len);
        let mut per_ip = self.per_ip.lock();
        let count = per_ip.entry(network).or_default();
        if *count >= max {
            drop(per_ip);
            tracing::debug!(%network, max, "per-IP connection limit: refused with 429");
            return Err(Reject::too_many_from_address());
        }
        *count += 1;
        Ok(Some(network))
    }

    /// A per-IP limit without the client's address cannot be enforced:
    /// refuse rather than let every connection through.
    fn unknown_address(&self) -> Reject {
        if !self.unknown_address_logged.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "max_connections_per_ip is set but the client's address is unknown, so every \
                 connection is refused with 500: serve with xws_tokio::serve or \
                 xws_tokio::serve_app, or give axum::serve \
                 `app.into_make_service_with_connect_info::<SocketAddr>()`"
            );
        }
        Reject::new(
            http::StatusCode::INTERNAL_SERVER_ERROR,
            "server misconfigured: the client's address is unknown",
        )
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if self.total {
            self.admission.open.fetch_sub(1, Ordering::AcqRel);
        }
        if let Some(network) = self.network {
            let mut per_ip = self.admission.per_ip.lock();
            if let Some(count) = per_ip.get_mut(&network) {
                *count -= 1;
                if *count == 0 {
                    per_ip.remove(&network);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max: usize, max_per_ip: Option<usize>) -> Arc<Admission> {
        let limits = Limits {
            max_connections: max,
            max_connections_per_ip: max_per_ip,
            ..Limits::default()
        };
        Arc::new(Admission::new(&limits, 64))
    }

    #[test]
    fn a_peer_alone_on_its_connection_holds_the_slot_without_the_arc() {
        let admission = admission(10, None);
        let connection = ConnectionPermit(Arc::new(admission.admit(None).unwrap()));
        let kept_by_the_connection = connection.clone();
        let mut permits = admission.admit_peer(None, Some(connection)).unwrap();
        permits.unshare();
        assert!(matches!(permits.connection, ConnectionSlot::Shared(_)));
        drop(kept_by_the_connection);
        permits.unshare();
        assert!(matches!(permits.connection, ConnectionSlot::Owned(_)));
        assert_eq!(admission.open(), 1, "still counted once");
        drop(permits);
        assert_eq!(admission.open(), 0);
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn limits_total_and_per_ip_and_frees_on_drop() {
        let admission = admission(3, Some(2));
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        let p1 = admission.admit(Some(a)).unwrap();
        let _p2 = admission.admit(Some(a)).unwrap();
        assert_eq!(admission.admit(Some(a)).unwrap_err().status, 429);
        assert_eq!(admission.open(), 2, "a refusal frees its total slot");
        let _p3 = admission.admit(Some(b)).unwrap();
        assert_eq!(admission.admit(Some(b)).unwrap_err().status, 503);
        drop(p1);
        assert_eq!(admission.open(), 2);
        assert!(admission.admit(Some(a)).is_ok());
    }

    #[test]
    fn ipv6_counts_per_network_and_mapped_ipv4_as_ipv4() {
        let admission = admission(100, Some(1));
        let _one = admission.admit(Some(ip("2001:db8:1:2::1"))).unwrap();
        let same_64 = admission.admit(Some(ip("2001:db8:1:2:ffff::9")));
        assert_eq!(same_64.unwrap_err().status, 429);
        assert!(admission.admit(Some(ip("2001:db8:1:3::1"))).is_ok());
        let _v4 = admission.admit(Some(ip("192.0.2.1"))).unwrap();
        let mapped = admission.admit(Some(ip("::ffff:192.0.2.1")));
        assert_eq!(mapped.unwrap_err().status, 429);
        assert_eq!(
            Limits::network_of(ip("2001:db8::1"), 128),
            ip("2001:db8::1")
        );
        assert_eq!(Limits::network_of(ip("2001:db8::1"), 0), ip("::"));
    }

    #[test]
    fn a_peer_shares_its_connections_slot_and_unknown_clients_fail_loudly() {
        let admission = admission(2, Some(1));
        let client = Some(ip("192.0.2.1"));
        let connection = ConnectionPermit(Arc::new(admission.admit(client).unwrap()));
        let peer = admission
            .admit_peer(client, Some(connection.clone()))
            .unwrap();
        assert_eq!(admission.open(), 1, "the peer counts as its connection");
        drop(connection);
        assert_eq!(admission.open(), 1, "the peer keeps the slot");
        drop(peer);
        assert_eq!(admission.open(), 0);

        let refused = admission.admit_peer(None, None).unwrap_err();
        assert_eq!(refused.status, 500);
        assert_eq!(admission.open(), 0);
        let unlimited = self::admission(2, None);
        assert!(unlimited.admit_peer(None, None).is_ok());
    }

    #[test]
    fn behind_a_trusted_proxy_the_client_is_counted_at_the_upgrade() {
        let admission = admission(10, Some(1));
        // Accepted from a trusted proxy: counted in the total only.
        let proxy = || ConnectionPermit(Arc::new(admission.admit(None).unwrap()));
        let alice = Some(ip("198.51.100.1"));
        let _first = admission.admit_peer(alice, Some(proxy())).unwrap();
        let second = admission.admit_peer(alice, Some(proxy()));
        assert_eq!(second.unwrap_err().status, 429);
        assert!(
            admission
                .admit_peer(Some(ip("198.51.100.2")), Some(proxy()))
                .is_ok()
        );

        // Another server's permit counts nothing here.
        let other = self::admission(10, None);
        let foreign = ConnectionPermit(Arc::new(other.admit(None).unwrap()));
        let _peer = admission
            .admit_peer(Some(ip("203.0.113.1")), Some(foreign))
            .unwrap();
        assert_eq!(
            admission.open(),
            2,
            "the first peer's proxy and the foreign-permit peer"
        );
    }
}
