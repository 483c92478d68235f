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
//! What is recorded per message and per publication goes through handles
//! registered once per thread and recorder (the facade's advice), keyed by
//! the recorder's address: a test that swaps local recorders should give
//! each its own thread, as `#[test]` does, or keep them all alive.
//!
//! `pattern` is the topic's first segment and `:*` (`room:lobby` counts as
//! `room:*`; a topic without `:` counts as itself), so the number of series
//! stays bounded by the kinds of topics, not the topics. Broadcasts count
//! under the pattern `*`.

mod log;

pub use log::{LogRecorder, Sample, SampleValue};

use ::metrics::{Counter, Gauge, Histogram, Key, Label, Level, Metadata, Recorder};
use std::cell::RefCell;

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
    let stem = pattern_stem(topic);
    if stem.ends_with(':') {
        format!("{stem}*")
    } else {
        stem.to_owned()
    }
}

/// What a topic's pattern is made of, borrowed from it: `room:` for
/// `room:lobby`, `news` for `news`.
fn pattern_stem(topic: &str) -> &str {
    match topic.find(':') {
        Some(colon) => &topic[..=colon],
        None => topic,
    }
}

/// What every metric of xws is recorded with.
static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// The key of an unlabelled metric named by one of the constants above,
/// built and hashed once, at compile time. The facade's own macros do that
/// only for a literal name: given a constant they hash it on every call,
/// which was ~8% of the echo path's instructions with no recorder at all.
macro_rules! static_key {
    ($name:expr) => {{
        static KEY: Key = Key::from_static_name($name);
        &KEY
    }};
}

/// Handles to what is recorded per message and per publication, kept per
/// thread for the recorder they came from. Registering by key on every call
/// is a lookup in the recorder, and for a labelled key an allocation: with
/// the Prometheus recorder that was ~18% of a chat-room delivery's
/// instructions. The facade hands out handles to be held for this.
struct Handles {
    /// The recorder the handles belong to (its address): another one, such
    /// as a test's local recorder, gets handles of its own.
    recorder: usize,
    messages_in: Counter,
    bytes_in: Counter,
    messages_out: Counter,
    bytes_out: Counter,
    /// By [`pattern_stem`], so that a lookup allocates nothing; searched
    /// in order, as an application has a few kinds of topics (hashing the
    /// stem cost more than comparing it with each).
    patterns: Vec<(Box<str>, PatternHandles)>,
}

/// The metrics labelled with one topic pattern.
struct PatternHandles {
    publications: Counter,
    deliveries: Counter,
    delivery_seconds: Histogram,
}

/// Patterns with cached handles, at most; the others register on each call
/// (the label's cardinality is the application's, see the module's notes).
const CACHED_PATTERNS: usize = 64;

thread_local! {
    static HANDLES: RefCell<Option<Handles>> = const { RefCell::new(None) };
}

impl Handles {
    fn register(recorder: &dyn Recorder, id: usize) -> Self {
        let counter = |key: &'static Key| recorder.register_counter(key, &METADATA);
        Self {
            recorder: id,
            messages_in: counter(static_key!(MESSAGES_IN)),
            bytes_in: counter(static_key!(BYTES_IN)),
            messages_out: counter(static_key!(MESSAGES_OUT)),
            bytes_out: counter(static_key!(BYTES_OUT)),
            patterns: Vec::new(),
        }
    }

    /// The handles of `topic`'s pattern, registered on first use.
    fn pattern(&mut self, recorder: &dyn Recorder, topic: &str) -> &PatternHandles {
        let stem = pattern_stem(topic);
        let index = match self.patterns.iter().position(|(s, _)| **s == *stem) {
            Some(index) => index,
            None => {
                if self.patterns.len() >= CACHED_PATTERNS {
                    self.patterns.clear();
                }
                let handles = PatternHandles::register(recorder, topic);
                self.patterns.push((stem.into(), handles));
                self.patterns.len() - 1
            }
        };
        &self.patterns[index].1
    }
}

impl PatternHandles {
    fn register(recorder: &dyn Recorder, topic: &str) -> Self {
        let key = |name: &'static str| {
            Key::from_parts(name, vec![Label::new("pattern", topic_pattern(topic))])
        };
        Self {
            publications: recorder.register_counter(&key(PUBLICATIONS), &METADATA),
            deliveries: recorder.register_counter(&key(DELIVERIES), &METADATA),
            delivery_seconds: recorder
                .register_histogram(&key(PUBLISH_DELIVERY_SECONDS), &METADATA),
        }
    }
}

/// Runs `record` with the current recorder's handles.
fn with_handles(record: impl FnOnce(&dyn Recorder, &mut Handles)) {
    ::metrics::with_recorder(|recorder| {
        let id = std::ptr::from_ref(recorder).cast::<()>() as usize;
        HANDLES.with(|handles| {
            // Only a recorder that records from inside a registration could
            // find them borrowed: it gets fresh handles.
            let Ok(mut handles) = handles.try_borrow_mut() else {
                return record(recorder, &mut Handles::register(recorder, id));
            };
            let handles = match &mut *handles {
                Some(handles) if handles.recorder == id => handles,
                slot => slot.insert(Handles::register(recorder, id)),
            };
            record(recorder, handles);
        });
    });
}

