//! Scenarios for SSE streams served by serverless functions (Vercel, a
//! Lambda function URL, a plain Worker), where each stream is one
//! invocation, instances share nothing, and a stream ends before the
//! platform's limit.
//!
//! They need a stream whose first event is the current state, which is
//! the latest publication (as the dashboard's: the latest metrics), and a
//! way to publish from another invocation ([`FunctionTarget::publish`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::client::{EventStreamClient, StreamEnd, get_with_headers};
use crate::{ScenarioError, ensure_eq};

/// Publishes once from another invocation and returns the event data every
/// stream must receive for it.
pub type Publish = Arc<dyn Fn() -> BoxFuture<'static, Result<String, ScenarioError>> + Send + Sync>;

/// One instance's stream: its URL and the headers that reach it.
#[derive(Clone, Debug)]
pub struct StreamUrl {
    /// `http://…/api/stream…`.
    pub url: String,
    /// Headers to send (a pin to one instance, where the platform allows one).
    pub headers: Vec<(String, String)>,
}

impl StreamUrl {
    /// `url` without extra headers.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    async fn open(
        &self,
        extra: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<EventStreamClient, ScenarioError> {
        let mut headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        headers.extend_from_slice(extra);
        EventStreamClient::connect(&self.url, &headers, timeout).await
    }
}

/// A function target under test.
#[derive(Clone)]
pub struct FunctionTarget {
    /// The stream, on different instances where the target can say which
    /// (at least one).
    pub streams: Vec<StreamUrl>,
    /// Publishes from another invocation.
    pub publish: Publish,
    /// How long a stream lives on this deployment (shortened for tests):
    /// each must end, cleanly, within it (plus [`Self::timeout`]).
    pub lifetime: Duration,
    /// The wait for each expected event.
    pub timeout: Duration,
}

impl std::fmt::Debug for FunctionTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionTarget")
            .field("streams", &self.streams)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl FunctionTarget {
    fn stream(&self, instance: usize) -> &StreamUrl {
        &self.streams[instance % self.streams.len()]
    }
}

/// Whether `got` (an event's data) is the publication `expected`: equal, or
/// equal once the stream position a topic with history adds to a JSON
/// object (`"offset"`, `"epoch"`) is taken out.
fn is_publication(expected: &str, got: &str) -> bool {
    let parsed = (
        serde_json::from_str::<serde_json::Value>(expected),
        serde_json::from_str::<serde_json::Value>(got),
    );
    match parsed {
        (Ok(expected), Ok(serde_json::Value::Object(mut got))) => {
            got.remove("offset");
            got.remove("epoch");
            expected == serde_json::Value::Object(got)
        }
        _ => expected == got,
    }
}

/// [`is_publication`], or the mismatch.
fn ensure_publication(what: &str, expected: &str, got: Option<&str>) -> Result<(), ScenarioError> {
    let got = got.unwrap_or_default();
    if is_publication(expected, got) {
        Ok(())
    } else {
        Err(ScenarioError::mismatch(what, expected, got))
    }
}

/// The current state first (the latest publication), then a publication
/// made by another invocation.
pub async fn function_stream_state_then_publications(
    target: &FunctionTarget,
) -> Result<(), ScenarioError> {
    let state = (target.publish)().await?;
    let mut stream = target.stream(0).open(&[], target.timeout).await?;
    let first = stream.expect_data().await?;
    ensure_publication(
        "the first event (the current state)",
        &state,
        first.data.as_deref(),
    )?;
    let next = (target.publish)().await?;
    let got = stream.expect_data().await?;
    ensure_publication(
        "the next event (the publication)",
        &next,
        got.data.as_deref(),
    )
}

/// Streams held by different instances each receive every publication
/// made by another invocation, once and in order.
pub async fn function_stream_across_instances(
    target: &FunctionTarget,
) -> Result<(), ScenarioError> {
    let state = (target.publish)().await?;
    let mut streams = Vec::new();
    for instance in 0..target.streams.len().max(2) {
        let mut stream = target.stream(instance).open(&[], target.timeout).await?;
        let first = stream.expect_data().await?;
        ensure_publication(
            &format!("the current state on stream {instance}"),
            &state,
            first.data.as_deref(),
        )?;
        streams.push(stream);
    }
    // Two publications: a duplicate of the first would come before the second.
    let published = [(target.publish)().await?, (target.publish)().await?];
    for (instance, stream) in streams.iter_mut().enumerate() {
        for expected in &published {
            let got = stream.expect_data().await?;
            ensure_publication(
                &format!("a publication on stream {instance}"),
                expected,
                got.data.as_deref(),
            )?;
        }
    }
    Ok(())
}

/// A stream ends by itself before the platform's limit: cleanly (not cut),
/// with a `retry:` hint; the client that reconnects gets the current state
/// first again.
pub async fn function_stream_ends_before_limit(
    target: &FunctionTarget,
) -> Result<(), ScenarioError> {
    let state = (target.publish)().await?;
    let mut stream = target.stream(0).open(&[], target.timeout).await?;
    let (_, end) = stream.read_to_end(target.lifetime + target.timeout).await?;
    match end {
        StreamEnd::Clean { retry: Some(_) } => {}
        other => {
            return Err(ScenarioError::mismatch(
                "the end of the stream",
                "a clean end after a retry: hint",
                format!("{other:?}"),
            ));
        }
    }
    let mut again = target.stream(0).open(&[], target.timeout).await?;
    let first = again.expect_data().await?;
    ensure_publication(
        "the first event after reconnecting",
        &state,
        first.data.as_deref(),
    )
}

