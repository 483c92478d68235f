//! The SSE function, behind a function URL with `InvokeMode:
//! RESPONSE_STREAM`: `ImportStream` as a `text/event-stream` for the
//! token's user, the latest import event first, then the events the worker
//! publishes through Redis, each with its position in the user's topic
//! history (in the same Redis) as id, so a reconnecting `EventSource`
//! resumes.

use import_progress::{ImportStream, RedisProgress, progress_history};
use xws_aws::function::init_tracing;

#[tokio::main]
async fn main() -> Result<(), xws_aws::lambda_runtime::Error> {
    init_tracing();
    let latest = RedisProgress::from_env().await?;
    xws_aws::function_url::run_with(ImportStream::new(latest), progress_history()).await
}
