//! The storage a stream backend implements: history and presence.

use std::sync::Arc;

use crate::{BoxFuture, Error, MaybeSend, MaybeSync, Message, PeerId, Topic};

use super::{Member, Position, PresenceEvent, Publication, Retention};

/// One publication to append to a topic's history.
#[derive(Clone, Debug)]
pub struct Append {
    /// The topic.
    pub topic: Topic,
    /// The message, as the publisher gave it.
    pub message: Message,
    /// The peer publishing it, which live delivery skips: the store keeps
    /// it as the [`Publication::publisher`].
    pub publisher: Option<PeerId>,
    /// How much history the topic keeps (the store trims to it).
    pub retention: Retention,
    /// Now, in milliseconds since the Unix epoch, for stores without a
    /// clock of their own.
    pub now_ms: u64,
}

/// Which part of a topic's history to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadFrom {
    /// Every kept publication with an offset above this one (recovery).
    After(u64),
    /// The newest `n` kept publications (0 reads only the position).
    Latest(usize),
}

/// A read of a topic's history.
#[derive(Clone, Debug)]
pub struct Read {
    /// The topic.
    pub topic: Topic,
    /// What to read.
    pub from: ReadFrom,
    /// The topic's retention: publications older than its `ttl` are not
    /// returned even if the store still holds them.
    pub retention: Retention,
    /// Now, in milliseconds since the Unix epoch.
    pub now_ms: u64,
}

/// What a read returns: publications oldest first, and the stream's
/// current position (its newest offset and its epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryPage {
    /// The publications read, oldest first, offsets increasing by one.
    pub publications: Vec<Publication>,
    /// The stream's position when it was read. A stream that never had a
    /// publication is at offset 0 of a fresh epoch.
    pub position: Position,
}

/// What a store with a feed announces to every node that shares it.
#[derive(Clone, Debug)]
pub enum StreamEvent {
    /// A publication was appended (by any node), with its position and
    /// publisher. Announced in offset order per topic.
    Published {
        /// The topic.
        topic: Topic,
        /// The publication.
        publication: Publication,
    },
    /// A member joined or left a topic's presence (on any node).
    Presence(PresenceEvent),
    /// The feed was interrupted and is back: announcements may have been
    /// missed, so nodes catch up from history.
    Resync,
}

/// Hands a store's announcements to the adapter.
pub type DeliverStreamEvent = Arc<dyn Fn(StreamEvent) + Send + Sync>;

/// Where topics keep their history and presence: in memory
/// ([`MemoryStore`](super::MemoryStore)), in Redis (`xws-redis`), in a
/// Durable Object's storage or in DynamoDB.
///
/// The one hard rule is in [`append`](Self::append): the next offset and
/// the append are one atomic step, so two publishers never get the same
/// offset and offsets have no holes.
///
/// A store shared by several server processes has a *feed*
/// ([`start_feed`](Self::start_feed)): it announces every append and
/// presence change to every process, in offset order per topic, and the
/// adapter delivers from the feed. A store of one process has none: the
/// adapter delivers what `append` returns.
pub trait StreamStore: MaybeSend + MaybeSync + 'static {
    /// Gives the topic's next offset to the message, appends it and trims
    /// the history to the retention, in one atomic step.
    fn append(&self, append: Append) -> BoxFuture<'_, Result<Publication, Error>>;

    /// Appends several publications in order. Stores that can pipeline
    /// override it; the default appends one after the other and stops at
    /// the first failure (the rest fail with it).
    fn append_all(&self, appends: Vec<Append>) -> BoxFuture<'_, Vec<Result<Publication, Error>>> {
        Box::pin(async move {
            let mut results = Vec::with_capacity(appends.len());
            let mut failed = None;
            for append in appends {
                if let Some(reason) = &failed {
                    results.push(Err(Error::transport(format!("not appended: {reason}"))));
                    continue;
                }
                let result = self.append(append).await;
                if let Err(error) = &result {
                    failed = Some(error.to_string());
                }
                results.push(result);
            }
            results
        })
    }

    /// Reads a topic's history and current position.
    fn read(&self, read: Read) -> BoxFuture<'_, Result<HistoryPage, Error>>;

    /// Adds (or refreshes) a member of `topic`'s presence; `true` when it
    /// was not a member before.
    fn join(&self, topic: &Topic, member: &Member) -> BoxFuture<'_, Result<bool, Error>>;

    /// Removes a member; `true` when it was one.
    fn leave(&self, topic: &Topic, peer: &PeerId) -> BoxFuture<'_, Result<bool, Error>>;

    /// The members of `topic`, in no particular order.
    fn members(&self, topic: &Topic) -> BoxFuture<'_, Result<Vec<Member>, Error>>;

    /// How many members `topic` has, without listing them.
    fn member_count(&self, topic: &Topic) -> BoxFuture<'_, Result<usize, Error>>;

    /// For stores shared by several processes: starts announcing every
    /// append and presence change (of any process, this one included) to
    /// `deliver`, and returns `true`. The default, for stores of one
    /// process, returns `false`.
    fn start_feed(&self, deliver: DeliverStreamEvent) -> bool {
        let _ = deliver;
        false
    }
}
