//! The dashboard's SSE function, behind a function URL with
//! `InvokeMode: RESPONSE_STREAM`: `DashboardStream` as a `text/event-stream`,
//! its samples coming from the tick function through Redis, each with its
//! position in the topic's history (in the same Redis) as id, so a
//! reconnecting `EventSource` resumes.

use dashboard::DashboardStream;
use xws_aws::function::init_tracing;

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    init_tracing();
    let latest = dashboard_aws::DynamoLatest::from_env().await?;
    xws_aws::function_url::run_with(DashboardStream::new(latest), dashboard::stream_history()).await
}
