//! Server-sent events from a Lambda function URL in response-streaming mode
//! (`InvokeMode: RESPONSE_STREAM`): the current metrics, then every newer
//! sample, until the stream's time is up.
//!
//! The function learns of publications by polling the latest-metrics item
//! the tick function writes ([`DynamoLatest`]): one consistent read per
//! poll interval per open stream. That works the same on AWS and locally,
//! needs no extra infrastructure, and delivers every sample as long as the
//! poll interval is shorter than the tick rate; the price is up to one
//! interval of latency and one read per interval per viewer.

use bytes::Bytes;
use dashboard::{LatestMetrics, Metrics};
use futures_util::stream::{self, Stream};
use std::{convert::Infallible, time::Duration};
use tokio::time::Instant;

/// How long one stream lasts and how often it looks for a new sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SseConfig {
    /// The stream ends cleanly after this long; the client reconnects after
    /// [`SseConfig::retry`]. Function URLs cut streams at 15 minutes.
    pub duration: Duration,
    /// How often the latest-metrics item is read.
    pub poll: Duration,
    /// The `retry:` hint: how long EventSource waits before reconnecting.
    pub retry: Duration,
}

impl Default for SseConfig {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(14 * 60),
            poll: Duration::from_millis(500),
            retry: Duration::from_secs(1),
        }
    }
}

impl SseConfig {
    /// The defaults, overridden by `DASHBOARD_SSE_SECONDS` (stream length)
    /// and `DASHBOARD_SSE_POLL_MS` (poll interval) where set.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok()?.parse::<u64>().ok();
        let mut config = Self::default();
        if let Some(seconds) = var("DASHBOARD_SSE_SECONDS") {
            config.duration = Duration::from_secs(seconds);
        }
        if let Some(millis) = var("DASHBOARD_SSE_POLL_MS") {
            config.poll = Duration::from_millis(millis.max(1));
        }
        config
    }
}

/// One metrics sample as an SSE event, in the message form WebSocket peers
/// get (`{"type":"metrics",…}`), with the sample number as its id.
pub fn event(metrics: &Metrics) -> Bytes {
    let data = serde_json::to_string(&metrics.message()).unwrap_or_default();
    Bytes::from(format!(
        "id: {}\nevent: message\ndata: {data}\n\n",
        metrics.sample
    ))
}

struct Polling<L> {
    latest: L,
    config: SseConfig,
    deadline: Instant,
    /// The last sample sent; `None` before the first read.
    sent: Option<u64>,
    started: bool,
}

/// The event stream: a `retry:` hint and the current metrics, then each
/// newer sample as it is stored, ending before `config.duration`.
pub fn stream<L>(
    latest: L,
    config: SseConfig,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send + 'static
where
    L: LatestMetrics + Send + Sync,
{
    let state = Polling {
        latest,
        config,
        deadline: Instant::now() + config.duration,
        sent: None,
        started: false,
    };
    stream::unfold(state, |mut state| async move {
        if !state.started {
            state.started = true;
            let mut first = format!("retry: {}\n\n", state.config.retry.as_millis()).into_bytes();
            if let Some(metrics) = read(&state.latest).await {
                state.sent = Some(metrics.sample);
                first.extend_from_slice(&event(&metrics));
            }
            return Some((Ok(Bytes::from(first)), state));
        }
        loop {
            let wake = Instant::now() + state.config.poll;
            if wake >= state.deadline {
                tracing::info!("SSE stream time is up; the client reconnects");
                return None;
            }
            tokio::time::sleep_until(wake).await;
            let Some(metrics) = read(&state.latest).await else {
                continue;
            };
            if state.sent.is_none_or(|sent| metrics.sample > sent) {
                state.sent = Some(metrics.sample);
                return Some((Ok(event(&metrics)), state));
            }
        }
    })
}

async fn read(latest: &impl LatestMetrics) -> Option<Metrics> {
    match latest.get().await {
        Ok(metrics) => metrics,
        Err(error) => {
            tracing::warn!(%error, "reading the latest metrics");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dashboard::Latest;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn current_first_then_newer_samples_then_the_end() {
        let latest = Latest::default();
        latest.set(&Metrics::sample(4, None, 0)).await.unwrap();
        let config = SseConfig {
            duration: Duration::from_millis(600),
            poll: Duration::from_millis(50),
            retry: Duration::from_secs(2),
        };
        let mut events = Box::pin(stream(latest.clone(), config));
        let first = events.next().await.unwrap().unwrap();
        let first = String::from_utf8_lossy(&first);
        assert!(first.starts_with("retry: 2000\n\n"), "{first}");
        assert!(first.contains("id: 4\n"), "{first}");
        latest.set(&Metrics::sample(5, None, 0)).await.unwrap();
        let second = events.next().await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(&second).starts_with("id: 5\n"));
        assert!(events.next().await.is_none(), "the stream ends in time");
    }
}
