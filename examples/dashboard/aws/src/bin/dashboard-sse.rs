//! The dashboard's SSE function, behind a function URL with
//! `InvokeMode: RESPONSE_STREAM`: `DashboardStream` as a `text/event-stream`,
//! its samples coming from the tick function through Redis.

use dashboard::DashboardStream;
use xws_aws::function::init_tracing;

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    init_tracing();
    let latest = dashboard_aws::DynamoLatest::from_env().await?;
    xws_aws::function_url::run(DashboardStream::new(latest)).await
}
