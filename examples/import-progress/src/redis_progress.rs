//! The latest import events in Redis, for the function targets: every
//! invocation (the job's and the streams') reaches the same Redis the
//! broker uses.

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use xws::BoxError;

use crate::{ImportEvent, LatestProgress};

/// How long a user's latest event is kept: as long as the topic's history
/// ([`progress_history`](crate::progress_history)).
const KEPT_SECONDS: u64 = 10 * 60;

/// Each user's latest import event under `{prefix}:latest:{user}`, kept
/// for 10 minutes after the import's last event.
#[derive(Clone)]
pub struct RedisProgress {
    connection: MultiplexedConnection,
    prefix: String,
}

impl std::fmt::Debug for RedisProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisProgress")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisProgress {
    /// Connects to `url`; keys start with `prefix`.
    pub async fn connect(url: &str, prefix: impl Into<String>) -> Result<Self, BoxError> {
        let connection = redis::Client::open(url)?
            .get_multiplexed_async_connection()
            .await?;
        Ok(Self {
            connection,
            prefix: prefix.into(),
        })
    }

    /// `XWS_REDIS_URL`, keys under `IMPORT_REDIS_PREFIX` (default
    /// `import-progress`).
    pub async fn from_env() -> Result<Self, BoxError> {
        let url = std::env::var("XWS_REDIS_URL")
            .map_err(|_| "XWS_REDIS_URL must name the Redis the functions share")?;
        let prefix =
            std::env::var("IMPORT_REDIS_PREFIX").unwrap_or_else(|_| "import-progress".to_owned());
        Self::connect(&url, prefix).await
    }

    fn key(&self, user: &str) -> String {
        format!("{}:latest:{user}", self.prefix)
    }
}

impl LatestProgress for RedisProgress {
    async fn get(&self, user: &str) -> Result<Option<ImportEvent>, BoxError> {
        let json: Option<String> = self.connection.clone().get(self.key(user)).await?;
        Ok(json.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    async fn set(&self, user: &str, event: &ImportEvent) -> Result<(), BoxError> {
        let json = serde_json::to_string(event)?;
        let () = self
            .connection
            .clone()
            .set_ex(self.key(user), json, KEPT_SECONDS)
            .await?;
        Ok(())
    }
}
