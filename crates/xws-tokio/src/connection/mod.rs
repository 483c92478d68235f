//! One WebSocket connection: read, run hooks, write, until it closes.

mod ending;
mod heartbeat;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::{sync::Arc, time::Duration};
use tokio::{sync::mpsc, time::Instant};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{self, Utf8Bytes, protocol::Role, protocol::WebSocketConfig},
};
use xws::{
    CloseCode, CloseFrame, Error, Handler, Message, Peer, RateDecision, RateLimiter, RequestInfo,
    Text, adapter::SubscribePolicy,
};

use crate::{
    admission::Permit,
    hooks::{contained, guarded},
    link::{Frame, LinkKind, PeerLink},
    transport::TokioTransport,
    xws::Shared,
};
use ending::Ending;
use heartbeat::{Beat, Heartbeat};

/// Frames written per flush at most, so one busy peer cannot starve reads.
const WRITE_BATCH: usize = 64;
/// How long closing may take: queued frames, the close frame, the reply.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);
/// A slow reader's close gets less: its socket is already backed up.
const SLOW_READER_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Target size of tungstenite's write buffer before it writes to the socket.
const WRITE_BUFFER_SIZE: usize = 8 * 1024;

type Socket = WebSocketStream<TokioIo<Upgraded>>;

/// Runs a freshly upgraded connection to its end.
pub(crate) async fn run<H: Handler>(
    shared: Arc<Shared<H>>,
    upgraded: Upgraded,
    request: RequestInfo,
    context: H::Context,
    permit: Permit,
) {
    let limits = &shared.config.limits;
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(shared.config.read_buffer_size)
        .write_buffer_size(WRITE_BUFFER_SIZE)
        // No cap: tungstenite refuses any frame larger than the cap (the
        // connection then drops), and the buffer cannot grow anyway: when
        // the socket blocks, tokio-tungstenite flushes it entirely before it
        // takes the next frame. The peer's queue bounds what waits.
        .max_write_buffer_size(usize::MAX)
        .max_message_size(Some(limits.max_message_size))
        .max_frame_size(Some(limits.max_message_size));
    let ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config))
            .await;

    let id = shared.registry.new_peer_id();
    let (link, queue) = PeerLink::new(
        id.clone(),
        LinkKind::WebSocket,
        limits.send_queue,
        limits.slow_consumer,
    );
    let link = Arc::new(link);
    let transport = TokioTransport {
        link: Arc::clone(&link),
        registry: Arc::clone(&shared.registry),
    };
    let policy: Arc<dyn SubscribePolicy<H::Context>> = shared.handler.clone();
    let peer = Peer::new(id, request, context, Box::new(transport), policy);
    shared.registry.insert(&link);

    let now = Instant::now();
    let connection = Connection {
        limiter: limits
            .rate
            .map(|rate| RateLimiter::new(rate, shared.now_ms())),
        heartbeat: limits.heartbeat.map(|hb| Heartbeat::new(hb, now)),
        last_seen: now,
        shared,
        ws,
        peer,
        link,
        queue,
    };
    connection.run().await;
    drop(permit);
}

struct Connection<H: Handler> {
    shared: Arc<Shared<H>>,
    ws: Socket,
    peer: Peer<H::Context>,
    link: Arc<PeerLink>,
    queue: mpsc::Receiver<Frame>,
    limiter: Option<RateLimiter>,
    heartbeat: Option<Heartbeat>,
    last_seen: Instant,
}

/// What woke the connection loop.
enum Event {
    CloseRequested,
    Shutdown,
    Outgoing(Option<Frame>),
    Incoming(Option<Result<tungstenite::Message, tungstenite::Error>>),
    Heartbeat,
}

impl<H: Handler> Connection<H> {
    async fn run(mut self) {
        tracing::debug!(peer = %self.peer.id(), path = %self.peer.request().path, "peer open");
        if let Err(error) = guarded(self.shared.handler.open(&self.peer)).await {
            self.fail(error).await;
        }
        let ending = self.serve().await;
        let frame = ending.frame();
        self.finish(ending).await;
        tracing::debug!(peer = %self.peer.id(), code = %frame.code, "peer closed");
        contained(self.shared.handler.close(&self.peer, frame)).await;
        self.shared
            .registry
            .remove(self.peer.id(), &self.peer.topics());
    }

