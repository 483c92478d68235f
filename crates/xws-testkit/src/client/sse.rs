//! A Server-Sent Events subscriber for tests.

use std::time::Duration;

use futures_util::StreamExt;
use http::{Method, StatusCode};
use hyper::body::Incoming;
use sse_stream::{Sse, SseStream};

use super::http::{content_type, send_with};
use crate::ScenarioError;
use crate::error::within;

/// An open SSE stream.
pub struct SseClient {
    events: SseStream<Incoming>,
    url: String,
    timeout: Duration,
}

impl std::fmt::Debug for SseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SseClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Opens `GET url` as an event stream; fails unless the answer is `200` with
/// `Content-Type: text/event-stream`. `timeout` bounds this and every later wait.
pub async fn sse_connect(url: &str, timeout: Duration) -> Result<SseClient, ScenarioError> {
    sse_resume(url, None, timeout).await
}

/// [`sse_connect`] as a reconnecting `EventSource` does: with
/// `Last-Event-ID: last_event_id` when given.
pub async fn sse_resume(
    url: &str,
    last_event_id: Option<&str>,
    timeout: Duration,
) -> Result<SseClient, ScenarioError> {
    let headers: Vec<(&str, &str)> = last_event_id
        .map(|id| ("last-event-id", id))
        .into_iter()
        .collect();
    let response = send_with(Method::GET, url, &headers, None, timeout).await?;
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
    Ok(SseClient {
        events: SseStream::new(response.into_body()),
        url: url.to_owned(),
        timeout,
    })
}

impl SseClient {
    /// The next event that carries data; comment-only blocks (keep-alives) are skipped.
    pub async fn next_event(&mut self) -> Result<Sse, ScenarioError> {
        next_data_event(&mut self.events, &self.url, self.timeout).await
    }
}

async fn next_data_event<S, E>(
    events: &mut S,
    url: &str,
    timeout: Duration,
) -> Result<Sse, ScenarioError>
where
    S: futures_util::Stream<Item = Result<Sse, E>> + Unpin,
    E: std::fmt::Display,
{
    let waiting = async {
        loop {
            match events.next().await {
                None => {
                    return Err(ScenarioError::mismatch(
                        format!("SSE stream {url}"),
                        "an event",
                        "end of stream",
                    ));
                }
                Some(Err(error)) => {
                    return Err(ScenarioError::transport(
                        format!("reading SSE stream {url}"),
                        error,
                    ));
                }
                Some(Ok(event)) if event.data.is_some() => return Ok(event),
                Some(Ok(_keep_alive)) => {}
            }
        }
    };
    within(timeout, || format!("an event on {url}"), waiting).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use sse_stream::SseStream;

    fn chunks(
        parts: &[&'static str],
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
        futures_util::stream::iter(
            parts
                .iter()
                .map(|part| Ok(Bytes::from_static(part.as_bytes())))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn events_split_across_chunks_keep_id_event_and_data() {
        let body = chunks(&[
            ": keep-alive\n\n",
            "id: 7\nevent: mess",
            "age\ndata: {\"a\":",
            "1}\n\nid: 8\r\nevent: message\r\ndata: x\r\ndata: y\r\n\r\n",
        ]);
        let mut events = SseStream::from_bytes_stream(body);
        let timeout = Duration::from_secs(1);
        let first = next_data_event(&mut events, "test", timeout).await.unwrap();
        assert_eq!(first.id.as_deref(), Some("7"));
        assert_eq!(first.event.as_deref(), Some("message"));
        assert_eq!(first.data.as_deref(), Some("{\"a\":1}"));
        let second = next_data_event(&mut events, "test", timeout).await.unwrap();
        assert_eq!(second.id.as_deref(), Some("8"));
        assert_eq!(second.data.as_deref(), Some("x\ny"));
        let end = next_data_event(&mut events, "test", timeout)
            .await
            .unwrap_err();
        assert!(end.to_string().contains("end of stream"), "{end}");
    }

    #[tokio::test]
    async fn a_silent_stream_times_out_with_a_clear_message() {
        let mut events = SseStream::from_bytes_stream(futures_util::stream::pending::<
            Result<Bytes, std::io::Error>,
        >());
        let error = next_data_event(&mut events, "http://x/sse", Duration::from_millis(20))
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("an event on http://x/sse"),
            "{error}"
        );
    }
}
