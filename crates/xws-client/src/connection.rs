//! One open connection: write the queue, read events, keep the heartbeat.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::{sync::atomic::Ordering, time::Duration};
use tokio::{net::TcpStream, sync::mpsc, time::Instant};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{self, Utf8Bytes, protocol::CloseFrame, protocol::frame::coding::CloseCode},
};
use xws::Message;

use crate::{APP_PING, APP_PONG, ClientConfig, Event, client::Shared};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long the closing handshake may take when the app closes.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How a connection ended.
pub(crate) enum Ended {
    /// `Client::close` was called.
    ByApp,
    /// The server closed, the network dropped, or the heartbeat gave up.
    Closed { code: u16, reason: String },
}

impl Ended {
    fn dropped(reason: &str) -> Self {
        Ended::Closed {
            code: 1006,
            reason: reason.to_owned(),
        }
    }
}

/// Serves `ws` until it ends.
/// `on_open`'s messages go first, then `resubscriptions` (the streams,
/// from their positions), then the queue.
pub(crate) async fn serve<T: DeserializeOwned>(
    mut ws: Socket,
    resubscriptions: Vec<Message>,
    config: &ClientConfig,
    shared: &Shared,
    events: &mpsc::Sender<Event<T>>,
) -> Ended {
    let on_open = config
        .on_open
        .as_ref()
        .map(|on_open| on_open())
        .unwrap_or_default();
    let first: Vec<Message> = on_open.into_iter().chain(resubscriptions).collect();
    if !first.is_empty() {
        for message in first {
            if ws
                .feed(to_tungstenite(shared.encode(message)))
                .await
                .is_err()
            {
                return Ended::dropped("write failed");
            }
        }
        if ws.flush().await.is_err() {
            return Ended::dropped("flush failed");
        }
    }
    let mut heartbeat = config
        .ping_interval
        .map(|interval| Heartbeat::new(interval, config.ping_timeout, Instant::now()));
    loop {
        if let Err(ended) = write_queue(&mut ws, shared).await {
            return ended;
        }
        let wake_at = heartbeat.as_ref().map(Heartbeat::deadline);
        tokio::select! {
            biased;
            () = shared.close_requested.notified() => {
                if shared.closing.load(Ordering::Acquire) {
                    close(&mut ws).await;
                    return Ended::ByApp;
                }
            }
            () = shared.queue.ready.notified() => {}
            incoming = ws.next() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(error)) => return Ended::dropped(&error.to_string()),
                    None => return Ended::dropped("connection closed"),
                };
                if let Some(heartbeat) = heartbeat.as_mut() {
                    heartbeat.alive();
                }
                match message {
                    tungstenite::Message::Text(text) if text.as_str() == APP_PONG => {}
                    tungstenite::Message::Text(text) => {
                        if let Some(frame) = xws::client::parse_close_notice(text.as_str()) {
                            // A server that cannot send a close frame with a
                            // code (API Gateway) sends this notice, then closes.
                            let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(None)).await;
                            return Ended::Closed { code: u16::from(frame.code), reason: frame.reason };
                        }
                        if let Some(bytes) = xws::client::parse_binary_notice(text.as_str()) {
                            let _ = events.send(Event::Binary(bytes.into())).await;
                            continue;
                        }
                        let Some(event) = decode(text.as_str(), config, shared) else {
                            continue;
                        };
                        let _ = events.send(event).await;
                    }
                    tungstenite::Message::Binary(bytes) => {
                        let _ = events.send(Event::Binary(bytes)).await;
                    }
                    tungstenite::Message::Close(frame) => {
                        // Answer the close, briefly: the server may be gone.
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(None)).await;
                        return match frame {
                            Some(frame) => Ended::Closed {
                                code: u16::from(frame.code),
                                reason: frame.reason.as_str().to_owned(),
                            },
                            None => Ended::Closed { code: 1005, reason: String::new() },
                        };
                    }
                    // tungstenite answers protocol pings itself.
                    _ => {}
                }
            }
            () = sleep_until(wake_at), if wake_at.is_some() => {
                let Some(heartbeat) = heartbeat.as_mut() else { continue };
                match heartbeat.wake(Instant::now()) {
                    Beat::Wait => {}
                    Beat::Ping => {
                        if ws.send(tungstenite::Message::text(APP_PING)).await.is_err() {
                            return Ended::dropped("write failed");
                        }
                    }
                    Beat::Dead => {
                        tracing::debug!("no answer to the app-level ping: the connection is dead");
                        return Ended::dropped("heartbeat timeout");
                    }
                }
            }
        }
    }
}

