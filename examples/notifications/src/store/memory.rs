//! Notifications in memory: the reference store, for tests and demos.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use xws::BoxError;

use super::{NotificationStore, newest_first, oldest_first};
use crate::Notification;

/// Notifications in this process's memory, lost on restart.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    rows: Arc<Mutex<HashMap<String, Row>>>,
}

#[derive(Clone, Debug)]
struct Row {
    notification: Notification,
    delivered: bool,
}

impl MemoryStore {
    fn with_rows<T>(&self, f: impl FnOnce(&mut HashMap<String, Row>) -> T) -> T {
        f(&mut self.rows.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl NotificationStore for MemoryStore {
    async fn insert(&self, notification: &Notification) -> Result<(), BoxError> {
        let row = Row {
            notification: notification.clone(),
            delivered: false,
        };
        self.with_rows(|rows| rows.insert(notification.id.clone(), row));
        Ok(())
    }

    async fn mark_delivered(&self, user: &str, ids: &[String]) -> Result<(), BoxError> {
        self.with_rows(|rows| {
            for id in ids {
                if let Some(row) = rows.get_mut(id).filter(|r| r.notification.user == user) {
                    row.delivered = true;
                }
            }
        });
        Ok(())
    }

    async fn undelivered(&self, user: &str) -> Result<Vec<Notification>, BoxError> {
        let mut missed: Vec<_> = self.with_rows(|rows| {
            rows.values()
                .filter(|r| r.notification.user == user && !r.delivered)
                .map(|r| r.notification.clone())
                .collect()
        });
        oldest_first(&mut missed);
        Ok(missed)
    }

    async fn mark_read(&self, user: &str, id: &str) -> Result<bool, BoxError> {
        Ok(self.with_rows(
            |rows| match rows.get_mut(id).filter(|r| r.notification.user == user) {
                Some(row) => {
                    row.notification.read = true;
                    true
                }
                None => false,
            },
        ))
    }

    async fn list(&self, user: &str, limit: usize) -> Result<Vec<Notification>, BoxError> {
        let mut all: Vec<_> = self.with_rows(|rows| {
            rows.values()
                .filter(|r| r.notification.user == user)
                .map(|r| r.notification.clone())
                .collect()
        });
        newest_first(&mut all);
        all.truncate(limit);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_store_keeps_the_contract() {
        super::super::contract::check(&super::MemoryStore::default())
            .await
            .unwrap();
    }
}
