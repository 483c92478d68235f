//! `GET /api/tick`, the cron job: publishes the next sample to every
//! instance's streams and answers what they received.

use dashboard_vercel::{RedisLatest, tick};
use vercel_runtime::{Request, Response, service_fn};
use xws_vercel::init_tracing;

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    init_tracing();
    let latest = RedisLatest::from_env().await?;
    // Kept in the topic's history, which the streams resume from.
    let hub = xws_vercel::hub_from_env_with(dashboard::stream_history()).await?;
    vercel_runtime::run(service_fn(move |_request: Request| {
        let (hub, latest) = (hub.clone(), latest.clone());
        async move {
            let metrics = tick(&hub, &latest).await?;
            // What every stream received, as they received it.
            let published = serde_json::to_string(&metrics.message())?;
            Ok::<_, vercel_runtime::Error>(
                Response::builder()
                    .header("content-type", "application/json")
                    .body(published)?,
            )
        }
    }))
    .await
}