/// A stream that ends before the platform's limit resumes: the client
/// reconnects with the id of the last event it saw (`Last-Event-ID`, as
/// `EventSource` does) and gets the publications made while it was away,
/// oldest first, each once, then a `recovered` event (`true`), then live
/// ones. Needs a topic with history shared by every instance.
pub async fn function_stream_resumes_after_limit(
    target: &FunctionTarget,
) -> Result<(), ScenarioError> {
    (target.publish)().await?;
    let mut stream = target.stream(0).open(&[], target.timeout).await?;
    stream.expect_data().await?;
    let seen = (target.publish)().await?;
    let got = stream.expect_data().await?;
    ensure_publication("a publication", &seen, got.data.as_deref())?;
    let last_id = got.id.ok_or_else(|| {
        ScenarioError::mismatch(
            "the publication's event",
            "an id (its stream position)",
            "none",
        )
    })?;
    let (_, end) = stream.read_to_end(target.lifetime + target.timeout).await?;
    if !matches!(end, StreamEnd::Clean { retry: Some(_) }) {
        return Err(ScenarioError::mismatch(
            "the end of the stream",
            "a clean end after a retry: hint",
            format!("{end:?}"),
        ));
    }
    // While the client is away.
    let missed = [(target.publish)().await?, (target.publish)().await?];
    let mut again = target
        .stream(0)
        .open(&[("last-event-id", last_id.as_str())], target.timeout)
        .await?;
    for expected in &missed {
        let got = again.expect_data().await?;
        ensure_publication(
            "a missed publication, replayed",
            expected,
            got.data.as_deref(),
        )?;
    }
    let recovered = again.expect_data().await?;
    ensure_eq(
        "the recovery's outcome",
        (Some("recovered"), Some("true")),
        (recovered.event.as_deref(), recovered.data.as_deref()),
    )?;
    // Live again, and no replayed publication twice.
    let live = (target.publish)().await?;
    let got = again.expect_data().await?;
    ensure_publication("the next live publication", &live, got.data.as_deref())
}

/// A WebSocket handshake gets an HTTP refusal that names the alternative,
/// never a hang or an upgrade.
pub async fn function_websocket_refused(target: &FunctionTarget) -> Result<(), ScenarioError> {
    let stream = target.stream(0);
    let mut headers: Vec<(&str, &str)> = stream
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    headers.extend([
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]);
    let answer = get_with_headers(&stream.url, &headers, target.timeout).await?;
    ensure_eq(
        "the status of a WebSocket handshake",
        501,
        answer.status.as_u16(),
    )?;
    let body = String::from_utf8_lossy(&answer.body);
    if !body.contains("SSE") {
        return Err(ScenarioError::mismatch(
            "the refusal's body",
            "the alternative (SSE)",
            body,
        ));
    }
    Ok(())
}

/// What [`measure`] saw, in milliseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Latencies {
    /// From sending the `GET` to the first event (the current state).
    pub first_event_ms: Vec<f64>,
    /// From sending the publication (another invocation) to its arrival on
    /// a stream held by another instance.
    pub publish_to_delivery_ms: Vec<f64>,
}

impl Latencies {
    /// The median and the largest of `samples`.
    pub fn summary(samples: &[f64]) -> (f64, f64) {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
        (median, sorted.last().copied().unwrap_or(f64::NAN))
    }
}

impl std::fmt::Display for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (first, first_max) = Self::summary(&self.first_event_ms);
        let (delivery, delivery_max) = Self::summary(&self.publish_to_delivery_ms);
        write!(
            f,
            "time to first event: median {first:.1} ms, max {first_max:.1} ms ({} streams); \
             publish to delivery on another instance: median {delivery:.1} ms, max {delivery_max:.1} ms ({} publications)",
            self.first_event_ms.len(),
            self.publish_to_delivery_ms.len()
        )
    }
}

/// Measures, not checks: `rounds` times, opens a stream on each of two
/// instances (timing the first event), then publishes and times the
/// arrival on the second. For benchmarks and reports, never a pass/fail.
pub async fn measure(target: &FunctionTarget, rounds: usize) -> Result<Latencies, ScenarioError> {
    let mut latencies = Latencies::default();
    (target.publish)().await?;
    for _ in 0..rounds {
        let mut streams = Vec::new();
        for instance in 0..2 {
            let started = std::time::Instant::now();
            let mut stream = target.stream(instance).open(&[], target.timeout).await?;
            stream.expect_data().await?;
            latencies
                .first_event_ms
                .push(started.elapsed().as_secs_f64() * 1000.0);
            streams.push(stream);
        }
        let started = std::time::Instant::now();
        let published = (target.publish)().await?;
        // Other publications (a schedule) may come first: wait for this one.
        while !is_publication(
            &published,
            streams[1]
                .expect_data()
                .await?
                .data
                .as_deref()
                .unwrap_or_default(),
        ) {}
        latencies
            .publish_to_delivery_ms
            .push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(latencies)
}

/// A scenario of this module.
pub type FunctionScenario =
    for<'a> fn(&'a FunctionTarget) -> BoxFuture<'a, Result<(), ScenarioError>>;

/// Every scenario above, by name, for a target's tests.
pub const ALL: &[(&str, FunctionScenario)] = &[
    ("function_stream_state_then_publications", |t| {
        Box::pin(function_stream_state_then_publications(t))
    }),
    ("function_stream_across_instances", |t| {
        Box::pin(function_stream_across_instances(t))
    }),
    ("function_stream_ends_before_limit", |t| {
        Box::pin(function_stream_ends_before_limit(t))
    }),
    ("function_websocket_refused", |t| {
        Box::pin(function_websocket_refused(t))
    }),
    ("function_stream_resumes_after_limit", |t| {
        Box::pin(function_stream_resumes_after_limit(t))
    }),
];