/// The event for a text message, or `None` for a stream's publication
/// seen already (a replay overlapping what arrived live).
fn decode<T: DeserializeOwned>(
    text: &str,
    config: &ClientConfig,
    shared: &Shared,
) -> Option<Event<T>> {
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Some(Event::Text(text.to_owned()));
    };
    if shared
        .streams
        .lock()
        .is_duplicate(&value, &config.stream_of)
    {
        return None;
    }
    Some(match T::deserialize(&value) {
        Ok(message) => Event::Message(message),
        Err(_) => Event::Text(text.to_owned()),
    })
}

/// Hands every queued message to the socket, then flushes.
async fn write_queue(ws: &mut Socket, shared: &Shared) -> Result<(), Ended> {
    let mut wrote = false;
    while let Some(message) = shared.queue.pop() {
        if let Err(error) = ws.feed(to_tungstenite(message.clone())).await {
            shared.queue.unpop(message);
            return Err(Ended::dropped(&error.to_string()));
        }
        wrote = true;
    }
    if wrote && ws.flush().await.is_err() {
        return Err(Ended::dropped("flush failed"));
    }
    Ok(())
}

async fn close(ws: &mut Socket) {
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: Utf8Bytes::from_static(""),
    };
    let handshake = async {
        ws.close(Some(frame)).await?;
        while let Some(Ok(_)) = ws.next().await {}
        Ok::<_, tungstenite::Error>(())
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, handshake).await;
}

fn to_tungstenite(message: Message) -> tungstenite::Message {
    match message {
        Message::Text(text) => match Utf8Bytes::try_from(text.into_bytes()) {
            Ok(text) => tungstenite::Message::Text(text),
            Err(_) => tungstenite::Message::Binary(Bytes::new()),
        },
        Message::Binary(bytes) => tungstenite::Message::Binary(bytes),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// What the heartbeat wants when it wakes.
#[derive(Debug, PartialEq, Eq)]
enum Beat {
    Ping,
    Wait,
    Dead,
}

/// Sends a ping every `interval`; without any message back within
/// `timeout` the connection is dead.
#[derive(Debug)]
struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Instant,
    waiting_since: Option<Instant>,
}

impl Heartbeat {
    fn new(interval: Duration, timeout: Duration, now: Instant) -> Self {
        Self {
            interval,
            timeout,
            next_ping: now + interval,
            waiting_since: None,
        }
    }

    fn deadline(&self) -> Instant {
        match self.waiting_since {
            Some(sent) => sent + self.timeout,
            None => self.next_ping,
        }
    }

    /// Any message proves the connection alive.
    fn alive(&mut self) {
        self.waiting_since = None;
    }

    fn wake(&mut self, now: Instant) -> Beat {
        if let Some(sent) = self.waiting_since {
            return if now >= sent + self.timeout {
                Beat::Dead
            } else {
                Beat::Wait
            };
        }
        if now >= self.next_ping {
            self.waiting_since = Some(now);
            self.next_ping = now + self.interval;
            return Beat::Ping;
        }
        Beat::Wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_server_is_dead_after_interval_plus_timeout() {
        let t0 = Instant::now();
        let mut heartbeat = Heartbeat::new(Duration::from_secs(25), Duration::from_secs(10), t0);
        assert_eq!(heartbeat.deadline(), t0 + Duration::from_secs(25));
        assert_eq!(heartbeat.wake(t0 + Duration::from_secs(25)), Beat::Ping);
        assert_eq!(heartbeat.wake(t0 + Duration::from_secs(30)), Beat::Wait);
        assert_eq!(heartbeat.wake(t0 + Duration::from_secs(35)), Beat::Dead);
    }

    #[test]
    fn an_answer_resets_the_wait() {
        let t0 = Instant::now();
        let mut heartbeat = Heartbeat::new(Duration::from_secs(25), Duration::from_secs(10), t0);
        assert_eq!(heartbeat.wake(t0 + Duration::from_secs(25)), Beat::Ping);
        heartbeat.alive();
        assert_eq!(heartbeat.deadline(), t0 + Duration::from_secs(50));
    }
}
