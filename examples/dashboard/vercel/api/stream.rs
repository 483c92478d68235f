//! `GET /api/stream`: the dashboard's metrics as server-sent events, each
//! sample with its position as id, so a reconnecting `EventSource` resumes.

use dashboard::DashboardStream;
use dashboard_vercel::RedisLatest;
use xws_vercel::init_tracing;

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    init_tracing();
    let latest = RedisLatest::from_env().await?;
    xws_vercel::run_with(DashboardStream::new(latest), dashboard::stream_history()).await
}
