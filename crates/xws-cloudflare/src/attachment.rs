//! The state a hibernatable socket carries: the peer's id, request, context
//! and topics, as a compact byte string the runtime stores with the socket.

use bytes::Bytes;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use worker::WebSocket;
use xws::{Error, PeerId, adapter::PeerSnapshot};

/// The platform's limit for one socket's serialized attachment, in bytes.
pub const MAX_ATTACHMENT_BYTES: usize = 16 * 1024;

/// Room kept for the structured-clone framing around our bytes, so a state
/// that passes our check is never refused by the runtime.
const FRAMING_RESERVE: usize = 64;

/// What the runtime stores: the id apart, so finding a socket's peer in
/// memory does not decode the whole state.
#[derive(Serialize, Deserialize)]
struct Stored {
    id: PeerId,
    state: Bytes,
}

/// Stores `snapshot` on `ws`; a state over the limit is refused whole and the
/// previous attachment stays.
pub fn store<C: Serialize>(ws: &WebSocket, snapshot: &PeerSnapshot<C>) -> Result<(), Error> {
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
        state: state.into(),
    };
    ws.serialize_attachment(stored)
        .map_err(|e| Error::transport(format!("serializing the socket attachment: {e}")))
}

/// The peer id stored on `ws`, if the socket has an attachment.
pub fn peer_id(ws: &WebSocket) -> Result<Option<PeerId>, Error> {
    Ok(read(ws)?.map(|stored| stored.id))
}

/// The whole peer state stored on `ws`.
pub fn load<C: DeserializeOwned>(ws: &WebSocket) -> Result<Option<PeerSnapshot<C>>, Error> {
    let Some(stored) = read(ws)? else {
        return Ok(None);
    };
    serde_json::from_slice(&stored.state)
        .map(Some)
        .map_err(|e| Error::malformed("socket attachment", e))
}

fn read(ws: &WebSocket) -> Result<Option<Stored>, Error> {
    ws.deserialize_attachment::<Stored>()
        .map_err(|e| Error::malformed("socket attachment", e))
}
