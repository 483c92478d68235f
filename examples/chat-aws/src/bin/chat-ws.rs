//! The chat's WebSocket API function: `$connect`, `$default`, `$disconnect`.

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    chat_aws::init_tracing();
    xws_aws::run(chat::ChatHandler::from_env()).await
}
