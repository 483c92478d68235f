//! Where a stream's topics live: [`StreamTopics`] is what an adapter gives
//! the session (per process on native targets: `InstanceTopics`; per
//! request on a plain Worker).

use xws::stream::Position;
use xws::{BoxFuture, Error, MaybeSend, MaybeSync, Message, PeerId, Topic};

use crate::queue::EventQueue;

/// How streams subscribe and publish on one target.
pub trait StreamTopics: MaybeSend + MaybeSync + 'static {
    /// Delivers `topic`'s publications to `queue`, the queue of `stream`.
    /// `since` is the position the client last saw (its `Last-Event-ID`):
    /// where the topic keeps history, the publications after it come first,
    /// then live ones; a target without history ignores it.
    fn subscribe(
        &self,
        stream: &PeerId,
        topic: &Topic,
        queue: &EventQueue,
        since: Option<&Position>,
    ) -> Result<(), Error>;
    /// Stops delivering `topic` to `stream`.
    fn unsubscribe(&self, stream: &PeerId, topic: &Topic);
    /// Delivers `message` to `topic`'s streams on every instance, `exclude`
    /// apart. Must not block: what crosses instances is queued.
    fn publish(
        &self,
        topic: &Topic,
        message: Message,
        exclude: Option<&PeerId>,
    ) -> Result<(), Error>;

    /// Resolves once the subscriptions `stream` made so far are in effect
    /// (a broker may take them asynchronously); the stream's first byte
    /// waits for it, so a publication made after the client saw the stream
    /// open reaches it. At once by default.
    fn subscribed(&self, stream: &PeerId) -> BoxFuture<'_, Result<(), Error>> {
        let _ = stream;
        Box::pin(async { Ok(()) })
    }
}
