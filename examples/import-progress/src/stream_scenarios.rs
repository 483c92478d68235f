//! The import stream's scenarios on the function targets (Vercel, a Lambda
//! function URL): one user's SSE stream, read by a third-party HTTP client,
//! follows an import that another invocation runs and publishes through
//! the broker; the stream ends before the (shortened) limit and resumes
//! with `Last-Event-ID`, every step once.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sse_stream::Sse;
use xws_testkit::client::{
    EventStreamClient, StreamEnd, get_with_headers, post_json_with_headers, post_raw,
};
use xws_testkit::{ScenarioError, ensure_eq};

pub use per_user::scenarios::{WAIT, unique_user};

/// The records of the import a stream follows whole: 10 batches of one,
/// then completion, within one stream's lifetime.
const SHORT: u64 = 10;
/// The records of the import a stream's end cuts: 20 batches of two.
const TOTAL: u64 = 40;
/// Events of an import of [`TOTAL`] records: 20 batches, then completion.
const EVENTS: usize = 21;

/// Where the functions of one deployment answer.
#[derive(Clone, Debug)]
pub struct StreamDeployment {
    /// The base of `/api/login` and `/api/start-import`, `http://host:port`.
    pub http: String,
    /// The stream function's URL, e.g. `http://host:port/api/stream`.
    pub stream: String,
    /// Headers sending a stream to an instance, one list per instance
    /// (where the platform lets a client choose; one empty list otherwise).
    pub stream_instances: Vec<Vec<(String, String)>>,
    /// Headers sending `POST /api/start-import` to another instance than
    /// the streams' (empty where the platform picks).
    pub start_headers: Vec<(String, String)>,
    /// How long a stream lives on this deployment (shortened for tests).
    pub lifetime: Duration,
    /// The job's pause between two batches (`IMPORT_STEP_MS`).
    pub step: Duration,
}

