//! The xws dashboard on a plain Cloudflare Worker: `dashboard::DashboardStream`
//! runs in the Worker's request, one SSE stream per request
//! (`xws_cloudflare::WorkerStreams`); the metrics topic's publications go
//! through a Durable Object per topic (`Topics`, an
//! `xws_cloudflare::TopicBroker`), which also keeps the latest one, so a
//! new stream shows the current metrics first.
//!
//! Routes: `GET /api/stream` (the stream), `POST /api/tick` (publishes the
//! next sample and answers it, as the cron trigger does every minute), and
//! the page at `/` (`EventSource` on the stream).
#![cfg(target_arch = "wasm32")]

use dashboard::{DashboardStream, LatestMetrics, Metrics, TOPIC};
use worker::{Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent, event};
use xws::{BoxError, Message, Topic};
use xws_cloudflare::{TopicBrokers, WorkerStreams, broker_hub};

/// The binding of the topic brokers in `wrangler.toml`.
const BROKERS: &str = "TOPICS";

/// The page: the metrics through `EventSource`.
const PAGE: &str = include_str!("../../static/stream.html");

mod topics;

/// The latest metrics are the metrics topic's latest publication, which
/// its broker keeps: nothing else to store.
struct BrokerLatest(TopicBrokers);

impl LatestMetrics for BrokerLatest {
    async fn get(&self) -> Result<Option<Metrics>, BoxError> {
        let Some(message) = self.0.latest(&Topic::new(TOPIC)?).await? else {
            return Ok(None);
        };
        let published: serde_json::Value = serde_json::from_slice(message.bytes())?;
        Ok(Some(serde_json::from_value(published["metrics"].clone())?))
    }

    async fn set(&self, _metrics: &Metrics) -> Result<(), BoxError> {
        Ok(())
    }
}

fn latest(env: &Env) -> worker::Result<BrokerLatest> {
    TopicBrokers::new(env, BROKERS)
        .map(BrokerLatest)
        .map_err(to_worker)
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match (request.method(), request.path().as_str()) {
        (_, "/api/stream") => {
            let streams = WorkerStreams::new(DashboardStream::new(latest(&env)?), BROKERS)
                .with_vars(&env)
                .map_err(to_worker)?;
            streams.stream(request, &env).await
        }
        (Method::Get, "/") => Response::from_html(PAGE),
        (Method::Post, "/api/tick") => {
            let published = tick(&env).await.map_err(to_worker)?;
            let mut response = Response::ok(published)?;
            response
                .headers_mut()
                .set("content-type", "application/json")?;
            Ok(response)
        }
        _ => Response::error("not found", 404),
    }
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    if let Err(error) = tick(&env).await {
        worker::console_error!("publishing metrics failed: {error}");
    }
}

/// The next sample after the latest, published to every stream; answers
/// the message as the streams got it.
async fn tick(env: &Env) -> Result<String, BoxError> {
    let latest = latest(env)?;
    let sample = latest.get().await?.map_or(1, |m| m.sample + 1);
    let metrics = Metrics::sample(sample, None, 0);
    let message = Message::json(&metrics.message())?;
    let published = message.text()?.to_owned();
    broker_hub(env, BROKERS)?.publish(TOPIC, message).await?;
    Ok(published)
}

fn to_worker(error: impl std::fmt::Display) -> worker::Error {
    worker::Error::RustError(error.to_string())
}
