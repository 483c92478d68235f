//! The WebSocket API function: each connection follows its user's imports.

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    xws_aws::function::init_tracing();
    xws_aws::run(import_progress::ImportHandler).await
}
