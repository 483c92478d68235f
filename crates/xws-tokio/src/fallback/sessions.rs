//! The open fallback sessions, by their unguessable id.

use parking_lot::Mutex;
use std::collections::HashMap;
use tokio::sync::mpsc;

use super::session::Inbound;

/// Session id → the inbox of its peer's task.
#[derive(Default)]
pub(crate) struct Sessions {
    inboxes: Mutex<HashMap<String, mpsc::Sender<Inbound>>>,
}

impl Sessions {
    /// Registers an inbox under a fresh random id.
    pub(crate) fn insert(&self, inbox: mpsc::Sender<Inbound>) -> Result<String, getrandom::Error> {
        let id = new_id()?;
        self.inboxes.lock().insert(id.clone(), inbox);
        Ok(id)
    }

    pub(crate) fn get(&self, id: &str) -> Option<mpsc::Sender<Inbound>> {
        self.inboxes.lock().get(id).cloned()
    }

    pub(crate) fn remove(&self, id: &str) {
        self.inboxes.lock().remove(id);
    }

    pub(crate) fn len(&self) -> usize {
        self.inboxes.lock().len()
    }
}

/// 128 bits from the OS, in hex: the id is the only credential a POST
/// carries, so it must not be guessable.
fn new_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_long_random_and_distinct() {
        let sessions = Sessions::default();
        let (tx, _rx) = mpsc::channel(1);
        let a = sessions.insert(tx.clone()).unwrap();
        let b = sessions.insert(tx).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(sessions.get(&a).is_some());
        sessions.remove(&a);
        assert!(sessions.get(&a).is_none());
        assert_eq!(sessions.len(), 1);
    }
}
