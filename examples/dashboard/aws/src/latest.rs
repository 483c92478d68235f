//! The latest metrics in DynamoDB, where the `tick` and `ws` functions
//! both see them.

use aws_sdk_dynamodb::{Client, types::AttributeValue};
use dashboard::{LatestMetrics, Metrics};
use xws::BoxError;
use xws_aws::{AwsError, Config};

/// The item's partition key; the adapter's own items use `conn` and
/// `topic#…` (see `xws_aws::registry`), so it shares their table.
const PK: &str = "app#dashboard";
/// The item's sort key.
const SK: &str = "latest";
/// The attribute holding the metrics as JSON.
const METRICS: &str = "metrics";

/// [`LatestMetrics`] in one DynamoDB item of the connections table.
#[derive(Clone, Debug)]
pub struct DynamoLatest {
    client: Client,
    table: String,
}

impl DynamoLatest {
    /// The item in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The item in the table `XWS_TABLE` names, with the SDK configured from
    /// the environment (`AWS_ENDPOINT_URL_DYNAMODB` for local runs).
    pub async fn from_env() -> Result<Self, AwsError> {
        let config = Config::from_env()?;
        let sdk = xws_aws::sdk_config().await;
        Ok(Self::new(Client::new(&sdk), config.table))
    }

    fn key(&self) -> [(String, AttributeValue); 2] {
        [
            ("pk".into(), AttributeValue::S(PK.into())),
            ("sk".into(), AttributeValue::S(SK.into())),
        ]
    }
}

impl LatestMetrics for DynamoLatest {
    async fn get(&self) -> Result<Option<Metrics>, BoxError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key().into()))
            .consistent_read(true)
            .send()
            .await?;
        let Some(json) = answer
            .item
            .as_ref()
            .and_then(|item| item.get(METRICS))
            .and_then(|value| value.as_s().ok())
        else {
            return Ok(None);
        };
        Ok(Some(serde_json::from_str(json)?))
    }

    async fn set(&self, metrics: &Metrics) -> Result<(), BoxError> {
        let [pk, sk] = self.key();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(pk.0, pk.1)
            .item(sk.0, sk.1)
            .item(METRICS, AttributeValue::S(serde_json::to_string(metrics)?))
            .send()
            .await?;
        Ok(())
    }
}
