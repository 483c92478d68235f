//! The xws dashboard on Vercel.
//!
//! Two functions, one file each under `api/` (Vercel's layout):
//!
//! - `api/stream.rs`: [`dashboard::DashboardStream`] behind
//!   [`xws_vercel::run`]: the current metrics first, then every sample, as
//!   server-sent events, until the stream ends before the function's max
//!   duration and `EventSource` reconnects.
//! - `api/tick.rs`: the cron job (`vercel.json`, every minute): the next
//!   sample, stored as the latest and published through Redis to the
//!   streams of every instance ([`tick`]).
//!
//! Both keep the latest metrics and the sample counter in the same Redis
//! the broker uses (`XWS_REDIS_URL`), [`RedisLatest`].

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use xws::{BoxError, Hub};

use dashboard::{LatestMetrics, Metrics};

/// The latest metrics and the sample counter in Redis, under the keys
/// `{prefix}:latest` and `{prefix}:sample`.
#[derive(Clone)]
pub struct RedisLatest {
    connection: MultiplexedConnection,
    prefix: String,
}

impl std::fmt::Debug for RedisLatest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLatest")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLatest {
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

    /// `XWS_REDIS_URL`, keys under `DASHBOARD_REDIS_PREFIX` (default `dashboard`).
    pub async fn from_env() -> Result<Self, BoxError> {
        let url = std::env::var("XWS_REDIS_URL")
            .map_err(|_| "XWS_REDIS_URL must name the Redis the functions share")?;
        let prefix =
            std::env::var("DASHBOARD_REDIS_PREFIX").unwrap_or_else(|_| "dashboard".to_owned());
        Self::connect(&url, prefix).await
    }

    fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.prefix)
    }

    /// The next sample number, counted across instances.
    pub async fn next_sample(&self) -> Result<u64, BoxError> {
        Ok(self.connection.clone().incr(self.key("sample"), 1).await?)
    }
}

impl LatestMetrics for RedisLatest {
    async fn get(&self) -> Result<Option<Metrics>, BoxError> {
        let json: Option<String> = self.connection.clone().get(self.key("latest")).await?;
        Ok(json.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    async fn set(&self, metrics: &Metrics) -> Result<(), BoxError> {
        let json = serde_json::to_string(metrics)?;
        let () = self
            .connection
            .clone()
            .set(self.key("latest"), json)
            .await?;
        Ok(())
    }
}

/// One run of the cron job: the next sample, stored and published to every
/// instance's streams. Returns the sample.
pub async fn tick(hub: &Hub, latest: &RedisLatest) -> Result<Metrics, BoxError> {
    let metrics = Metrics::sample(latest.next_sample().await?, None, 0);
    dashboard::publish(hub, latest, metrics.clone()).await?;
    Ok(metrics)
}