    /// The loop: writes first (latency), then reads, then the heartbeat.
    async fn serve(&mut self) -> Ending {
        let link = Arc::clone(&self.link);
        let shutdown = self.shared.shutdown.clone();
        loop {
            if let Some(frame) = self.link.close_frame() {
                return Ending::Close(frame);
            }
            let heartbeat_at = self.heartbeat.as_ref().map(Heartbeat::deadline);
            let event = tokio::select! {
                biased;
                () = link.closing() => Event::CloseRequested,
                () = shutdown.cancelled() => Event::Shutdown,
                frame = self.queue.recv() => Event::Outgoing(frame),
                incoming = self.ws.next() => Event::Incoming(incoming),
                () = sleep_until(heartbeat_at), if heartbeat_at.is_some() => Event::Heartbeat,
            };
            match event {
                Event::CloseRequested => {}
                Event::Shutdown => {
                    return Ending::Close(CloseFrame::new(
                        CloseCode::GOING_AWAY,
                        "server shutting down",
                    ));
                }
                // The link holds a sender for as long as the peer lives.
                Event::Outgoing(None) => return Ending::Dropped,
                Event::Outgoing(Some(frame)) => {
                    if let Err(ending) = self.write_batch(frame).await {
                        return ending;
                    }
                }
                Event::Incoming(None) => return Ending::Dropped,
                Event::Incoming(Some(Err(error))) => return Ending::from_error(error),
                Event::Incoming(Some(Ok(message))) => {
                    self.last_seen = Instant::now();
                    match message {
                        tungstenite::Message::Text(text) => {
                            let text = Text::from_utf8(Bytes::from(text));
                            // tungstenite already validated UTF-8.
                            if let Ok(text) = text {
                                self.on_message(Message::Text(text)).await;
                            }
                        }
                        tungstenite::Message::Binary(bytes) => {
                            self.on_message(Message::Binary(bytes)).await;
                        }
                        tungstenite::Message::Close(frame) => {
                            return Ending::ClosedByClient(ending::from_tungstenite(frame));
                        }
                        // tungstenite answers pings itself; any frame proves liveness.
                        _ => {}
                    }
                }
                Event::Heartbeat => {
                    let Some(heartbeat) = self.heartbeat.as_mut() else {
                        continue;
                    };
                    match heartbeat.wake(Instant::now(), self.last_seen) {
                        Beat::Wait => {}
                        Beat::Ping => {
                            if self
                                .ws
                                .send(tungstenite::Message::Ping(Bytes::new()))
                                .await
                                .is_err()
                            {
                                return Ending::Dropped;
                            }
                        }
                        Beat::Dead => {
                            tracing::debug!(peer = %self.peer.id(), "heartbeat timed out");
                            // As `Limits::heartbeat` documents: a half-open or
                            // stuck client still learns why (the close is
                            // bounded by a timeout if nobody reads it).
                            return Ending::Close(CloseFrame::new(
                                CloseCode::INTERNAL_ERROR,
                                "heartbeat timed out",
                            ));
                        }
                    }
                }
            }
        }
    }

    /// Handles one message: rate limit, then the `message` hook.
    async fn on_message(&mut self, message: Message) {
        if let Some(limiter) = self.limiter.as_mut() {
            match limiter.check(self.shared.now_ms()) {
                RateDecision::Allow => {}
                RateDecision::Refuse => {
                    self.report(&Error::RateLimited).await;
                    return;
                }
                RateDecision::Close => {
                    tracing::warn!(peer = %self.peer.id(), "sustained flood: closing with 1008");
                    self.report(&Error::RateLimited).await;
                    self.link.request_close(CloseFrame::new(
                        CloseCode::POLICY_VIOLATION,
                        "rate limit exceeded",
                    ));
                    return;
                }
            }
        }
        if let Err(error) = guarded(self.shared.handler.message(&self.peer, message)).await {
            self.fail(error).await;
        }
    }

    /// A hook failed or panicked: log it, tell the handler, close with 1011.
    async fn fail(&mut self, error: Error) {
        tracing::error!(peer = %self.peer.id(), %error, "handler failed; closing the peer with 1011");
        self.report(&error).await;
        self.link.request_close(CloseFrame::new(
            CloseCode::INTERNAL_ERROR,
            "internal server error",
        ));
    }

    async fn report(&mut self, error: &Error) {
        contained(self.shared.handler.error(&self.peer, error)).await;
    }

    /// Writes `first` and whatever else is queued, then flushes once. A close
    /// request interrupts a write stuck on a reader that does not read.
    async fn write_batch(&mut self, first: Frame) -> Result<(), Ending> {
        let link = Arc::clone(&self.link);
        let write = async {
            feed(&mut self.ws, first).await?;
            for _ in 1..WRITE_BATCH {
                match self.queue.try_recv() {
                    Ok(frame) => feed(&mut self.ws, frame).await?,
                    Err(_) => break,
                }
            }
            self.ws.flush().await
        };
        tokio::select! {
            biased;
            result = write => result.map_err(|_| Ending::Dropped),
            () = link.closing() => Err(Ending::Close(link.close_frame().unwrap_or_else(CloseFrame::normal))),
        }
    }

    /// Ends the connection as `ending` says, within a bounded time.
    async fn finish(&mut self, ending: Ending) {
        let (timeout, frame) = match ending {
            Ending::Dropped => return,
            Ending::ClosedByClient(_) => (CLOSE_TIMEOUT, None),
            Ending::Close(frame) if frame.code == CloseCode::TRY_AGAIN_LATER => {
                (SLOW_READER_CLOSE_TIMEOUT, Some(frame))
            }
            Ending::Close(frame) => (CLOSE_TIMEOUT, Some(frame)),
        };
        let close = async {
            if let Some(frame) = frame {
                // What was queued before the close is delivered before it.
                while let Ok(queued) = self.queue.try_recv() {
                    feed(&mut self.ws, queued).await?;
                }
                self.ws.close(Some(ending::to_tungstenite(&frame))).await?;
            }
            // Keep reading until the other side's close (or ours) completes.
            while let Some(Ok(_)) = self.ws.next().await {}
            Ok::<_, tungstenite::Error>(())
        };
        if tokio::time::timeout(timeout, close).await.is_err() {
            tracing::debug!(peer = %self.peer.id(), "close handshake timed out");
        }
    }
}

/// Queues one frame in tungstenite's write buffer.
async fn feed(ws: &mut Socket, frame: Frame) -> Result<(), tungstenite::Error> {
    let message = match frame {
        Frame::Message(Message::Binary(bytes)) => tungstenite::Message::Binary(bytes),
        Frame::Message(Message::Text(text)) => match Utf8Bytes::try_from(text.into_bytes()) {
            Ok(text) => tungstenite::Message::Text(text),
            Err(_) => return Ok(()),
        },
        // Pre-encoded frames are for SSE streams only.
        Frame::Encoded(_) => return Ok(()),
    };
    ws.feed(message).await
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
