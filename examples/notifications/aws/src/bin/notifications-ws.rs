//! The WebSocket API function: each connection gets what its user missed
//! and hears of every notification and `mark-read`.

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    xws_aws::function::init_tracing();
    let store = notifications_aws::DynamoStore::from_env().await?;
    xws_aws::serve(xws_aws::Xws::from_env(notifications::NotificationsHandler::new(store)).await?)
        .await
}
