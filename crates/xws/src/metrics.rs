//! What xws counts, under one set of names on every target.
//!
//! xws records through the [`metrics`](https://docs.rs/metrics) facade:
//! nothing is kept or exported until the application installs a recorder
//! (without one every call is a no-op, so a server that does not want
//! metrics does not pay for them). The facade rather than OpenTelemetry
//! because it compiles for wasm32 with no runtime, costs one atomic load
//! when off, and leaves the export to the application: a Prometheus
//! endpoint on Tokio (`xws_tokio::metrics`), structured log lines where a
//! function cannot be scraped (Cloudflare, AWS: [`LogRecorder`]), or an
//! OpenTelemetry bridge of the application's choice.
//!
//! The core records what every adapter's [`Session`](crate::adapter::Session)
//! sees (connections, messages in, the rate and size limits) and the
//! publications made through [`Peer`](crate::Peer) and [`Hub`](crate::Hub);
//! adapters record what only they see (messages out, deliveries, slow
//! readers, latency, broker round trips) with the functions below, so the
//! names and labels are the same everywhere.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `xws_connections_open` | gauge | | connections open now |
//! | `xws_connections_opened_total` | counter | | connections opened |
//! | `xws_connections_closed_total` | counter | `code` | connections closed, by close code |
//! | `xws_messages_in_total`, `xws_bytes_in_total` | counter | | messages from clients (heartbeats included) and their payload bytes |
//! | `xws_messages_out_total`, `xws_bytes_out_total` | counter | | messages queued for clients and their payload bytes |
//! | `xws_publications_total` | counter | `pattern` | publications made on this node |
//! | `xws_deliveries_total` | counter | `pattern` | publications queued for a subscriber on this node (wherever published) |
//! | `xws_drops_total` | counter | `reason` | messages not delivered: `slow_reader`, `rate_limit`, `oversize` |
//! | `xws_publish_delivery_seconds` | histogram | `pattern` | from a publication reaching this node's fan-out to the last local subscriber's queue |
//! | `xws_broker_round_trip_seconds` | histogram | `broker`, `op` | one request to the cross-node broker and its answer |
//! | `xws_deflate_compressions_total`, `xws_deflate_bytes_total` | counter | | messages compressed for permessage-deflate (once per publication, not per subscriber) and their compressed bytes |
//!
//! `pattern` is the topic's first segment and `:*` (`room:lobby` counts as
//! `room:*`; a topic without `:` counts as itself), so the number of series
//! stays bounded by the kinds of topics, not the topics. Broadcasts count
//! under the pattern `*`.

mod log;

pub use log::{LogRecorder, Sample, SampleValue};

use crate::CloseCode;

/// `xws_connections_open`: gauge.
pub const CONNECTIONS_OPEN: &str = "xws_connections_open";
/// `xws_connections_opened_total`: counter.
pub const CONNECTIONS_OPENED: &str = "xws_connections_opened_total";
/// `xws_connections_closed_total{code}`: counter.
pub const CONNECTIONS_CLOSED: &str = "xws_connections_closed_total";
/// `xws_messages_in_total`: counter.
pub const MESSAGES_IN: &str = "xws_messages_in_total";
/// `xws_bytes_in_total`: counter.
pub const BYTES_IN: &str = "xws_bytes_in_total";
/// `xws_messages_out_total`: counter.
pub const MESSAGES_OUT: &str = "xws_messages_out_total";
/// `xws_bytes_out_total`: counter.
pub const BYTES_OUT: &str = "xws_bytes_out_total";
/// `xws_publications_total{pattern}`: counter.
pub const PUBLICATIONS: &str = "xws_publications_total";
/// `xws_deliveries_total{pattern}`: counter.
pub const DELIVERIES: &str = "xws_deliveries_total";
/// `xws_drops_total{reason}`: counter.
pub const DROPS: &str = "xws_drops_total";
/// `xws_publish_delivery_seconds{pattern}`: histogram.
pub const PUBLISH_DELIVERY_SECONDS: &str = "xws_publish_delivery_seconds";
/// `xws_broker_round_trip_seconds{broker,op}`: histogram.
pub const BROKER_ROUND_TRIP_SECONDS: &str = "xws_broker_round_trip_seconds";

