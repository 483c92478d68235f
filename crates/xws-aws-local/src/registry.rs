//! Open connections: what `@connections` posts reach.

use axum::extract::ws::Message;
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicI64, Ordering},
    },
};
use tokio::sync::{Notify, mpsc};

use crate::events::{ConnectionFacts, now_ms};

/// What the socket's writer sends next.
#[derive(Debug)]
pub(crate) enum Outbound {
    Frame(Message),
    Close(u16, String),
}

/// One open connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) facts: ConnectionFacts,
    pub(crate) outbound: mpsc::UnboundedSender<Outbound>,
    /// Signalled by the writer once it sent a close frame of its own.
    pub(crate) closed_by_server: Notify,
    last_active_ms: AtomicI64,
}

impl Connection {
    pub(crate) fn touch(&self) {
        self.last_active_ms.store(now_ms(), Ordering::Relaxed);
    }

    pub(crate) fn last_active_ms(&self) -> i64 {
        self.last_active_ms.load(Ordering::Relaxed)
    }
}

/// Connections that finished `$connect` and are not closed. A connection
/// still inside `$connect` is absent, so posts to it get 410 as on AWS.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    connections: Mutex<HashMap<String, Arc<Connection>>>,
}

impl Registry {
    pub(crate) fn open(
        &self,
        facts: ConnectionFacts,
    ) -> (Arc<Connection>, mpsc::UnboundedReceiver<Outbound>) {
        let (outbound, receiver) = mpsc::unbounded_channel();
        let connection = Arc::new(Connection {
            facts,
            outbound,
            closed_by_server: Notify::new(),
            last_active_ms: AtomicI64::new(now_ms()),
        });
        self.lock()
            .insert(connection.facts.id.clone(), connection.clone());
        (connection, receiver)
    }

    pub(crate) fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.lock().get(id).cloned()
    }

    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Connection>> {
        self.lock().remove(id)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Connection>>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
