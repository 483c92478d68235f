//! The chat's HTTP API function: `POST /api/broadcast` through the hub.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_aws::init_tracing();
    let aws = Arc::new(xws_aws::Aws::from_env().await?);
    let hub = aws.hub()?;
    let handler = chat::ChatHandler::from_env();
    lambda_http::run(lambda_http::service_fn(move |request| {
        let (hub, handler) = (hub.clone(), handler.clone());
        async move { Ok::<_, lambda_http::Error>(chat_aws::route(&hub, &handler, request).await) }
    }))
    .await
}
