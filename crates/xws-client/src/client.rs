//! The handle the app holds, the events it reads, and the task that keeps
//! a connection up.

use parking_lot::Mutex;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};
use tokio::sync::{Notify, mpsc};
use xws::Message;

use crate::{
    ClientConfig, CloseInfo, Event, Position, SendError,
    backoff::random_unit,
    connection::{self, Ended},
    queue::Queue,
    streams::Streams,
};

/// Where the client is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// The first attempt is under way.
    Connecting,
    /// Connected.
    Open,
    /// Between attempts after a drop or a failure.
    Reconnecting,
    /// Closed by the app, or gave up.
    Closed,
}

/// What the handle and the task share.
pub(crate) struct Shared {
    pub(crate) queue: Queue,
    state: Mutex<State>,
    pub(crate) closing: AtomicBool,
    pub(crate) close_requested: Notify,
    /// [`ClientConfig::binary_as_text`].
    binary_as_text: bool,
    pub(crate) streams: Mutex<Streams>,
}

impl Shared {
    fn set_state(&self, state: State) {
        *self.state.lock() = state;
    }

    /// Marks the client open and returns the messages that re-subscribe
    /// its streams. One lock with [`Client::subscribe`]'s, so a stream
    /// subscribed meanwhile is sent exactly once: here or by `subscribe`.
    fn open(&self) -> Vec<Message> {
        let streams = self.streams.lock();
        self.set_state(State::Open);
        streams.resubscriptions()
    }

    /// `message` as it goes on the wire ([`ClientConfig::binary_as_text`]).
    pub(crate) fn encode(&self, message: Message) -> Message {
        if self.binary_as_text {
            xws::client::binary_to_notice(&message)
        } else {
            message
        }
    }
}

/// Sends messages and closes; cheap to clone. Messages go through the
/// bounded queue, so they wait there while the client is disconnected.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl Client {
    /// Queues a message (text or binary).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(SendError::Closed);
        }
        self.shared.queue.push(self.shared.encode(message.into()))
    }

    /// Subscribes to `stream` with recovery: `build(since)` is sent now
    /// (when open) and again after every reconnect, before the queue,
    /// `since` being the position up to which every publication of the
    /// stream was seen (`None` before the first). The server replays what
    /// was missed; a publication seen already is dropped, so the app sees
    /// each once, in order. Whether the server could recover is the app
    /// protocol's to say (the chat's `joined` carries `recovered`).
    ///
    /// Publications are told apart by [`ClientConfig::stream_of`]; `stream`
    /// must be the name it gives them.
    ///
    /// ```no_run
    /// # fn demo(client: xws_client::Client) -> Result<(), xws_client::SendError> {
    /// use serde_json::json;
    /// // The chat's rooms: messages name their room in `roomId`.
    /// client.subscribe("lobby", |since| {
    ///     xws::Message::json(&json!({"type": "join-room", "roomId": "lobby", "since": since}))
    ///         .expect("JSON")
    /// })?;
    /// # Ok(()) }
    /// ```
    pub fn subscribe(
        &self,
        stream: impl Into<String>,
        build: impl Fn(Option<&Position>) -> Message + Send + Sync + 'static,
    ) -> Result<(), SendError> {
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(SendError::Closed);
        }
        let mut streams = self.shared.streams.lock();
        let message = streams.subscribe(stream.into(), Arc::new(build));
        if self.state() == State::Open {
            self.shared.queue.push(self.shared.encode(message))?;
        }
        Ok(())
    }

    /// Stops re-subscribing `stream` and forgets its position (send the
    /// server's unsubscribe message yourself).
    pub fn unsubscribe(&self, stream: &str) {
        self.shared.streams.lock().unsubscribe(stream);
    }

    /// The position up to which every publication of `stream` was seen.
    pub fn position(&self, stream: &str) -> Option<Position> {
        self.shared.streams.lock().position(stream)
    }

    /// Queues `value` as a JSON text message.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), SendError> {
        let message = Message::json(value).map_err(|e| SendError::Json(e.to_string()))?;
        self.send(message)
    }

    /// Where the client is now.
    pub fn state(&self) -> State {
        *self.shared.state.lock()
    }

    /// Messages waiting for the socket.
    pub fn queued(&self) -> usize {
        self.shared.queue.len()
    }

    /// Closes for good with 1000: no reconnection, queued messages are
    /// dropped. The events end with a `Close`.
    pub fn close(&self) {
        self.shared.closing.store(true, Ordering::Release);
        self.shared.queue.clear();
        self.shared.close_requested.notify_one();
    }
}

