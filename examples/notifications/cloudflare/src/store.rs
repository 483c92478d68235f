//! [`NotificationStore`] on Durable Object storage.
//!
//! Each notification is one key, `n:{user}:{id}`, holding the notification
//! and whether it was delivered, as JSON. Users are `[A-Za-z0-9_.-]`, so a
//! user's keys are exactly those under `n:{user}:`: listing that prefix
//! reads one user's notifications, and a lookup by user and id can never
//! reach another user's. In this example each object holds one user's
//! notifications, but the store works for any number of users (the
//! contract check uses several).
//!
//! Storage calls of one object are serialized by the runtime (input and
//! output gates), so a read followed by a write is not interleaved with
//! another request's.

use notifications::store::{newest_first, oldest_first};
use notifications::{Notification, NotificationStore};
use serde::{Deserialize, Serialize};
use worker::{ListOptions, Storage};
use xws::BoxError;

/// The notifications in one object's storage.
#[derive(Debug)]
pub struct ObjectStore {
    storage: Storage,
}

/// What one key holds.
#[derive(Serialize, Deserialize)]
struct Row {
    notification: Notification,
    delivered: bool,
}

impl ObjectStore {
    /// A store over `storage`.
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    async fn get(&self, user: &str, id: &str) -> Result<Option<Row>, BoxError> {
        let json = self
            .storage
            .get::<String>(&key(user, id))
            .await
            .map_err(js_error)?;
        json.map(|json| serde_json::from_str(&json))
            .transpose()
            .map_err(Into::into)
    }

    async fn put(&self, row: &Row) -> Result<(), BoxError> {
        let json = serde_json::to_string(row)?;
        let key = key(&row.notification.user, &row.notification.id);
        self.storage.put(&key, json).await.map_err(js_error)
    }

    /// Every row of `user`.
    async fn rows(&self, user: &str) -> Result<Vec<Row>, BoxError> {
        let prefix = format!("n:{user}:");
        let options = ListOptions::new().prefix(&prefix);
        let map = self
            .storage
            .list_with_options(options)
            .await
            .map_err(js_error)?;
        map.values()
            .into_iter()
            .map(|value| {
                let value = value.map_err(|_| "cannot read a listed value")?;
                let json = value.as_string().ok_or("a stored row is not text")?;
                Ok(serde_json::from_str(&json)?)
            })
            .collect()
    }
}

fn key(user: &str, id: &str) -> String {
    format!("n:{user}:{id}")
}

/// The runtime's errors hold JavaScript values, which are not `Send`.
fn js_error(error: worker::Error) -> BoxError {
    error.to_string().into()
}

impl NotificationStore for ObjectStore {
    async fn insert(&self, notification: &Notification) -> Result<(), BoxError> {
        self.put(&Row {
            notification: notification.clone(),
            delivered: false,
        })
        .await
    }

    async fn mark_delivered(&self, user: &str, ids: &[String]) -> Result<(), BoxError> {
        for id in ids {
            if let Some(mut row) = self.get(user, id).await?
                && !row.delivered
            {
                row.delivered = true;
                self.put(&row).await?;
            }
        }
        Ok(())
    }

    async fn undelivered(&self, user: &str) -> Result<Vec<Notification>, BoxError> {
        let mut missed: Vec<Notification> = self
            .rows(user)
            .await?
            .into_iter()
            .filter(|row| !row.delivered)
            .map(|row| row.notification)
            .collect();
        oldest_first(&mut missed);
        Ok(missed)
    }

    async fn mark_read(&self, user: &str, id: &str) -> Result<bool, BoxError> {
        let Some(mut row) = self.get(user, id).await? else {
            return Ok(false);
        };
        if !row.notification.read {
            row.notification.read = true;
            self.put(&row).await?;
        }
        Ok(true)
    }

    async fn list(&self, user: &str, limit: usize) -> Result<Vec<Notification>, BoxError> {
        let mut all: Vec<Notification> = self
            .rows(user)
            .await?
            .into_iter()
            .map(|row| row.notification)
            .collect();
        newest_first(&mut all);
        all.truncate(limit);
        Ok(all)
    }
}
