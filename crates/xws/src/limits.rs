//! Limits every adapter enforces, with safe defaults.

use serde::{Deserialize, Serialize};
use std::{net::IpAddr, time::Duration};

/// Per-connection and per-server limits.
///
/// | limit | default | on breach |
/// |---|---|---|
/// | `max_message_size` | 64 KiB | close 1009 |
/// | `rate` | 1,000 msg/s, burst 1,000, 100 refusals tolerated | `error` hook per refused message, then close 1008 |
/// | `send_queue` | 1,024 messages | `slow_consumer` policy |
/// | `send_queue_bytes` | 1 MiB | `slow_consumer` policy |
/// | `slow_consumer` | [`SlowConsumer::Close`] | close 1013 |
/// | `heartbeat` | ping every 30 s, close after 30 s without answer | close 1011, `close` hook runs |
/// | `max_connections` | 25,000 | HTTP 503 before the upgrade |
/// | `max_connections_per_ip` | unlimited | HTTP 429 before the upgrade |
/// | `max_topics_per_peer` | 256 | `subscribe` returns [`Error::TooManyTopics`](crate::Error::TooManyTopics) |
///
/// ```
/// use std::time::Duration;
/// use xws::{Limits, RateLimit};
/// let limits = Limits {
///     max_message_size: 16 * 1024,
///     rate: Some(RateLimit::per_second(20)),
///     ..Limits::default()
/// };
/// assert_eq!(limits.send_queue, 1024);
/// assert_eq!(limits.max_topics_per_peer, 256);
/// assert_eq!(limits.heartbeat.unwrap().interval, Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest message accepted from a peer, in bytes (also the largest frame).
    pub max_message_size: usize,
    /// Per-peer rate limit on incoming messages; `None` disables it.
    pub rate: Option<RateLimit>,
    /// Messages queued for one peer before `slow_consumer` applies.
    pub send_queue: usize,
    /// Bytes of payload queued for one peer before `slow_consumer` applies
    /// (a message larger than this is still queued when the queue is empty).
    pub send_queue_bytes: usize,
    /// What happens when a peer's queue is full.
    pub slow_consumer: SlowConsumer,
    /// Protocol-level heartbeat; `None` disables it.
    pub heartbeat: Option<Heartbeat>,
    /// Open connections (WebSocket and SSE) per server.
    pub max_connections: usize,
    /// Open connections per remote IP address; `None` means unlimited.
    pub max_connections_per_ip: Option<usize>,
    /// Topics one peer (or one SSE stream) may be subscribed to at once.
    pub max_topics_per_peer: usize,
}

impl Limits {
    /// The default of [`Limits::max_topics_per_peer`], for configurations
    /// built in `const` contexts.
    pub const DEFAULT_MAX_TOPICS_PER_PEER: usize = 256;

    /// How much of an IPv6 address names one client by default: a /64,
    /// which one customer usually holds whole.
    pub const DEFAULT_IPV6_PREFIX_LEN: u8 = 64;

    /// The key a client's connections count under against
    /// [`max_connections_per_ip`](Self::max_connections_per_ip): an IPv4
    /// address, or the first `ipv6_prefix_len` bits of an IPv6 one.
    /// IPv4-mapped IPv6 addresses count as IPv4.
    ///
    /// ```
    /// use xws::Limits;
    /// let ip = |text: &str| text.parse::<std::net::IpAddr>().unwrap();
    /// assert_eq!(Limits::network_of(ip("2001:db8::1:2"), 64), ip("2001:db8::"));
    /// assert_eq!(Limits::network_of(ip("::ffff:192.0.2.7"), 64), ip("192.0.2.7"));
    /// ```
    pub fn network_of(ip: IpAddr, ipv6_prefix_len: u8) -> IpAddr {
        match ip.to_canonical() {
            IpAddr::V4(v4) => IpAddr::V4(v4),
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let mask = match ipv6_prefix_len {
                    0 => 0,
                    len => u128::MAX << (128 - u32::from(len.min(128))),
                };
                IpAddr::V6((bits & mask).into())
            }
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 64 * 1024,
            rate: Some(RateLimit::default()),
            send_queue: 1024,
            send_queue_bytes: 1024 * 1024,
            slow_consumer: SlowConsumer::Close,
            heartbeat: Some(Heartbeat::default()),
            max_connections: 25_000,
            max_connections_per_ip: None,
            max_topics_per_peer: Self::DEFAULT_MAX_TOPICS_PER_PEER,
        }
    }
}

/// A token bucket: `messages_per_second` sustained, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Sustained messages per second.
    pub messages_per_second: u32,
    /// Bucket size: messages accepted at once after a quiet period.
    pub burst: u32,
    /// Refused messages tolerated before the flood counts as sustained and
    /// the peer is closed with 1008. The count resets once the bucket refills.
    pub tolerance: u32,
}

impl RateLimit {
    /// `n` messages per second with a burst of `n` and a tolerance of `n / 10`.
    pub const fn per_second(n: u32) -> Self {
        Self {
            messages_per_second: n,
            burst: n,
            tolerance: if n / 10 == 0 { 1 } else { n / 10 },
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::per_second(1_000)
    }
}

/// What happens to a peer whose outgoing queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlowConsumer {
    /// Close the slow peer with 1013 (Try Again Later): it learns it lost
    /// messages, and nobody else waits for it. The default.
    Close,
    /// Drop the message for this peer only and keep the connection; for
    /// streams where the latest value supersedes earlier ones (metrics).
    DropMessage,
}

/// Protocol ping/pong heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Time between pings.
    pub interval: Duration,
    /// How long a ping may go unanswered (no pong nor any other frame)
    /// before the peer is considered dead.
    pub timeout: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            timeout: Duration::from_secs(30),
        }
    }
}
