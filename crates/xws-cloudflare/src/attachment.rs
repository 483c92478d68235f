//! The state a hibernatable socket carries: the peer's kind, id, request,
//! context and topics, as a compact byte string the runtime stores with the
//! socket.

use bytes::Bytes;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use worker::WebSocket;
use xws::{Error, PeerId, adapter::PeerSnapshot};

use crate::{error::RuntimeError, registry::PeerKind};

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
}

/// Stores `snapshot` on `ws`; a state over the limit is refused whole
/// ([`Error::StateTooLarge`]) and the previous attachment stays.
pub fn store<C: Serialize>(
    ws: &WebSocket,
    kind: PeerKind,
    snapshot: &PeerSnapshot<C>,
) -> Result<(), Error> {
    let state = serde_json::to_vec(snapshot)?;
    let size = state.len() + snapshot.id.as_str().len() + FRAMING_RESERVE;
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
    };
    ws.serialize_attachment(stored)
        .map_err(|e| RuntimeError::Attachment(e.to_string()).into())
}

/// The peer id and kind stored on `ws`, if the socket has an attachment.
pub fn peer_of(ws: &WebSocket) -> Result<Option<(PeerId, PeerKind)>, Error> {
    Ok(read(ws)?.map(|stored| (stored.id, stored.kind)))
}

/// The whole peer state stored on `ws`, with its kind.
pub fn load<C: DeserializeOwned>(
    ws: &WebSocket,
) -> Result<Option<(PeerKind, PeerSnapshot<C>)>, Error> {
    let Some(stored) = read(ws)? else {
        return Ok(None);
    };
    serde_json::from_slice(&stored.state)
        .map(|snapshot| Some((stored.kind, snapshot)))
        .map_err(|e| Error::malformed("socket attachment", e))
}

fn read(ws: &WebSocket) -> Result<Option<Stored>, Error> {
    ws.deserialize_attachment::<Stored>()
        .map_err(|e| Error::malformed("socket attachment", e))
}
