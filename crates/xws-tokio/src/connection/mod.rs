//! One WebSocket connection: read, run hooks, write, until it closes.
//!
//! One task per connection runs [`Connection::serve`]: it waits for the
//! first of a close request, shutdown, frames queued for the peer, an
//! event from the client (through [`Socket`]: the wire protocol with no
//! buffer held while idle) and the heartbeat. The task's future is what
//! an idle connection costs, so the cold hooks (`open`, `close`) and the
//! close handshake run boxed: their futures do not size the task.

mod ending;
mod heartbeat;
mod socket;

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::{
    future::{Future, poll_fn},
    pin::pin,
    sync::Arc,
    time::Duration,
};
use tokio::time::Instant;
use xws::{CloseCode, CloseFrame, Handler, RequestInfo};

use crate::{
    admission::Permits,
    app::Shared,
    deflate::Negotiated,
    dispatch::{Dispatcher, new_peer},
    link::{Frame, LinkKind},
    outbox::OutboxReader,
    wire::{Decoded, Decoder, Incoming, ServerFrame},
    write_deadline::WriteDeadline,
};
use ending::Ending;
use heartbeat::{Beat, Heartbeat};
use socket::{Socket, WRITE_BATCH};

/// How long closing may take: queued frames, the close frame, the reply.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);
/// A slow reader's close gets less: its socket is already backed up.
const SLOW_READER_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

type Io = WriteDeadline<TokioIo<Upgraded>>;

/// The close every WebSocket peer gets at shutdown.
pub(crate) fn shutdown_frame() -> CloseFrame {
    CloseFrame::new(CloseCode::GOING_AWAY, "server shutting down")
}

/// A freshly upgraded connection, ready to [`run`](Connection::run).
pub(crate) fn open<H: Handler>(
    shared: Arc<Shared<H>>,
    upgraded: Upgraded,
    request: RequestInfo,
    context: H::Context,
    permit: Permits,
    deflate: Option<Negotiated>,
) -> Connection<H> {
    let limits = &shared.config.limits;
    let io = WriteDeadline::new(TokioIo::new(upgraded), shared.config.write_timeout);
    let decoder = Decoder::new(deflate.is_some(), limits.max_message_size);
    let (peer, link, queue) = new_peer(&shared, LinkKind::WebSocket, request, context);
    link.set_byte_budget(limits.send_queue_bytes);
    let window_bits = deflate.map(|negotiated| negotiated.server_window_bits);
    link.set_deflate(window_bits);
    let now = Instant::now();
    Connection {
        heartbeat: limits.heartbeat.map(|hb| Heartbeat::new(hb, now)),
        last_seen: now,
        dispatch: Dispatcher::new(shared, peer, link),
        socket: Socket::new(io, decoder),
        queue,
        batch: Vec::new(),
        window_bits,
        _permit: permit,
    }
}

/// A WebSocket peer's connection task.
pub(crate) struct Connection<H: Handler> {
    dispatch: Dispatcher<H>,
    socket: Socket<Io>,
    queue: OutboxReader,
    /// Frames taken from the queue for the next write, reused.
    batch: Vec<Frame>,
    heartbeat: Option<Heartbeat>,
    last_seen: Instant,
    /// The server's window when the client negotiated permessage-deflate.
    window_bits: Option<u8>,
    /// Counts the connection against the limits until it ends.
    _permit: Permits,
}

/// What woke the connection loop.
enum Event {
    CloseRequested,
    Outgoing,
    Incoming(Result<Decoded, socket::ReadError>),
    Heartbeat,
}

