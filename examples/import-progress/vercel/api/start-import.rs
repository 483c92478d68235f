//! `POST /api/start-import?token=T [{"total":N}]`: 202 at once, then the
//! import runs in this invocation (`waitUntil`), publishing each step to the
//! user's streams on every instance through Redis.

use import_progress::{RedisProgress, progress_history};
use import_progress_vercel::Starter;
use vercel_runtime::{AppState, Request, service_fn};
use xws_vercel::init_tracing;

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    init_tracing();
    let hub = xws_vercel::hub_from_env_with(progress_history()).await?;
    let starter = Starter::from_env(hub, RedisProgress::from_env().await?)?;
    vercel_runtime::run(service_fn(move |request: Request, state: AppState| {
        let starter = starter.clone();
        async move { starter.start(request, &state).await }
    }))
    .await
}
