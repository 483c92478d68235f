//! Which peers each user has open on this node, so the server API can
//! disconnect every peer of a user.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use xws::PeerId;

/// Users and their peers on this node.
#[derive(Debug, Default)]
pub struct UserPeers(Mutex<HashMap<String, BTreeSet<PeerId>>>);

impl UserPeers {
    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<String, BTreeSet<PeerId>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `peer` of `user` opened.
    pub fn add(&self, user: &str, peer: &PeerId) {
        self.users()
            .entry(user.to_owned())
            .or_default()
            .insert(peer.clone());
    }

    /// `peer` of `user` closed.
    pub fn remove(&self, user: &str, peer: &PeerId) {
        let mut users = self.users();
        if let Some(peers) = users.get_mut(user) {
            peers.remove(peer);
            if peers.is_empty() {
                users.remove(user);
            }
        }
    }

    /// The peers `user` has open on this node.
    pub fn peers(&self, user: &str) -> Vec<PeerId> {
        self.users()
            .get(user)
            .map(|peers| peers.iter().cloned().collect())
            .unwrap_or_default()
    }
}
