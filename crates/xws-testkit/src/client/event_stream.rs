//! An event stream read to its end: what a serverless function's stream
//! sends, how it ends, and whether it ended cleanly or was cut.

use std::time::Duration;

use futures_util::StreamExt;
use http::{Method, StatusCode};
use hyper::body::Incoming;
use sse_stream::{Sse, SseStream};

use super::http::{content_type, send_with};
use crate::ScenarioError;
use crate::error::within;

/// How a stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEnd {
    /// The body ended properly; `retry` is the last `retry:` hint seen.
    Clean {
        /// The last reconnection delay the server asked for, in ms.
        retry: Option<u64>,
    },
    /// The connection broke mid-body (a platform cutting a function at its limit).
    Cut(String),
}

/// An open `text/event-stream` response.
pub struct EventStreamClient {
    events: SseStream<Incoming>,
    url: String,
    timeout: Duration,
    retry: Option<u64>,
}

impl std::fmt::Debug for EventStreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStreamClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl EventStreamClient {
    /// `GET url` with `headers` (`Last-Event-ID`, a pin to one instance…);
    /// fails unless the answer is `200 text/event-stream`. `timeout` bounds
    /// this and every later wait for an event.
    pub async fn connect(
        url: &str,
        headers: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Self, ScenarioError> {
        let response = send_with(Method::GET, url, headers, None, timeout).await?;
        if response.status() != StatusCode::OK {
            return Err(ScenarioError::mismatch(
                format!("GET {url}"),
                "200 OK",
                response.status(),
            ));
        }
        let media_type = content_type(&response).unwrap_or_default();
        if !media_type.starts_with("text/event-stream") {
            return Err(ScenarioError::mismatch(
                format!("Content-Type of {url}"),
                "text/event-stream",
                format!("{media_type:?}"),
            ));
        }
        Ok(Self {
            events: SseStream::new(response.into_body()),
            url: url.to_owned(),
            timeout,
            retry: None,
        })
    }

    /// The next event carrying data; `Ok(None)` when the stream ended.
    pub async fn next_data(&mut self) -> Result<Option<Sse>, ScenarioError> {
        let url = self.url.clone();
        let timeout = self.timeout;
        let waiting = async {
            loop {
                match self.events.next().await {
                    None => return Ok(None),
                    Some(Err(error)) => {
                        return Err(ScenarioError::transport(
                            format!("reading the event stream {url}"),
                            error,
                        ));
                    }
                    Some(Ok(event)) => {
                        if event.retry.is_some() {
                            self.retry = event.retry;
                        }
                        if event.data.is_some() {
                            return Ok(Some(event));
                        }
                    }
                }
            }
        };
        within(timeout, || format!("an event on {url}"), waiting).await
    }

    /// The next event carrying data, which must come.
    pub async fn expect_data(&mut self) -> Result<Sse, ScenarioError> {
        self.next_data().await?.ok_or_else(|| {
            ScenarioError::mismatch(format!("event stream {}", self.url), "an event", "its end")
        })
    }

    /// Reads to the end, within `limit`: the events still to come, and how
    /// the stream ended.
    pub async fn read_to_end(
        &mut self,
        limit: Duration,
    ) -> Result<(Vec<Sse>, StreamEnd), ScenarioError> {
        let url = self.url.clone();
        let reading = async {
            let mut events = Vec::new();
            loop {
                match self.events.next().await {
                    None => {
                        return Ok((events, StreamEnd::Clean { retry: self.retry }));
                    }
                    Some(Err(error)) => return Ok((events, StreamEnd::Cut(error.to_string()))),
                    Some(Ok(event)) => {
                        if event.retry.is_some() {
                            self.retry = event.retry;
                        }
                        if event.data.is_some() {
                            events.push(event);
                        }
                    }
                }
            }
        };
        within(
            limit,
            || format!("the end of the event stream {url}"),
            reading,
        )
        .await
    }
}