/// The counter `key` in the installed recorder (a no-op without one).
fn counter(key: &'static Key) -> Counter {
    ::metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA))
}

/// The gauge `key` in the installed recorder (a no-op without one).
fn gauge(key: &'static Key) -> Gauge {
    ::metrics::with_recorder(|recorder| recorder.register_gauge(key, &METADATA))
}

/// A connection opened.
pub fn connection_opened() {
    counter(static_key!(CONNECTIONS_OPENED)).increment(1);
    gauge(static_key!(CONNECTIONS_OPEN)).increment(1.0);
}

/// A connection that [`connection_opened`] counted closed with `code`.
pub fn connection_closed(code: CloseCode) {
    ::metrics::counter!(CONNECTIONS_CLOSED, "code" => code.as_u16().to_string()).increment(1);
    gauge(static_key!(CONNECTIONS_OPEN)).decrement(1.0);
}

/// A message of `bytes` arrived from a client.
pub fn message_in(bytes: usize) {
    with_handles(|_, handles| {
        handles.messages_in.increment(1);
        handles.bytes_in.increment(bytes as u64);
    });
}

/// `count` messages of `bytes` in all were queued for clients.
pub fn messages_out(count: u64, bytes: usize) {
    with_handles(|_, handles| {
        handles.messages_out.increment(count);
        handles.bytes_out.increment(bytes as u64);
    });
}

/// One message was compressed for permessage-deflate into `bytes`.
pub fn deflated(bytes: usize) {
    counter(static_key!(DEFLATE_COMPRESSIONS)).increment(1);
    counter(static_key!(DEFLATE_BYTES)).increment(bytes as u64);
}

/// A publication to `topic` was made on this node.
pub fn published(topic: &str) {
    with_handles(|recorder, handles| {
        handles.pattern(recorder, topic).publications.increment(1);
    });
}

/// A publication to `topic` reached `count` local subscribers, its fan-out
/// taking `seconds`. `topic` is [`BROADCAST_PATTERN`] for a broadcast.
pub fn delivered(topic: &str, count: usize, seconds: f64) {
    with_handles(|recorder, handles| {
        let pattern = handles.pattern(recorder, topic);
        pattern.delivery_seconds.record(seconds);
        pattern.deliveries.increment(count as u64);
    });
}

/// A publication to `topic` reached `count` local subscribers, on a
/// target whose clock cannot time a fan-out (a Worker's stops during it).
pub fn delivered_untimed(topic: &str, count: usize) {
    with_handles(|recorder, handles| {
        handles
            .pattern(recorder, topic)
            .deliveries
            .increment(count as u64);
    });
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
    use crate::metrics::{LogRecorder, SampleValue};

    #[test]
    fn patterns_keep_the_first_segment() {
        assert_eq!(topic_pattern("room:lobby"), "room:*");
        assert_eq!(topic_pattern("user:42:inbox"), "user:*");
        assert_eq!(topic_pattern("news"), "news");
        assert_eq!(topic_pattern(BROADCAST_PATTERN), "*");
        assert_eq!(topic_pattern("news:"), "news:*");
    }

    /// The counters of `recorder`'s samples by name and `pattern` label.
    fn counted(recorder: &LogRecorder) -> Vec<(String, String, u64)> {
        let mut counted: Vec<_> = recorder
            .drain()
            .into_iter()
            .filter_map(|sample| {
                let SampleValue::Counter(value) = sample.value else {
                    return None;
                };
                let pattern = sample.labels.into_iter().map(|(_, v)| v).collect();
                Some((sample.name, pattern, value))
            })
            .collect();
        counted.sort();
        counted
    }

    #[test]
    fn cached_handles_count_into_the_recorder_in_use_under_the_right_pattern() {
        let (first, second) = (LogRecorder::default(), LogRecorder::default());
        ::metrics::with_local_recorder(&first, || {
            message_in(3);
            published("room:a");
            published("room:b");
            delivered("news", 2, 0.001);
        });
        ::metrics::with_local_recorder(&second, || message_in(5));
        ::metrics::with_local_recorder(&first, || published("room:c"));
        let row = |name: &str, pattern: &str, value| (name.to_owned(), pattern.to_owned(), value);
        assert_eq!(
            counted(&first),
            [
                row(BYTES_IN, "", 3),
                row(DELIVERIES, "news", 2),
                row(MESSAGES_IN, "", 1),
                row(PUBLICATIONS, "room:*", 3),
            ]
        );
        assert_eq!(
            counted(&second),
            [row(BYTES_IN, "", 5), row(MESSAGES_IN, "", 1)]
        );
    }

    #[test]
    fn more_patterns_than_are_cached_are_all_counted() {
        let recorder = LogRecorder::default();
        let topics = 2 * CACHED_PATTERNS;
        ::metrics::with_local_recorder(&recorder, || {
            for round in 0..2 {
                for kind in 0..topics {
                    published(&format!("kind{kind}:{round}"));
                }
            }
        });
        let counted = counted(&recorder);
        assert_eq!(counted.len(), topics);
        assert!(
            counted.iter().all(|(_, _, value)| *value == 2),
            "{counted:?}"
        );
    }
}
