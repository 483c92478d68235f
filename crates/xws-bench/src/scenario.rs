//! The scenarios, their metrics, and how long each runs in a quick or a full run.

use std::time::Duration;

use crate::load::chat::ChatLoad;
use crate::load::echo::EchoLoad;
use crate::load::fanout::FanoutLoad;

/// One benchmark scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scenario {
    /// 100 connections, 32-byte text messages, each waiting for its echo.
    EchoSmall,
    /// 200 connections, 16 KiB binary messages, each waiting for its echo.
    Echo16k,
    /// Clients of one room sending batches, each message delivered to all others.
    ChatRoom,
    /// 10,000 subscribers on one topic, a steady publish rate.
    Fanout10k,
    /// Server RSS per idle connection at 10,000 connections.
    IdleMemory,
    /// Time to establish 10,000 connections.
    Connect10k,
}

/// Which endpoint of a server a scenario needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Echo of every message.
    Echo,
    /// The chat protocol.
    Chat,
}

impl Scenario {
    /// Every scenario, in the order a server runs them (idle first, on a fresh process).
    pub const ALL: [Self; 6] = [
        Self::IdleMemory,
        Self::Connect10k,
        Self::EchoSmall,
        Self::Echo16k,
        Self::ChatRoom,
        Self::Fanout10k,
    ];

    /// The scenario's name in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::EchoSmall => "echo-small",
            Self::Echo16k => "echo-16k",
            Self::ChatRoom => "chat-room",
            Self::Fanout10k => "fanout-10k",
            Self::IdleMemory => "idle-memory",
            Self::Connect10k => "connect-10k",
        }
    }

    /// Parses a scenario name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scenario| scenario.name() == name)
    }

    /// The endpoint the scenario runs against.
    pub fn role(self) -> Role {
        match self {
            Self::ChatRoom | Self::Fanout10k => Role::Chat,
            _ => Role::Echo,
        }
    }

    /// The metric the chart compares.
    pub fn key_metric(self) -> Metric {
        match self {
            Self::EchoSmall | Self::Echo16k | Self::ChatRoom => Metric::MsgsPerS,
            Self::Fanout10k => Metric::P99Ms,
            Self::IdleMemory => Metric::BytesPerConn,
            Self::Connect10k => Metric::Seconds,
        }
    }
}

/// A measured quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Messages delivered per second.
    MsgsPerS,
    /// Median latency.
    P50Ms,
    /// 99th percentile latency.
    P99Ms,
    /// Largest latency.
    MaxMs,
    /// Messages or connections lost.
    Lost,
    /// Server memory per connection.
    BytesPerConn,
    /// Elapsed time.
    Seconds,
    /// Server CPU time (user + system) per delivered message: steadier than throughput when
    /// other work shares the machine. An addition to the metrics the issue asks for.
    CpuUsPerMsg,
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Self; 8] = [
        Self::MsgsPerS,
        Self::P50Ms,
        Self::P99Ms,
        Self::MaxMs,
        Self::Lost,
        Self::BytesPerConn,
        Self::Seconds,
        Self::CpuUsPerMsg,
    ];

    /// The metric's name in results.
    pub fn name(self) -> &'static str {
        match self {
            Self::MsgsPerS => "msgs_per_s",
            Self::P50Ms => "p50_ms",
            Self::P99Ms => "p99_ms",
            Self::MaxMs => "max_ms",
            Self::Lost => "lost",
            Self::BytesPerConn => "bytes_per_conn",
            Self::Seconds => "seconds",
            Self::CpuUsPerMsg => "cpu_us_per_msg",
        }
    }

    /// Parses a metric name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|metric| metric.name() == name)
    }

    /// The unit of the metric's values.
    pub fn unit(self) -> &'static str {
        match self {
            Self::MsgsPerS => "msg/s",
            Self::P50Ms | Self::P99Ms | Self::MaxMs => "ms",
            Self::Lost => "count",
            Self::BytesPerConn => "bytes",
            Self::Seconds => "s",
            Self::CpuUsPerMsg => "us",
        }
    }

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        self == Self::MsgsPerS
    }
}

/// Sizes and durations of one benchmark run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Passes over all servers; odd passes go in reverse order to cancel drift.
    pub rounds: usize,
    /// `echo-small` load.
    pub echo_small: EchoLoad,
    /// `echo-16k` load.
    pub echo_16k: EchoLoad,
    /// `chat-room` load.
    pub chat_room: ChatLoad,
    /// `fanout-10k` load.
    pub fanout: FanoutLoad,
    /// Connections held for `idle-memory` and timed for `connect-10k`.
    pub idle_connections: usize,
}

impl Plan {
    /// The benchmark of record: under five minutes for five servers.
    pub fn quick() -> Self {
        Self::with_durations(2, Duration::from_secs(3), Duration::from_secs(4))
    }

    /// Longer runs for steadier numbers.
    pub fn full() -> Self {
        Self::with_durations(4, Duration::from_secs(10), Duration::from_secs(10))
    }

    /// The loads as a markdown list, for the record.
    pub fn markdown(&self) -> String {
        let echo = |load: &EchoLoad| {
            format!(
                "{} connections, {} B {} messages, each waiting for its echo, {:?}",
                load.connections,
                load.message_size,
                if load.binary { "binary" } else { "text" },
                load.duration
            )
        };
        format!(
            "- rounds: {} (servers alternate order every round; values are means, `lost` a sum, \
             `max_ms` the largest)\n\
             - echo-small: {}\n- echo-16k: {}\n\
             - chat-room: {} clients in one room, batches of {} per round, {:?}\n\
             - fanout-10k: {} subscribers, one publisher connection in the room sending \
             `send-to-room` at {}/s for {:?}; latency = until the last subscriber has it\n\
             - idle-memory / connect-10k: {} connections, at most {} handshakes in flight; \
             RSS from /proc/PID/status before and 1 s after\n",
            self.rounds,
            echo(&self.echo_small),
            echo(&self.echo_16k),
            self.chat_room.clients,
            self.chat_room.batch,
            self.chat_room.duration,
            self.fanout.subscribers,
            self.fanout.rate_per_s,
            self.fanout.duration,
            self.idle_connections,
            crate::load::connect::CONNECT_CONCURRENCY,
        )
    }

    fn with_durations(rounds: usize, load: Duration, fanout: Duration) -> Self {
        Self {
            rounds,
            echo_small: EchoLoad {
                connections: 100,
                message_size: 32,
                binary: false,
                duration: load,
            },
            echo_16k: EchoLoad {
                connections: 200,
                message_size: 16 * 1024,
                binary: true,
                duration: load,
            },
            chat_room: ChatLoad {
                clients: 32,
                batch: 10,
                duration: load,
            },
            // 5 publications a second keep the offered load (50,000 deliveries/s) below what two
            // shared cores sustain, so the latency is the fan-out's own, not a growing backlog.
            fanout: FanoutLoad {
                subscribers: 10_000,
                rate_per_s: 5,
                duration: fanout,
            },
            idle_connections: 10_000,
        }
    }
}
