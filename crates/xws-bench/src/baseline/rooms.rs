//! Room membership for the baselines: a map from room to the writer queues of its members.

use std::collections::HashMap;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// Identifies one connection.
pub type ConnId = u64;

/// Every room and its members' outgoing queues.
#[derive(Debug, Default)]
pub struct Rooms {
    members: Mutex<HashMap<String, HashMap<ConnId, UnboundedSender<Bytes>>>>,
}

impl Rooms {
    /// Adds `conn` to `room`; joining twice is harmless.
    pub fn join(&self, room: &str, conn: ConnId, outgoing: UnboundedSender<Bytes>) {
        self.members
            .lock()
            .entry(room.to_owned())
            .or_default()
            .insert(conn, outgoing);
    }

    /// Removes `conn` from `room`, dropping the room once empty.
    pub fn leave(&self, room: &str, conn: ConnId) {
        let mut members = self.members.lock();
        if let Some(room_members) = members.get_mut(room) {
            room_members.remove(&conn);
            if room_members.is_empty() {
                members.remove(room);
            }
        }
    }

    /// Queues `payload` for every member of `room` except `sender`; returns how many got it.
    pub fn publish(&self, room: &str, sender: ConnId, payload: &Bytes) -> usize {
        let members = self.members.lock();
        let Some(room_members) = members.get(room) else {
            return 0;
        };
        room_members
            .iter()
            .filter(|(conn, _)| **conn != sender)
            .filter(|(_, outgoing)| outgoing.send(payload.clone()).is_ok())
            .count()
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::unbounded_channel;

    use super::*;

    #[test]
    fn publish_skips_the_sender_and_reaches_the_others() {
        let rooms = Rooms::default();
        let (tx_a, mut rx_a) = unbounded_channel();
        let (tx_b, mut rx_b) = unbounded_channel();
        rooms.join("r", 1, tx_a);
        rooms.join("r", 2, tx_b);
        assert_eq!(rooms.publish("r", 1, &Bytes::from_static(b"hi")), 1);
        assert!(rx_a.try_recv().is_err());
        assert_eq!(rx_b.try_recv().unwrap(), Bytes::from_static(b"hi"));
        rooms.leave("r", 2);
        assert_eq!(rooms.publish("r", 1, &Bytes::from_static(b"again")), 0);
    }
}
