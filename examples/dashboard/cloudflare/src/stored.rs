//! The latest metrics in Durable Object storage: they outlive the
//! in-memory object, which the runtime evicts when it hibernates.

use dashboard::{LatestMetrics, Metrics};
use worker::Storage;
use xws::BoxError;

/// The storage key of the latest metrics.
const KEY: &str = "latest-metrics";

/// [`LatestMetrics`] on the object's transactional storage, as JSON text.
#[derive(Debug)]
pub struct StoredLatest {
    storage: Storage,
}

impl StoredLatest {
    /// The latest metrics in `storage`.
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }
}

impl LatestMetrics for StoredLatest {
    async fn get(&self) -> Result<Option<Metrics>, BoxError> {
        let stored = self.storage.get::<String>(KEY).await;
        // The runtime's errors hold JavaScript values, which are not `Send`.
        let Some(json) = stored.map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_str(&json)?))
    }

    async fn set(&self, metrics: &Metrics) -> Result<(), BoxError> {
        let json = serde_json::to_string(metrics)?;
        self.storage
            .put(KEY, json)
            .await
            .map_err(|e| e.to_string().into())
    }
}