/// The client's events, in order; `None` once it closed for good.
pub struct Events<T> {
    receiver: mpsc::Receiver<Event<T>>,
}

impl<T> Events<T> {
    /// The next event.
    pub async fn next(&mut self) -> Option<Event<T>> {
        self.receiver.recv().await
    }
}

/// Starts a client on the current Tokio runtime. Text messages that decode
/// as `T` arrive as [`Event::Message`]; use `serde_json::Value` to take any
/// JSON.
pub fn connect<T: DeserializeOwned + Send + 'static>(config: ClientConfig) -> (Client, Events<T>) {
    let shared = Arc::new(Shared {
        queue: Queue::new(config.queue_limit),
        state: Mutex::new(State::Connecting),
        closing: AtomicBool::new(false),
        close_requested: Notify::new(),
        binary_as_text: config.binary_as_text,
        streams: Mutex::new(Streams::default()),
    });
    let (sender, receiver) = mpsc::channel(config.event_capacity.max(1));
    tokio::spawn(run(config, Arc::clone(&shared), sender));
    (Client { shared }, Events { receiver })
}

/// Connects, serves, and reconnects until closed or out of attempts.
async fn run<T: DeserializeOwned + Send + 'static>(
    config: ClientConfig,
    shared: Arc<Shared>,
    events: mpsc::Sender<Event<T>>,
) {
    let mut attempt: u32 = 0;
    let mut opened_before = false;
    loop {
        if shared.closing.load(Ordering::Acquire) {
            break;
        }
        let connecting = tokio::time::timeout(
            config.connect_timeout,
            tokio_tungstenite::connect_async(config.url.as_str()),
        );
        let connected = tokio::select! {
            result = connecting => result,
            () = shared.close_requested.notified() => break,
        };
        match connected {
            Ok(Ok((ws, _response))) => {
                attempt = 0;
                let resubscriptions = shared.open();
                let _ = events
                    .send(Event::Open {
                        reconnected: opened_before,
                    })
                    .await;
                opened_before = true;
                match connection::serve(ws, resubscriptions, &config, &shared, &events).await {
                    Ended::ByApp => {
                        let _ = events.send(Event::Close(closed_by_app())).await;
                        shared.set_state(State::Closed);
                        return;
                    }
                    Ended::Closed { code, reason } => {
                        let will_reconnect = config.max_attempts != Some(0);
                        let info = CloseInfo {
                            code,
                            reason,
                            will_reconnect,
                        };
                        tracing::debug!(?info, "connection ended");
                        let _ = events.send(Event::Close(info)).await;
                        if !will_reconnect {
                            shared.set_state(State::Closed);
                            return;
                        }
                    }
                }
            }
            Ok(Err(error)) => {
                let _ = events
                    .send(Event::Error(format!("cannot connect: {error}")))
                    .await;
            }
            Err(_) => {
                let _ = events
                    .send(Event::Error("connecting timed out".to_owned()))
                    .await;
            }
        }
        attempt = attempt.saturating_add(1);
        if config.max_attempts.is_some_and(|max| attempt > max) {
            shared.set_state(State::Closed);
            let reason = format!("gave up after {} reconnection attempts", attempt - 1);
            let _ = events.send(Event::Error(reason.clone())).await;
            let _ = events
                .send(Event::Close(CloseInfo {
                    code: 1006,
                    reason,
                    will_reconnect: false,
                }))
                .await;
            return;
        }
        shared.set_state(State::Reconnecting);
        let delay = config.backoff.delay(attempt, random_unit());
        let _ = events.send(Event::Reconnecting { attempt, delay }).await;
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shared.close_requested.notified() => break,
        }
    }
    shared.set_state(State::Closed);
    let _ = events.send(Event::Close(closed_by_app())).await;
}

fn closed_by_app() -> CloseInfo {
    CloseInfo {
        code: 1000,
        reason: String::new(),
        will_reconnect: false,
    }
}
