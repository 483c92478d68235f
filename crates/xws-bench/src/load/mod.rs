//! The load generator: many tokio-tungstenite clients in one process, counting every loss.
//!
//! Each benchmark mode returns an [`stats::Outcome`]: throughput, latency percentiles and the
//! number of messages (or connections) that never arrived. The [`soak`] mode runs for minutes
//! and returns samples over time instead.

pub mod chat;
pub mod connect;
pub mod echo;
pub mod fanout;
pub mod soak;
pub mod stats;

use std::time::Duration;

/// How long a client waits for any single expected reply before counting it lost.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a mode waits, after its last send, for deliveries still in flight.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
