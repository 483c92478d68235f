//! One chat connection on a baseline server: parses requests, keeps its rooms, leaves on drop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc::UnboundedSender;

use super::rooms::{ConnId, Rooms};
use crate::protocol::{ChatRequest, joined_json, room_message_json};

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// The chat state of one connection.
#[derive(Debug)]
pub struct ChatSession {
    id: ConnId,
    rooms: Arc<Rooms>,
    joined: Vec<String>,
    outgoing: UnboundedSender<Bytes>,
}

impl ChatSession {
    /// Starts a session whose deliveries go to `outgoing` (drained by the connection's writer).
    pub fn new(rooms: Arc<Rooms>, outgoing: UnboundedSender<Bytes>) -> Self {
        let id = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
        Self {
            id,
            rooms,
            joined: Vec::new(),
            outgoing,
        }
    }

    /// Handles one text message; anything that is not a chat request is ignored, as the xws
    /// chat example answers it with an error the load generator does not read.
    pub fn on_text(&mut self, text: &str) {
        let Ok(request) = serde_json::from_str::<ChatRequest>(text) else {
            tracing::debug!(
                conn = self.id,
                "ignoring a message that is not a chat request"
            );
            return;
        };
        match request {
            ChatRequest::JoinRoom { room_id } => {
                self.rooms.join(&room_id, self.id, self.outgoing.clone());
                let _ = self.outgoing.send(Bytes::from(joined_json(&room_id)));
                if !self.joined.contains(&room_id) {
                    self.joined.push(room_id);
                }
            }
            ChatRequest::SendToRoom { room_id, text } => {
                let payload = Bytes::from(room_message_json(&room_id, self.id, &text));
                self.rooms.publish(&room_id, self.id, &payload);
            }
        }
    }
}

impl Drop for ChatSession {
    fn drop(&mut self) {
        for room in &self.joined {
            self.rooms.leave(room, self.id);
        }
    }
}
