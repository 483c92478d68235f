//! The scheduled function's body, and the event EventBridge invokes it with.

use dashboard::{LatestMetrics, Metrics};
use serde::Deserialize;
use serde_json::{Value, json};
use xws::{BoxError, Hub};
use xws_aws::Aws;

use crate::DynamoLatest;

/// The fields of an EventBridge `Scheduled Event` the function reads
/// (`{"detail-type":"Scheduled Event","source":"aws.events","time":…}`).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ScheduledEvent {
    /// `Scheduled Event` for a schedule rule.
    pub detail_type: String,
    /// `aws.events` for a schedule rule.
    pub source: String,
    /// When the rule fired (RFC 3339).
    #[serde(default)]
    pub time: String,
}

/// One run of the EventBridge schedule: the sample after the latest one,
/// with the number of open connections, stored and published to every
/// WebSocket subscriber (`hub`, API Gateway) and to the function URL's
/// streams (`streams`, through Redis). Answers
/// `{"sample","delivered","time","published"}` (`time` is the event's,
/// `published` the message as subscribers got it).
pub async fn tick(
    hub: &Hub,
    streams: &Hub,
    aws: &Aws,
    latest: &DynamoLatest,
    event: &ScheduledEvent,
) -> Result<Value, BoxError> {
    if event.detail_type != "Scheduled Event" || event.source != "aws.events" {
        tracing::warn!(
            ?event,
            "not an EventBridge schedule's event; publishing anyway"
        );
    }
    let previous = latest.get().await?;
    let sample = previous.map_or(1, |m| m.sample + 1);
    let connections = aws.registry().connections().await?.len();
    let metrics = Metrics::sample(sample, None, connections);
    let published = serde_json::to_string(&metrics.message())?;
    let delivered = dashboard::publish(hub, latest, metrics.clone()).await?;
    streams
        .publish_json(dashboard::TOPIC, &metrics.message())
        .await?;
    Ok(json!({
        "sample": sample,
        "delivered": delivered,
        "time": event.time,
        "published": published,
    }))
}
