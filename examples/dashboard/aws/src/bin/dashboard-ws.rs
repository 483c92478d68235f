//! The dashboard's WebSocket API function: current metrics on `$connect`,
//! subscribed to `metrics-updates`.

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    xws_aws::function::init_tracing();
    let latest = dashboard_aws::DynamoLatest::from_env().await?;
    xws_aws::serve(xws_aws::Xws::from_env(dashboard::DashboardHandler::new(latest)).await?).await
}
