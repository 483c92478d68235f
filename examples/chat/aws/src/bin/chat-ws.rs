//! The chat's WebSocket API function: `$connect`, `$default`, `$disconnect`.

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    chat_aws::init_tracing();
    let handler = chat::ChatHandler::from_env_with_jwks().await?;
    let aws = std::sync::Arc::new(chat_aws::aws().await?);
    xws_aws::serve(xws_aws::Xws::new(handler, aws)).await
}
