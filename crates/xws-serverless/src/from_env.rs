//! The topics of a function process, configured from its environment.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

use xws::adapter::NodeId;
use xws_redis::{RedisBroker, RedisBrokerConfig};

use crate::InstanceTopics;

/// How long a new instance waits for its Redis subscription before serving.
const READY_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the topics could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum FromEnvError {
    /// Redis refused the configuration or did not answer.
    #[error("XWS_REDIS_URL: {0}")]
    Redis(#[from] xws_redis::Error),
    /// Redis answered but the subscription was not up in time.
    #[error("XWS_REDIS_URL: not subscribed within {READY_TIMEOUT:?}")]
    NotReady,
}

/// This process's topics: joined to every instance through Redis when
/// `XWS_REDIS_URL` is set (channel `XWS_REDIS_CHANNEL`, default `xws`, and
/// the sealing secret `XWS_REDIS_SECRET`: every function of one app must use
/// the same), else this process's only
/// (one instance: fine locally, not on a platform that runs several).
///
/// Call it once per process (at start-up, outside the request path): it
/// connects, fails loudly when Redis does not answer, and waits until the
/// subscription is up, so the first stream misses nothing.
pub async fn instance_topics_from_env() -> Result<Arc<InstanceTopics>, FromEnvError> {
    let node = NodeId(RandomState::new().hash_one(std::process::id()));
    let Some(url) = std::env::var("XWS_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        tracing::warn!(
            "xws-serverless: XWS_REDIS_URL is not set; publications reach this instance's streams only"
        );
        return Ok(InstanceTopics::local(node));
    };
    let mut config = RedisBrokerConfig::new(url);
    if let Ok(channel) = std::env::var("XWS_REDIS_CHANNEL") {
        config = config.with_channel(channel);
    }
    let broker = Arc::new(RedisBroker::connect(config).await?);
    let topics = InstanceTopics::with_broker(node, broker.clone());
    tokio::time::timeout(READY_TIMEOUT, broker.ready())
        .await
        .map_err(|_| FromEnvError::NotReady)?;
    Ok(topics)
}
