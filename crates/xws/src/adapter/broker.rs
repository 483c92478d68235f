//! Joining the topics of several server processes through a message broker.
//!
//! A [`Broker`] carries [`Envelope`]s between nodes: each publication is
//! encoded once ([`Envelope::encode`]) and sent once to the broker, and every
//! other node delivers it to its own peers. `xws-redis` implements it on
//! Redis pub/sub.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::{fmt, sync::Arc};

use crate::{Error, MaybeSend, MaybeSync, Message, PeerId, Text, Topic};

/// A node's random identity, so a node skips its own envelopes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId(pub u64);

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Who an envelope is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Subscribers of a topic, except one peer (the sender).
    Topic {
        /// The topic.
        topic: Topic,
        /// The peer to skip.
        exclude: Option<PeerId>,
    },
    /// Every connected peer.
    Broadcast,
    /// One peer, wherever it is connected.
    Peer(PeerId),
}

/// A publication travelling between nodes.
///
/// ```
/// use xws::{Message, Topic, adapter::{Envelope, NodeId, Target}};
/// let envelope = Envelope {
///     origin: NodeId(7),
///     target: Target::Topic { topic: Topic::new("room:1").unwrap(), exclude: Some("p1".into()) },
///     message: Message::from("hi"),
/// };
/// assert_eq!(Envelope::decode(envelope.encode()).unwrap(), envelope);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// The node that published it.
    pub origin: NodeId,
    /// Who it is for.
    pub target: Target,
    /// The message, shared.
    pub message: Message,
}

/// Hands envelopes from other nodes to the local peers.
pub type Deliver = Arc<dyn Fn(Envelope) + Send + Sync>;

/// Carries publications between nodes.
pub trait Broker: MaybeSend + MaybeSync + 'static {
    /// Starts receiving: envelopes from other nodes go to `deliver`, and the
    /// broker skips those whose origin is `node`. Called once by the adapter.
    fn start(&self, node: NodeId, deliver: Deliver);

    /// Sends `envelope` to the other nodes. Must not block and must not
    /// deliver locally (the adapter already did). Failures are the broker's
    /// to log and count: local delivery never waits for the broker.
    fn forward(&self, envelope: &Envelope);
}

const MAGIC: &[u8; 4] = b"XWS1";
const TARGET_TOPIC: u8 = 0;
const TARGET_BROADCAST: u8 = 1;
const TARGET_PEER: u8 = 2;
const KIND_TEXT: u8 = 0;
const KIND_BINARY: u8 = 1;

impl Envelope {
    /// The binary form: `XWS1`, origin (u64), target, message kind, payload.
    pub fn encode(&self) -> Bytes {
        let payload = self.message.bytes();
        let mut out = BytesMut::with_capacity(payload.len() + 64);
        out.put_slice(MAGIC);
        out.put_u64(self.origin.0);
        match &self.target {
            Target::Topic { topic, exclude } => {
                out.put_u8(TARGET_TOPIC);
                put_str(&mut out, topic.as_str());
                put_str(&mut out, exclude.as_ref().map_or("", PeerId::as_str));
            }
            Target::Broadcast => out.put_u8(TARGET_BROADCAST),
            Target::Peer(peer) => {
                out.put_u8(TARGET_PEER);
                put_str(&mut out, peer.as_str());
            }
        }
        out.put_u8(if self.message.is_text() {
            KIND_TEXT
        } else {
            KIND_BINARY
        });
        out.put_slice(payload);
        out.freeze()
    }

    /// Parses [`encode`](Self::encode)'s output; anything else is
    /// [`Error::Malformed`]. The payload is shared, not copied.
    pub fn decode(mut bytes: Bytes) -> Result<Self, Error> {
        let bad = |reason: &str| Error::malformed("envelope", reason);
        if bytes.len() < MAGIC.len() + 8 + 1 || &bytes[..4] != MAGIC {
            return Err(bad("missing XWS1 header"));
        }
        bytes.advance(4);
        let origin = NodeId(bytes.get_u64());
        let target = match bytes.get_u8() {
            TARGET_TOPIC => {
                let topic = Topic::new(take_str(&mut bytes)?)?;
                let exclude = take_str(&mut bytes)?;
                Target::Topic {
                    topic,
                    exclude: (!exclude.is_empty()).then(|| PeerId::from(exclude)),
                }
            }
            TARGET_BROADCAST => Target::Broadcast,
            TARGET_PEER => Target::Peer(PeerId::from(take_str(&mut bytes)?)),
            _ => return Err(bad("unknown target")),
        };
        if bytes.is_empty() {
            return Err(bad("missing message kind"));
        }
        let message = match bytes.get_u8() {
            KIND_TEXT => Message::Text(Text::from_utf8(bytes)?),
            KIND_BINARY => Message::Binary(bytes),
            _ => return Err(bad("unknown message kind")),
        };
        Ok(Self {
            origin,
            target,
            message,
        })
    }
}

fn put_str(out: &mut BytesMut, s: &str) {
    // Topics are at most 256 bytes and peer ids short; u16 is plenty.
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.put_u16(len);
    out.put_slice(&s.as_bytes()[..usize::from(len)]);
}

fn take_str(bytes: &mut Bytes) -> Result<String, Error> {
    if bytes.remaining() < 2 {
        return Err(Error::malformed("envelope", "truncated length"));
    }
    let len = usize::from(bytes.get_u16());
    if bytes.remaining() < len {
        return Err(Error::malformed("envelope", "truncated string"));
    }
    let raw = bytes.split_to(len);
    String::from_utf8(raw.to_vec()).map_err(|_| Error::malformed("envelope", "string is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_round_trips() {
        for target in [
            Target::Broadcast,
            Target::Peer("abc".into()),
            Target::Topic {
                topic: Topic::new("t").unwrap(),
                exclude: None,
            },
        ] {
            let env = Envelope {
                origin: NodeId(u64::MAX),
                target,
                message: Message::from(vec![0u8; 3]),
            };
            assert_eq!(Envelope::decode(env.encode()).unwrap(), env);
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let env = Envelope {
            origin: NodeId(1),
            target: Target::Topic {
                topic: Topic::new("room").unwrap(),
                exclude: Some("p".into()),
            },
            message: Message::from("x"),
        };
        let wire = env.encode();
        // Cutting inside the header or strings fails; only the payload may shrink.
        for cut in 0..wire.len() - 1 {
            assert!(Envelope::decode(wire.slice(..cut)).is_err(), "cut at {cut}");
        }
    }
}
