//! `GET /api/stream`: the dashboard's metrics as server-sent events.

use dashboard::DashboardStream;
use dashboard_vercel::{RedisLatest, init_tracing};

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    init_tracing();
    let latest = RedisLatest::from_env().await?;
    xws_vercel::run(DashboardStream::new(latest)).await
}
