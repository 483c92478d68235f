//! Checking, once, that Redis answers and supports the chosen mode.

use crate::{Error, PubSubMode, RedisBrokerConfig, connection::Connector};

/// Connects to the configured Redis, sends `PING`, and for
/// [`PubSubMode::Sharded`] checks that the server knows `SSUBSCRIBE`.
///
/// The broker itself never needs this (it retries forever); it is for
/// failing fast at startup and for tests that need a real Redis.
pub async fn check_reachable(config: &RedisBrokerConfig) -> Result<(), Error> {
    let connector = Connector::new(config)?;
    let unreachable = |cause| Error::Unreachable {
        url: connector.address().to_owned(),
        cause,
    };
    let mut connection = connector
        .open(
            "xws:check",
            None::<tokio::sync::mpsc::UnboundedSender<redis::PushInfo>>,
        )
        .await
        .map_err(unreachable)?;
    redis::cmd("PING")
        .exec_async(&mut connection)
        .await
        .map_err(unreachable)?;
    if config.mode == PubSubMode::Sharded {
        let info: redis::Value = redis::cmd("COMMAND")
            .arg("INFO")
            .arg("SSUBSCRIBE")
            .query_async(&mut connection)
            .await
            .map_err(unreachable)?;
        let known = matches!(&info, redis::Value::Array(items) if items.iter().any(|i| *i != redis::Value::Nil));
        if !known {
            return Err(Error::Unsupported {
                url: connector.address().to_owned(),
                mode: config.mode,
                reason: "SSUBSCRIBE is unknown (sharded pub/sub needs Redis 7)".to_owned(),
            });
        }
    }
    Ok(())
}
