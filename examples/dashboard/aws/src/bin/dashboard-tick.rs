//! The EventBridge-scheduled function: the next sample, published to every
//! WebSocket subscriber and every function URL stream.

use std::sync::Arc;
use xws_aws::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    xws_aws::function::init_tracing();
    let aws = Arc::new(xws_aws::Aws::from_env().await?);
    let hub = aws.hub()?;
    // The function URL's streams hear samples through Redis, which keeps
    // the topic's history they resume from.
    let streams = xws_aws::function_url::hub_from_env_with(dashboard::stream_history()).await?;
    let latest = Arc::new(dashboard_aws::DynamoLatest::from_env().await?);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<dashboard_aws::ScheduledEvent>| {
            let (hub, streams, aws, latest) =
                (hub.clone(), streams.clone(), aws.clone(), latest.clone());
            async move { dashboard_aws::tick(&hub, &streams, &aws, &latest, &event.payload).await }
        },
    ))
    .await
}
