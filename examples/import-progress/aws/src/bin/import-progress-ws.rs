//! The WebSocket API function: each connection follows its user's imports.

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    xws_aws::function::init_tracing();
    xws_aws::serve(xws_aws::Xws::from_env(import_progress::ImportHandler).await?).await
}
