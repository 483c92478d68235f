//! `GET /api/stream?token=T`: the token's user's imports as server-sent
//! events, the latest event first, each with its position as id, so a
//! reconnecting `EventSource` resumes.

use import_progress::{ImportStream, RedisProgress, progress_history};
use xws_vercel::init_tracing;

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    init_tracing();
    let latest = RedisProgress::from_env().await?;
    xws_vercel::run_with(ImportStream::new(latest), progress_history()).await
}
