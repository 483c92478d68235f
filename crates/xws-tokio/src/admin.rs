//! What a server API needs beyond the [`Hub`](xws::Hub): the topics with
//! their subscriber counts, a topic's presence, and closing a peer.
//! Topics and peers are this node's; presence is the stream store's, so
//! every node sharing it (Redis) sees the same members.

use xws::{CloseFrame, Error, Handler, PeerId, Topic, stream::Member};

use crate::Xws;

/// A topic with subscribers on this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicCount {
    /// The topic.
    pub topic: Topic,
    /// Its subscribers on this node (WebSocket, fallback and SSE).
    pub subscribers: usize,
}

impl<H: Handler> Xws<H> {
    /// Every topic with subscribers on this node, sorted by name.
    pub fn topics(&self) -> Vec<TopicCount> {
        let mut topics: Vec<TopicCount> = self
            .shared
            .registry
            .subscriber_counts()
            .into_iter()
            .map(|(topic, subscribers)| TopicCount { topic, subscribers })
            .collect();
        topics.sort_by(|a, b| a.topic.as_str().cmp(b.topic.as_str()));
        topics
    }

    /// The members of `topic`'s presence. `Error::Unsupported` without
    /// streams, `Error::InvalidTopic` for a bad name.
    pub async fn presence(&self, topic: &str) -> Result<Vec<Member>, Error> {
        let topic = Topic::new(topic)?;
        let Some(engine) = self.shared.registry.streams() else {
            return Err(Error::Unsupported {
                target: "this server",
                capability: "presence",
                alternative: "give the server a stream store (xws_tokio::Xws::with_streams)",
            });
        };
        engine.members(&topic).await
    }

    /// Closes the WebSocket or fallback peer `peer` with `frame` (its
    /// queued messages go first). `false` when it is not connected to this
    /// node.
    pub fn disconnect(&self, peer: &PeerId, frame: CloseFrame) -> bool {
        match self.shared.registry.link(peer) {
            Some(link) => {
                link.request_close(frame);
                true
            }
            None => false,
        }
    }
}
