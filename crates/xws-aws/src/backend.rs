//! The AWS clients and settings one function uses.

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig, retry::RetryConfig};
use aws_sdk_dynamodb::config::SharedHttpClient;
use aws_smithy_http_client::{ConnectorBuilder, proxy::ProxyConfig, tls};
use std::{sync::Arc, time::Duration};

use crate::{
    AwsError, AwsHub, Config, DynamoStreams, ManagementApi, Metrics, MetricsSnapshot, Registry,
};

/// The SDK configuration every function loads (region, credentials,
/// `AWS_ENDPOINT_URL_*`, as `aws_config::load_defaults` does), its
/// clients calling AWS over HTTPS with rustls on ring.
///
/// The SDK's `default-https-client` would be rustls on aws-lc-rs, which is
/// several MB of every bootstrap (BENCHMARKS.md, "Deploy sizes"); ring is
/// what the rest of the workspace's rustls uses. The connector is built
/// the way the SDK builds its default one (proxy settings from the
/// environment, the client's sleep and connector settings), only with the
/// other crypto provider.
pub async fn sdk_config() -> SdkConfig {
    sdk_config_loader().load().await
}

/// The loader behind [`sdk_config`], for a caller that sets more before
/// loading (a region, an endpoint, credentials: tests against a local
/// stack). Without `default-https-client` the SDK has no HTTP client of
/// its own: a config loaded without this one fails every request with
/// "No HTTP client was available".
pub fn sdk_config_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).http_client(https_client())
}

fn https_client() -> SharedHttpClient {
    // `build_with_connector_fn` is hidden from the docs, but it is how
    // aws-smithy-runtime builds its default client, and the public
    // `build_https` would drop the proxy settings from the environment.
    aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// How often a throttled DynamoDB request is tried in all.
const DYNAMODB_ATTEMPTS: u32 = 6;

/// Everything the adapter talks to: the registry (DynamoDB), the
/// Management API, Lambda (for the `open`-hook delivery), with call
/// counters.
#[derive(Debug)]
pub struct Aws {
    pub(crate) config: Config,
    pub(crate) registry: Registry,
    pub(crate) management: ManagementApi,
    pub(crate) lambda: aws_sdk_lambda::Client,
    pub(crate) streams: DynamoStreams,
    metrics: Arc<Metrics>,
}

impl Aws {
    /// Loads the SDK configuration (region, credentials, `AWS_ENDPOINT_URL_*`)
    /// and [`Config::from_env`]. With `XWS_CREATE_TABLE=1` (local runs)
    /// the table is created if it is missing.
    pub async fn from_env() -> Result<Self, AwsError> {
        Self::from_config(Config::from_env()?).await
    }

    /// Like [`from_env`](Self::from_env), with `config` instead of
    /// [`Config::from_env`] (say, that plus [`Config::with_streams`]).
    pub async fn from_config(config: Config) -> Result<Self, AwsError> {
        let sdk = sdk_config().await;
        let aws = Self::new(&sdk, config);
        if std::env::var("XWS_CREATE_TABLE").is_ok_and(|v| v == "1") {
            aws.registry.create_if_missing().await?;
        }
        Ok(aws)
    }

    /// Builds the clients from an SDK configuration.
    ///
    /// DynamoDB requests that are throttled (`ProvisionedThroughputExceeded`,
    /// `ThrottlingException`, `RequestLimitExceeded`) are retried by the SDK's
    /// standard retry strategy, up to 6 attempts with exponential backoff and
    /// jitter from 50 ms; any other error is returned at once.
    pub fn new(sdk: &SdkConfig, config: Config) -> Self {
        let metrics = Arc::new(Metrics::default());
        let retry = RetryConfig::standard()
            .with_max_attempts(DYNAMODB_ATTEMPTS)
            .with_initial_backoff(Duration::from_millis(50));
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(sdk)
            .retry_config(retry)
            .build();
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(dynamodb);
        let registry = Registry::new(dynamodb.clone(), config.table.clone(), metrics.clone());
        let streams = DynamoStreams::new(dynamodb, config.table.clone(), metrics.clone());
        Self {
            registry,
            management: ManagementApi::new(sdk.clone(), metrics.clone()),
            lambda: aws_sdk_lambda::Client::new(sdk),
            streams,
            config,
            metrics,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The peer registry (the connections table).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// History and presence of topics, in the connections table.
    pub fn streams(&self) -> &DynamoStreams {
        &self.streams
    }

    /// The API Gateway Management API.
    pub fn management(&self) -> &ManagementApi {
        &self.management
    }

    /// The calls made so far.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.metrics.snapshot()
    }

    /// A [`xws::Hub`] for functions outside the WebSocket API (an HTTP route,
    /// a scheduled function); it needs the management endpoint
    /// (`XWS_APIGW_ENDPOINT`).
    pub fn hub(self: &Arc<Self>) -> Result<xws::Hub, AwsError> {
        let endpoint = self.config.endpoint.clone().ok_or(AwsError::NoEndpoint {
            context: " to publish from outside the WebSocket API",
        })?;
        Ok(xws::Hub::new(Arc::new(AwsHub::new(self.clone(), endpoint))))
    }
}
