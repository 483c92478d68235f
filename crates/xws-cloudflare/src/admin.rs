//! What an operator's server API asks of a Durable Object beyond the
//! [`xws::Hub`]: its topics with their subscriber counts, its peers with
//! their contexts (for presence, or to find a user's peers), and closing
//! peers. [`Xws`](crate::Xws) sends these to the object's stub as an
//! [`Op::Admin`](crate::wire::Op) request with a JSON body.

use serde::{Deserialize, Serialize};
use xws::{CloseFrame, PeerId};

/// A command of the server API, as it travels to the object.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AdminCommand {
    /// Every topic with its subscribers (WebSocket peers and SSE streams).
    Topics,
    /// The WebSocket peers, or a topic's, with their contexts.
    Peers {
        /// Only the subscribers of this topic.
        topic: Option<String>,
    },
    /// Close these peers with this frame.
    Close {
        /// The peers.
        peers: Vec<PeerId>,
        /// Their close frame.
        frame: CloseFrame,
    },
}

/// A topic and how many subscribers the object holds for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicCount {
    /// The topic.
    pub topic: String,
    /// Its subscribers in the object.
    pub subscribers: usize,
}

/// A peer of the object and its context, as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The peer.
    pub id: PeerId,
    /// Its context, serialized.
    pub context: serde_json::Value,
}

/// How many peers a close reached.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Closed {
    /// Peers of the object that were closed.
    pub closed: usize,
}