impl StreamDeployment {
    fn instance(&self, index: usize) -> Vec<(&str, &str)> {
        self.stream_instances
            .get(index % self.stream_instances.len().max(1))
            .map(|headers| {
                headers
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Logs `user` in through `POST /api/login?user=U`; returns the token.
    pub async fn login(&self, user: &str) -> Result<String, ScenarioError> {
        let url = format!("{}/api/login?user={user}", self.http);
        let answer = post_raw(&url, "", WAIT).await?;
        ensure_eq("the login's status", 200, answer.status.as_u16())?;
        let body = answer.json()?;
        body["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ScenarioError::mismatch("the login's answer", "a token", body))
    }

    /// Opens the stream with `query` on instance `instance`, with `extra` headers.
    pub async fn open(
        &self,
        instance: usize,
        query: &str,
        extra: &[(&str, &str)],
    ) -> Result<EventStreamClient, ScenarioError> {
        let mut headers = self.instance(instance);
        headers.extend_from_slice(extra);
        let url = format!("{}?{query}", self.stream);
        EventStreamClient::connect(&url, &headers, WAIT).await
    }

    /// Starts an import of `total` records as `token`'s user, from another
    /// invocation than the streams'; checks the 202.
    pub async fn start(&self, token: &str, total: u64) -> Result<(), ScenarioError> {
        let url = format!("{}/api/start-import?token={token}", self.http);
        let headers: Vec<(&str, &str)> = self
            .start_headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let answer =
            post_json_with_headers(&url, &headers, &json!({ "total": total }), WAIT).await?;
        ensure_eq("start-import's status", 202, answer.status.as_u16())
    }

    /// The status and body of `GET` on the stream with `query` and `headers`.
    async fn refusal(
        &self,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<(u16, String), ScenarioError> {
        let url = format!("{}?{query}", self.stream);
        let answer = get_with_headers(&url, headers, WAIT).await?;
        let body = String::from_utf8_lossy(&answer.body).into_owned();
        Ok((answer.status.as_u16(), body))
    }
}

/// An import event's JSON, or the mismatch.
fn import_event(event: &Sse) -> Result<Value, ScenarioError> {
    let data = event.data.as_deref().unwrap_or_default();
    let mut value: Value = serde_json::from_str(data)
        .map_err(|_| ScenarioError::mismatch("an import event", "JSON", data))?;
    // A topic with history adds the event's position to a JSON object.
    if let Some(object) = value.as_object_mut() {
        object.remove("offset");
        object.remove("epoch");
    }
    if value["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("import-"))
    {
        Ok(value)
    } else {
        Err(ScenarioError::mismatch("an import event", "import-*", data))
    }
}

/// Checks that `events` are one import of `total` records, each step once
/// and in order: progress rising strictly to `total`, then completion, each
/// with its own id (its position in the topic's history).
fn ensure_one_import(events: &[Sse], total: u64) -> Result<(), ScenarioError> {
    let mut current = 0;
    let mut ids = std::collections::BTreeSet::new();
    for (index, event) in events.iter().enumerate() {
        let value = import_event(event)?;
        let id = event.id.clone().ok_or_else(|| {
            ScenarioError::mismatch("an import event's id", "its position", value.to_string())
        })?;
        if !ids.insert(id.clone()) {
            return Err(ScenarioError::mismatch(
                "each event once",
                "a new id",
                format!("{id} again: {value}"),
            ));
        }
        let last = index + 1 == events.len();
        if last {
            return ensure_eq(
                "the last event",
                json!({"type":"import-complete","total":total}),
                value,
            );
        }
        let now = value["current"].as_u64().unwrap_or(0);
        if value["type"] != "import-progress" || now <= current || now > total {
            return Err(ScenarioError::mismatch(
                format!("event {index}"),
                format!("progress rising from {current} to at most {total}"),
                value.to_string(),
            ));
        }
        current = now;
    }
    Err(ScenarioError::mismatch(
        "an import's events",
        "progress, then import-complete",
        "nothing",
    ))
}

/// Reads `stream` up to `import-complete`: the events, `recovered` apart
/// (returned as whether one came, and its data).
async fn read_import(
    stream: &mut EventStreamClient,
) -> Result<(Vec<Sse>, Option<String>), ScenarioError> {
    let mut events = Vec::new();
    let mut recovered = None;
    loop {
        let event = stream.expect_data().await?;
        if event.event.as_deref() == Some("recovered") {
            recovered = event.data.clone();
            continue;
        }
        let complete = import_event(&event)?["type"] == "import-complete";
        events.push(event);
        if complete {
            return Ok((events, recovered));
        }
    }
}

/// A user's stream (on one instance) follows the import another
/// invocation runs: every step in order, then `import-complete`; another
/// user's stream (on another instance), open all along, receives nothing
/// of it up to its end; a stream opened afterwards starts from the latest
/// event.
pub async fn stream_follows_an_import(deployment: &StreamDeployment) -> Result<(), ScenarioError> {
    let (ada, bob) = (unique_user("ada"), unique_user("bob"));
    let (ada_token, bob_token) = (deployment.login(&ada).await?, deployment.login(&bob).await?);
    let mut ada_stream = deployment
        .open(0, &format!("token={ada_token}"), &[])
        .await?;
    let mut bob_stream = deployment
        .open(1, &format!("token={bob_token}"), &[])
        .await?;

    deployment.start(&ada_token, SHORT).await?;
    let (events, _) = read_import(&mut ada_stream).await?;
    ensure_one_import(&events, SHORT)?;
    ensure_eq("events of one import", 11, events.len())?;

    // Bob's stream, open all along, ends by itself with nothing of ada's
    // (and where each stream holds an environment, a Lambda's, that one is
    // free again).
    let (leaked, _) = bob_stream.read_to_end(deployment.lifetime + WAIT).await?;
    ensure_eq("events of ada's import on bob's stream", 0, leaked.len())?;

    // The initial state of a new stream: the latest event.
    let mut later = deployment
        .open(1, &format!("token={ada_token}"), &[])
        .await?;
    let first = import_event(&later.expect_data().await?)?;
    ensure_eq(
        "a new stream's first event (the latest)",
        json!({"type":"import-complete","total":SHORT}),
        first,
    )
}

/// The stream ends by itself before the (shortened) limit mid-import, with
/// a `retry:` hint; the client reconnects with `Last-Event-ID` and gets
/// the steps it missed from the topic's history, then `recovered: true`,
/// then live ones: every step exactly once, in order.
pub async fn stream_resumes_mid_import(deployment: &StreamDeployment) -> Result<(), ScenarioError> {
    let ada = unique_user("ada");
    let token = deployment.login(&ada).await?;
    let query = format!("token={token}");
    let opened = Instant::now();
    let mut stream = deployment.open(0, &query, &[]).await?;
    // Start so that the stream's end falls in the middle of the import.
    let import_time = deployment.step * u32::try_from(EVENTS).unwrap_or(u32::MAX);
    let start_at = deployment.lifetime.saturating_sub(import_time / 2);
    tokio::time::sleep(start_at.saturating_sub(opened.elapsed())).await;
    deployment.start(&token, TOTAL).await?;

    let (before, end) = stream.read_to_end(deployment.lifetime + WAIT).await?;
    let StreamEnd::Clean { retry: Some(retry) } = end else {
        return Err(ScenarioError::mismatch(
            "the end of the stream",
            "a clean end after a retry: hint",
            format!("{end:?}"),
        ));
    };
    // Away as long as EventSource waits, and for a few steps at least, so
    // some arrive only through the history.
    tokio::time::sleep(Duration::from_millis(retry).max(deployment.step * 3)).await;
    let last_id = before.last().and_then(|e| e.id.clone()).ok_or_else(|| {
        ScenarioError::mismatch("events before the stream's end", "some, with ids", "none")
    })?;
    if before.len() >= EVENTS {
        return Err(ScenarioError::mismatch(
            "the stream's end",
            "before the import completed (the timing of this test)",
            "after it",
        ));
    }
    let mut again = deployment
        .open(1, &query, &[("last-event-id", last_id.as_str())])
        .await?;
    let (after, recovered) = read_import(&mut again).await?;
    ensure_eq("the recovery's outcome", Some("true"), recovered.as_deref())?;
    let all: Vec<Sse> = before.into_iter().chain(after).collect();
    ensure_one_import(&all, TOTAL)?;
    ensure_eq("events across the two streams", EVENTS, all.len())
}

/// Without a token 401, another user's topic or name 403, a WebSocket
/// handshake 501 naming SSE; starting an import without a token 401.
pub async fn stream_refusals(deployment: &StreamDeployment) -> Result<(), ScenarioError> {
    let (ada, bob) = (unique_user("ada"), unique_user("bob"));
    let token = deployment.login(&ada).await?;
    let (status, _) = deployment.refusal("", &[]).await?;
    ensure_eq("a stream without a token", 401, status)?;
    let (status, _) = deployment
        .refusal(&format!("token={token}&topic=user:{bob}"), &[])
        .await?;
    ensure_eq("a stream of another user's topic", 403, status)?;
    let (status, _) = deployment
        .refusal(&format!("token={token}&user={bob}"), &[])
        .await?;
    ensure_eq("a stream naming another user", 403, status)?;
    let websocket = [
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let (status, body) = deployment
        .refusal(&format!("token={token}"), &websocket)
        .await?;
    ensure_eq("a WebSocket handshake", 501, status)?;
    if !body.contains("SSE") {
        return Err(ScenarioError::mismatch(
            "the WebSocket refusal's body",
            "the alternative (SSE)",
            body,
        ));
    }
    let url = format!("{}/api/start-import", deployment.http);
    let answer = post_json_with_headers(&url, &[], &json!({"total": 1}), WAIT).await?;
    ensure_eq("start-import without a token", 401, answer.status.as_u16())
}

/// Not a check: time to the first event of a new stream (the latest
/// event), and from the `POST` that starts an import to its first event on
/// a stream of another instance, less the job's first pause (so: the
/// start's answer, the job's first publication through Redis, delivery).
/// Medians of `rounds`, in ms.
pub async fn measure(
    deployment: &StreamDeployment,
    rounds: usize,
) -> Result<(Vec<f64>, Vec<f64>), ScenarioError> {
    let (mut first_event, mut delivery) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let user = unique_user("ada");
        let token = deployment.login(&user).await?;
        let query = format!("token={token}");
        let mut stream = deployment.open(0, &query, &[]).await?;
        let started = Instant::now();
        deployment.start(&token, 1).await?;
        stream.expect_data().await?;
        let elapsed = started.elapsed().saturating_sub(deployment.step);
        delivery.push(elapsed.as_secs_f64() * 1000.0);
        read_import(&mut stream).await?;
        let opened = Instant::now();
        let mut later = deployment.open(1, &query, &[]).await?;
        later.expect_data().await?;
        first_event.push(opened.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((first_event, delivery))
}

/// The scenarios as `#[tokio::test]` functions against the
/// `(guard, StreamDeployment)` `$deployment` evaluates to (once per test,
/// in an async context; the guard keeps the deployment up).
#[macro_export]
macro_rules! stream_scenario_tests {
    ($deployment:expr) => {
        #[tokio::test]
        async fn stream_follows_an_import_from_another_invocation() {
            let (_guard, deployment) = $deployment;
            $crate::stream_scenarios::stream_follows_an_import(&deployment)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn stream_ends_before_the_limit_and_resumes_every_step_once() {
            let (_guard, deployment) = $deployment;
            $crate::stream_scenarios::stream_resumes_mid_import(&deployment)
                .await
                .unwrap();
        }

        #[tokio::test]
        async fn stream_refuses_no_token_another_user_and_websocket() {
            let (_guard, deployment) = $deployment;
            $crate::stream_scenarios::stream_refusals(&deployment)
                .await
                .unwrap();
        }
    };
}

/// `median M ms, max X ms (N)` of `samples` in ms.
pub fn summary(samples: &[f64]) -> String {
    let (median, max) = xws_testkit::serverless::Latencies::summary(samples);
    format!("median {median:.1} ms, max {max:.1} ms ({})", samples.len())
}
