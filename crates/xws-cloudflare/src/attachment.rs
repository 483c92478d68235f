//! The state a hibernatable socket carries: the peer's kind, id, request,
//! context, topics and presence memberships, as a compact byte string the
//! runtime stores with the socket.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use worker::WebSocket;
use xws::{Error, PeerId, Topic, adapter::PeerSnapshot};

use crate::{
    error::RuntimeError,
    registry::{Joined, PeerKind},
};

/// A peer's presence memberships, by topic.
pub type Memberships = BTreeMap<Topic, Joined>;

/// The platform's limit for one socket's serialized attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 16 * 1024;

/// Room kept for the structured-clone framing around our bytes, so a state
/// that passes our check is never refused by the runtime.
const FRAMING_RESERVE: usize = 64;

/// What the runtime stores: the id and kind apart, so finding a socket's
/// peer in memory does not decode the whole state.
#[derive(Serialize, Deserialize)]
struct Stored {
    id: PeerId,
    #[serde(default)]
    kind: PeerKind,
    state: Bytes,
    /// Presence memberships (JSON), empty without any.
    #[serde(default)]
    joined: Bytes,
}

/// Stores `snapshot` on `ws`; a state over the limit is refused whole
/// ([`Error::StateTooLarge`]) and the previous attachment stays.
pub fn store<C: Serialize>(
    ws: &WebSocket,
    kind: PeerKind,
    snapshot: &PeerSnapshot<C>,
    joined: &Memberships,
) -> Result<(), Error> {
    let state = serde_json::to_vec(snapshot)?;
    let joined = if joined.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(joined)?
    };
    let size = state.len() + joined.len() + snapshot.id.as_str().len() + FRAMING_RESERVE;
    if size > MAX_ATTACHMENT_BYTES {
        return Err(Error::StateTooLarge {
            size,
            limit: MAX_ATTACHMENT_BYTES,
        });
    }
    let stored = Stored {
        id: snapshot.id.clone(),
        kind,
        state: state.into(),
        joined: joined.into(),
    };
    ws.serialize_attachment(stored)
        .map_err(|e| RuntimeError::Attachment(e.to_string()).into())
}

/// The peer id and kind stored on `ws`, if the socket has an attachment.
pub fn peer_of(ws: &WebSocket) -> Result<Option<(PeerId, PeerKind)>, Error> {
    Ok(read(ws)?.map(|stored| (stored.id, stored.kind)))
}

/// The whole peer state stored on `ws`, with its kind and memberships.
pub fn load<C: DeserializeOwned>(
    ws: &WebSocket,
) -> Result<Option<(PeerKind, PeerSnapshot<C>, Memberships)>, Error> {
    let Some(stored) = read(ws)? else {
        return Ok(None);
    };
    let malformed = |e| Error::malformed("socket attachment", e);
    let snapshot = serde_json::from_slice(&stored.state).map_err(malformed)?;
    let joined = if stored.joined.is_empty() {
        Memberships::new()
    } else {
        serde_json::from_slice(&stored.joined).map_err(malformed)?
    };
    Ok(Some((stored.kind, snapshot, joined)))
}

fn read(ws: &WebSocket) -> Result<Option<Stored>, Error> {
    ws.deserialize_attachment::<Stored>()
        .map_err(|e| Error::malformed("socket attachment", e))
}