impl<H: Handler> Connection<H> {
    /// Runs the connection to its end.
    ///
    /// Not an `async fn`: one would keep `self` twice in its state (the
    /// argument, and the binding its body moves it into). The hooks and the
    /// close handshake are boxed, built apart from their `.await` (a
    /// future moved into a call in the awaiting statement is kept in the
    /// state too).
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn would hold `self` twice"
    )]
    pub(crate) fn run(mut self) -> impl Future<Output = ()> {
        async move {
            let open = Box::pin(self.dispatch.open());
            open.await;
            let ending = self.serve().await;
            let frame = ending.frame();
            let finish = Box::pin(self.finish(ending));
            finish.await;
            let close = Box::pin(self.dispatch.close(frame));
            close.await;
        }
    }

    /// The loop: writes first (latency), then reads, then the heartbeat.
    async fn serve(&mut self) -> Ending {
        // The heartbeat's timer lives across iterations: re-creating it
        // would register a timer per message.
        // Shutdown asks every listed peer to close; this one was listed
        // when it opened, so it sees either the request or the token.
        if self.dispatch.shared.shutdown.is_cancelled() {
            return Ending::Close(shutdown_frame());
        }
        let far_future = Instant::now() + Duration::from_secs(86_400 * 365);
        let mut heartbeat_timer = pin!(tokio::time::sleep_until(
            self.heartbeat
                .as_ref()
                .map_or(far_future, Heartbeat::deadline)
        ));
        loop {
            if let Some(frame) = self.dispatch.link.close_frame() {
                return Ending::Close(frame);
            }
            let event = tokio::select! {
                biased;
                () = poll_fn(|cx| self.dispatch.link.poll_closing(cx)) => Event::CloseRequested,
                _ = self.queue.batch(&mut self.batch, WRITE_BATCH) => Event::Outgoing,
                incoming = self.socket.next() => Event::Incoming(incoming),
                () = &mut heartbeat_timer, if self.heartbeat.is_some() => Event::Heartbeat,
            };
            match event {
                Event::CloseRequested => {}
                // The link holds a sender for as long as the peer lives.
                Event::Outgoing => {
                    if let Err(ending) = self.write_batch().await {
                        return ending;
                    }
                }
                Event::Incoming(Err(error)) => return Ending::from_read_error(error),
                Event::Incoming(Ok(decoded)) => {
                    // Any frame proves liveness.
                    self.last_seen = Instant::now();
                    // The frames before this event (a message's
                    // continuations, pings) are charged before it.
                    self.charge_frames().await;
                    let Decoded::Incoming(incoming) = decoded else {
                        continue;
                    };
                    match incoming {
                        Incoming::Message(message) => {
                            // Boxed: the hook's future would otherwise size
                            // every idle connection's task. One allocation
                            // per message, next to the message's own.
                            let handling = Box::pin(self.dispatch.message(message));
                            handling.await;
                        }
                        Incoming::Ping(payload) => {
                            let pong = ServerFrame::pong(payload);
                            if let Err(error) = self.socket.send(pong).await {
                                return Ending::from_write_error(&error);
                            }
                        }
                        Incoming::Pong => {}
                        Incoming::Close(close) => return Ending::ClosedByClient(close),
                    }
                }
                Event::Heartbeat => {
                    let Some(heartbeat) = self.heartbeat.as_mut() else {
                        continue;
                    };
                    let beat = heartbeat.wake(Instant::now(), self.last_seen);
                    heartbeat_timer.as_mut().reset(heartbeat.deadline());
                    match beat {
                        Beat::Wait => {}
                        Beat::Ping => {
                            let ping = ServerFrame::ping(Bytes::new());
                            if let Err(error) = self.socket.send(ping).await {
                                return Ending::from_write_error(&error);
                            }
                        }
                        Beat::Dead => {
                            tracing::debug!(peer = %self.dispatch.peer().id(), "heartbeat timed out");
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

    /// Charges the continuation and control frames decoded so far to the
    /// rate limit (a flood of them closes with 1008 like a message flood).
    async fn charge_frames(&mut self) {
        let frames = self.socket.decoder().take_uncharged();
        if frames > 0 {
            // Boxed like a message's hook (see `serve`).
            let charging = Box::pin(self.dispatch.control_frames(frames));
            charging.await;
        }
    }

    /// Writes the taken batch. A close request interrupts a write stuck on
    /// a reader that does not read.
    async fn write_batch(&mut self) -> Result<(), Ending> {
        let write = self.socket.write_batch(&mut self.batch, self.window_bits);
        let link = &self.dispatch.link;
        tokio::select! {
            biased;
            result = write => result.map_err(|error| Ending::from_write_error(&error)),
            () = poll_fn(|cx| link.poll_closing(cx)) => {
                let frame = self.dispatch.link.close_frame().unwrap_or_else(CloseFrame::normal);
                Err(Ending::Close(frame))
            }
        }
    }

    /// Ends the connection as `ending` says, within a bounded time.
    async fn finish(&mut self, ending: Ending) {
        let (timeout, close) = match ending {
            Ending::Dropped => return,
            Ending::Stalled => {
                tracing::warn!(peer = %self.dispatch.peer().id(), timeout = ?self.dispatch.shared.config.write_timeout,
                    "a write made no progress: closing a client that does not read");
                return;
            }
            Ending::ClosedByClient(close) => {
                // The reply echoes the client's code (RFC 6455 §5.5.1).
                let code = if close.has_code {
                    close.frame.code
                } else {
                    CloseCode::NO_STATUS
                };
                let reply = ServerFrame::close(&CloseFrame::new(code, ""));
                if tokio::time::timeout(CLOSE_TIMEOUT, self.socket.send(reply))
                    .await
                    .is_err()
                {
                    tracing::debug!(peer = %self.dispatch.peer().id(), "close reply timed out");
                }
                return;
            }
            Ending::Close(frame) if frame.code == CloseCode::TRY_AGAIN_LATER => {
                (SLOW_READER_CLOSE_TIMEOUT, frame)
            }
            Ending::Close(frame) => (CLOSE_TIMEOUT, frame),
        };
        let close = async {
            // What was queued before the close is delivered before it.
            self.queue.take(&mut self.batch, usize::MAX);
            self.socket
                .write_batch(&mut self.batch, self.window_bits)
                .await?;
            self.socket.send(ServerFrame::close(&close)).await?;
            // Read until the client answers (frames are no longer charged).
            loop {
                match self.socket.next().await {
                    Ok(Decoded::Incoming(Incoming::Close(_))) | Err(_) => break,
                    Ok(_) => {
                        self.socket.decoder().take_uncharged();
                    }
                }
            }
            Ok::<_, std::io::Error>(())
        };
        if tokio::time::timeout(timeout, close).await.is_err() {
            tracing::debug!(peer = %self.dispatch.peer().id(), "close handshake timed out");
        }
    }
}
