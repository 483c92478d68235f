//! The chat's WebSocket API function: `$connect`, `$default`, `$disconnect`.

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    chat_aws::init_tracing();
    xws_aws::serve(xws_aws::Xws::from_env(chat::ChatHandler::from_env()).await?).await
}