/// `xws_deflate_compressions_total`: counter.
pub const DEFLATE_COMPRESSIONS: &str = "xws_deflate_compressions_total";
/// `xws_deflate_bytes_total`: counter.
pub const DEFLATE_BYTES: &str = "xws_deflate_bytes_total";

/// The pattern a broadcast counts under.
pub const BROADCAST_PATTERN: &str = "*";

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The peer's send queue was full (its slow-consumer policy applied).
    SlowReader,
    /// The peer sent faster than its rate limit.
    RateLimit,
    /// The peer sent a message over the size limit.
    Oversize,
}

impl DropReason {
    /// The `reason` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SlowReader => "slow_reader",
            Self::RateLimit => "rate_limit",
            Self::Oversize => "oversize",
        }
    }
}

/// The `pattern` label of `topic`: its first segment and `:*`.
pub fn topic_pattern(topic: &str) -> String {
    match topic.split_once(':') {
        Some((kind, _)) => format!("{kind}:*"),
        None => topic.to_owned(),
    }
}

/// A connection opened.
pub fn connection_opened() {
    ::metrics::counter!(CONNECTIONS_OPENED).increment(1);
    ::metrics::gauge!(CONNECTIONS_OPEN).increment(1.0);
}

/// A connection that [`connection_opened`] counted closed with `code`.
pub fn connection_closed(code: CloseCode) {
    ::metrics::counter!(CONNECTIONS_CLOSED, "code" => code.as_u16().to_string()).increment(1);
    ::metrics::gauge!(CONNECTIONS_OPEN).decrement(1.0);
}

/// A message of `bytes` arrived from a client.
pub fn message_in(bytes: usize) {
    ::metrics::counter!(MESSAGES_IN).increment(1);
    ::metrics::counter!(BYTES_IN).increment(bytes as u64);
}

/// `count` messages of `bytes` in all were queued for clients.
pub fn messages_out(count: u64, bytes: usize) {
    ::metrics::counter!(MESSAGES_OUT).increment(count);
    ::metrics::counter!(BYTES_OUT).increment(bytes as u64);
}

/// One message was compressed for permessage-deflate into `bytes`.
pub fn deflated(bytes: usize) {
    ::metrics::counter!(DEFLATE_COMPRESSIONS).increment(1);
    ::metrics::counter!(DEFLATE_BYTES).increment(bytes as u64);
}

/// A publication to `topic` was made on this node.
pub fn published(topic: &str) {
    ::metrics::counter!(PUBLICATIONS, "pattern" => topic_pattern(topic)).increment(1);
}

/// A publication to `topic` reached `count` local subscribers, its fan-out
/// taking `seconds`. `topic` is [`BROADCAST_PATTERN`] for a broadcast.
pub fn delivered(topic: &str, count: usize, seconds: f64) {
    let pattern = topic_pattern(topic);
    ::metrics::histogram!(PUBLISH_DELIVERY_SECONDS, "pattern" => pattern.clone()).record(seconds);
    ::metrics::counter!(DELIVERIES, "pattern" => pattern).increment(count as u64);
}

/// A publication to `topic` reached `count` local subscribers, on a
/// target whose clock cannot time a fan-out (a Worker's stops during it).
pub fn delivered_untimed(topic: &str, count: usize) {
    ::metrics::counter!(DELIVERIES, "pattern" => topic_pattern(topic)).increment(count as u64);
}

/// `count` messages were not delivered for `reason`.
pub fn dropped(reason: DropReason, count: u64) {
    ::metrics::counter!(DROPS, "reason" => reason.as_str()).increment(count);
}

/// One request to `broker` (`redis`, …) for `op` took `seconds`.
pub fn broker_round_trip(broker: &'static str, op: &'static str, seconds: f64) {
    ::metrics::histogram!(BROKER_ROUND_TRIP_SECONDS, "broker" => broker, "op" => op)
        .record(seconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_keep_the_first_segment() {
        assert_eq!(topic_pattern("room:lobby"), "room:*");
        assert_eq!(topic_pattern("user:42:inbox"), "user:*");
        assert_eq!(topic_pattern("news"), "news");
        assert_eq!(topic_pattern(BROADCAST_PATTERN), "*");
    }
}
