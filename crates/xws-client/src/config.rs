//! How a client connects and reconnects.

use std::{fmt, sync::Arc, time::Duration};
use xws::Message;

use crate::{Backoff, StreamOf, streams::topic_member};

/// Messages to send first after every (re)connect, before the queue: a
/// new connection is a new peer, so this is where rooms are rejoined.
pub type OnOpen = Arc<dyn Fn() -> Vec<Message> + Send + Sync>;

/// Everything configurable about a [`Client`](crate::Client).
#[derive(Clone)]
pub struct ClientConfig {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// Delays between attempts.
    pub backoff: Backoff,
    /// Reconnection attempts (after the first connection attempt) that may
    /// fail in a row before the client gives up; `None` never gives up.
    pub max_attempts: Option<u32>,
    /// Messages kept while disconnected; `send` refuses more.
    pub queue_limit: usize,
    /// How often to send the app-level ping; `None` disables the heartbeat.
    pub ping_interval: Option<Duration>,
    /// How long to wait for any message after a ping before the connection
    /// counts as dead.
    pub ping_timeout: Duration,
    /// How long connecting (TCP, TLS, upgrade) may take.
    pub connect_timeout: Duration,
    /// Events buffered for the app before the connection waits for it.
    pub event_capacity: usize,
    /// See [`OnOpen`].
    pub on_open: Option<OnOpen>,
    /// Send binary messages as binary notices
    /// ([`xws::client::binary_notice`]), for servers behind AWS API Gateway,
    /// which closes a connection that sends a binary frame. Notices the
    /// server sends always arrive as [`Event::Binary`](crate::Event::Binary).
    pub binary_as_text: bool,
    /// Which stream a publication with a position belongs to (see
    /// [`Client::subscribe`](crate::Client::subscribe)); by default its
    /// `"topic"` member.
    pub stream_of: StreamOf,
}

impl ClientConfig {
    /// The defaults for `url`: backoff 250 ms to 10 s, never give up, 100
    /// queued messages, ping every 25 s with a 10 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            backoff: Backoff::default(),
            max_attempts: None,
            queue_limit: 100,
            ping_interval: Some(Duration::from_secs(25)),
            ping_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            event_capacity: 256,
            on_open: None,
            binary_as_text: false,
            stream_of: topic_member(),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("url", &self.url)
            .field("backoff", &self.backoff)
            .field("max_attempts", &self.max_attempts)
            .field("queue_limit", &self.queue_limit)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("event_capacity", &self.event_capacity)
            .field("on_open", &self.on_open.as_ref().map(|_| "Fn"))
            .field("binary_as_text", &self.binary_as_text)
            .field("stream_of", &"Fn")
            .finish()
    }
}
