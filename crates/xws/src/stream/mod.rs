//! Streams: history, recovery and presence for topics.
//!
//! A topic may keep *history* (a [`Retention`]: the last N publications,
//! none older than a TTL), set per topic pattern in a [`StreamConfig`].
//! Every publication to such a topic gets a [`Position`]: an `offset`
//! (one more per publication) and an `epoch` (changes when the history is
//! lost or reset). Subscribers see it in the message itself (JSON objects
//! get `"offset"` and `"epoch"`, see [`Publication::to_message`]) and as
//! the SSE event id.
//!
//! - **Recovery**: [`Peer::subscribe_with`](crate::Peer::subscribe_with)
//!   with [`SubscribeOptions::since`] replays every publication after the
//!   position, oldest first, exactly once, then live ones, with no gap and
//!   no duplicate at the seam ([`recover`], [`seam`]); or says
//!   `recovered: false` when it cannot (another epoch, trimmed history),
//!   so the app refetches its state.
//! - **Cache mode**: [`SubscribeOptions::latest`] delivers the newest
//!   publication on subscribe.
//! - **Ephemeral publications** ([`Peer::publish_ephemeral`](crate::Peer::publish_ephemeral))
//!   skip history: typing indicators.
//! - **Presence**: topics whose [`TopicPolicy`] says so list their
//!   subscribers ([`Member`]: peer id and handler-chosen info), count
//!   them, and send join/leave events to subscribers that asked.
//!
//! The core holds the rules; a [`StreamStore`] holds the data: in memory
//! ([`MemoryStore`], one process), in Redis (`xws-redis`, several Tokio
//! nodes), in a Durable Object's storage, in DynamoDB. Adapters give each
//! peer its [`PeerStreams`] with [`attach`].

mod config;
pub mod contract;
mod memory;
mod peer;
mod position;
mod presence;
mod publication;
mod recovery;
mod store;

pub use config::{PresenceFormat, Retention, StreamConfig, TopicPolicy};
pub use memory::MemoryStore;
pub use peer::{PeerStreams, StartLive, Subscription, attach};
pub use position::Position;
pub use presence::{Member, PresenceChange, PresenceEvent};
pub use publication::Publication;
pub use recovery::{Recovery, SubscribeOptions, needs_latest, read_for, recover, seam};
pub use store::{
    Append, DeliverStreamEvent, HistoryPage, Read, ReadFrom, StreamEvent, StreamStore,
};
