//! Opening one named RESP3 connection to Redis.

use redis::{
    AsyncConnectionConfig, Client, IntoConnectionInfo, ProtocolVersion, RedisResult,
    aio::{AsyncPushSender, MultiplexedConnection},
};

use crate::{Error, RedisBrokerConfig};

/// Opens connections to one Redis server; cheap to clone.
#[derive(Clone)]
pub(crate) struct Connector {
    client: Client,
    config: AsyncConnectionConfig,
    /// `host:port`, without the password a URL may hold, for logs and errors.
    address: String,
}

impl Connector {
    pub(crate) fn new(config: &RedisBrokerConfig) -> Result<Self, Error> {
        let invalid = |cause| Error::InvalidUrl {
            url: config.url.clone(),
            cause,
        };
        let info = config
            .url
            .as_str()
            .into_connection_info()
            .map_err(invalid)?;
        let address = info.addr().to_string();
        // RESP3 lets one multiplexed connection receive subscription pushes
        // and still answer commands such as the health-check PING.
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(settings)).map_err(invalid)?;
        let timeout = Some(config.response_timeout);
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout);
        Ok(Self {
            client,
            config,
            address,
        })
    }

    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// Connects and names the connection (`CLIENT SETNAME`) so operators and
    /// tests can find it in `CLIENT LIST`. Pushes go to `pushes` if given.
    pub(crate) async fn open(
        &self,
        name: &str,
        pushes: Option<impl AsyncPushSender>,
    ) -> RedisResult<MultiplexedConnection> {
        let mut config = self.config.clone();
        if let Some(pushes) = pushes {
            config = config.set_push_sender(pushes);
        }
        let mut connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(name)
            .exec_async(&mut connection)
            .await?;
        Ok(connection)
    }
}
