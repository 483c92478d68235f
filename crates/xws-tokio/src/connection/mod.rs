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
    pin::{Pin, pin},
    sync::Arc,
    task::{Context, Poll, ready},
    time::Duration,
};
use tokio::{
    net::TcpStream,
    time::{Instant, Sleep},
};
use tokio_util::either::Either;
use xws::{CloseCode, CloseFrame, Handler, RequestInfo};

use crate::{
    admission::Permits,
    app::Shared,
    deflate::Negotiated,
    dispatch::{Dispatcher, new_peer},
    link::{Frame, LinkKind},
    outbox::OutboxReader,
    wire::{Decoded, Incoming, ServerFrame},
    write_deadline::WriteDeadline,
};
use ending::Ending;
use heartbeat::{Beat, Heartbeat};
use socket::{Socket, WRITE_BATCH};

/// How long closing may take: queued frames, the close frame, the reply.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);
/// A slow reader's close gets less: its socket is already backed up.
const SLOW_READER_CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Frames' room a connection with no heartbeat keeps in its emptied queue.
const QUEUE_KEPT_WITHOUT_HEARTBEAT: usize = 64;

/// A WebSocket connection's stream: the TCP stream itself when
/// [`serve`](crate::serve) answered the upgrade, else hyper's upgraded one.
pub(crate) type Stream = Either<TcpStream, TokioIo<Upgraded>>;

type Io = WriteDeadline<Stream>;

/// The close every WebSocket peer gets at shutdown.
pub(crate) fn shutdown_frame() -> CloseFrame {
    CloseFrame::new(CloseCode::GOING_AWAY, "server shutting down")
}

/// A freshly upgraded connection, ready to [`run`](Connection::run).
pub(crate) fn open<H: Handler>(
    shared: Arc<Shared<H>>,
    stream: Stream,
    request: RequestInfo,
    context: H::Context,
    permit: Permits,
    deflate: Option<Negotiated>,
) -> Connection<H> {
    let limits = &shared.config.limits;
    let io = WriteDeadline::new(stream, shared.config.write_timeout);
    let (peer, link, queue) = new_peer(&shared, LinkKind::WebSocket, request, context);
    link.set_byte_budget(limits.send_queue_bytes);
    let compression = deflate.is_some();
    let window_bits = deflate.map(|negotiated| negotiated.server_window_bits);
    link.set_deflate(window_bits);
    let socket = Socket::new(io, compression, limits.max_message_size);
    let now = Instant::now();
    Connection {
        heartbeat: limits.heartbeat.as_ref().map(|hb| Heartbeat::new(hb, now)),
        last_seen: now,
        dispatch: Dispatcher::new(shared, peer, link),
        socket,
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
    /// ending are boxed, built apart from their `.await` (a future moved
    /// into a call in the awaiting statement is kept in the state too), and
    /// nothing else lives across two awaits: such a value gets a slot of
    /// its own in every state of the future, the idle one included.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn would hold `self` twice"
    )]
    pub(crate) fn run(mut self) -> impl Future<Output = ()> {
        async move {
            let open = Box::pin(self.dispatch.open());
            open.await;
            let ending = self.serve().await;
            let end = Box::pin(self.end(ending));
            end.await;
        }
    }

    /// The close handshake as `ending` says, then the `close` hook.
    async fn end(&mut self, ending: Ending) {
        let frame = ending.frame();
        self.finish(ending).await;
        self.dispatch.close(frame).await;
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
            match (
                &self.heartbeat,
                &self.dispatch.shared.config.limits.heartbeat
            ) {
                (Some(heartbeat), Some(config)) => heartbeat.deadline(config),
                _ => far_future,
            }
        ));
        loop {
            if let Some(frame) = self.dispatch.link.close_frame() {
                return Ending::Close(frame);
            }
            let event = poll_fn(|cx| self.poll_event(cx, heartbeat_timer.as_mut())).await;
            match event {
                Event::CloseRequested => {}
                // The link holds a sender for as long as the peer lives.
                Event::Outgoing => {
                    if let Err(ending) = self.write_batch().await {
                        return ending;
                    }
                    // With no heartbeat to find the connection quiet, a
                    // queue grown by a burst shrinks once written.
                    if self.heartbeat.is_none() {
                        self.queue.release_if_empty(QUEUE_KEPT_WITHOUT_HEARTBEAT);
                    }
                }
                Event::Incoming(Err(error)) => return Ending::from_read_error(error),
                Event::Incoming(Ok(decoded)) => {
                    // Any frame proves liveness.
                    self.last_seen = Instant::now();
                    // Boxed: the hook's future would otherwise size every
                    // idle connection's task. One allocation per message,
                    // next to the message's own.
                    let handling = Box::pin(self.on_incoming(decoded));
                    if let Some(ending) = handling.await {
                        return ending;
                    }
                }
                Event::Heartbeat => {
                    self.release_idle_buffers();
                    let (Some(heartbeat), Some(config)) = (
                        self.heartbeat.as_mut(),
                        &self.dispatch.shared.config.limits.heartbeat,
                    ) else {
                        continue;
                    };
                    let beat = heartbeat.wake(config, Instant::now(), self.last_seen);
                    heartbeat_timer.as_mut().reset(heartbeat.deadline(config));
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

    /// Gives back the buffers a busy connection keeps between bursts (the
    /// decoder, the queue's and the batch's memory) if they hold nothing.
    fn release_idle_buffers(&mut self) {
        self.socket.release_idle_decoder();
        self.queue.release_if_empty(0);
        if self.batch.is_empty() {
            self.batch = Vec::new();
        }
    }

    /// Charges the frames before `decoded` (a message's continuations,
    /// pings), then acts on it; what it returns ends the connection.
    async fn on_incoming(&mut self, decoded: Decoded) -> Option<Ending> {
        self.charge_frames().await;
        let Decoded::Incoming(incoming) = decoded else {
            return None;
        };
        match incoming {
            Incoming::Message(message) => self.dispatch.message(message).await,
            Incoming::Ping(payload) => {
                let pong = ServerFrame::pong(payload);
                if let Err(error) = self.socket.send(pong).await {
                    return Some(Ending::from_write_error(&error));
                }
            }
            Incoming::Pong => {}
            Incoming::Close(close) => return Some(Ending::ClosedByClient(close)),
        }
        None
    }

    /// The first of the loop's events, in priority order: a close request,
    /// frames to write (latency), the client, the heartbeat. Polled by hand
    /// rather than with `select!`: the waiting future is then no bigger
    /// than its borrows, and it is what every idle connection holds.
    fn poll_event(
        &mut self,
        cx: &mut Context<'_>,
        heartbeat_timer: Pin<&mut Sleep>,
    ) -> Poll<Event> {
        if self.dispatch.link.poll_closing(cx).is_ready() {
            return Poll::Ready(Event::CloseRequested);
        }
        if self
            .queue
            .poll_batch(cx, &mut self.batch, WRITE_BATCH)
            .is_ready()
        {
            return Poll::Ready(Event::Outgoing);
        }
        if let Poll::Ready(incoming) = self.socket.poll_next(cx) {
            return Poll::Ready(Event::Incoming(incoming));
        }
        if self.heartbeat.is_some() && heartbeat_timer.poll(cx).is_ready() {
            return Poll::Ready(Event::Heartbeat);
        }
        Poll::Pending
    }

    /// Charges the continuation and control frames decoded so far to the
    /// rate limit (a flood of them closes with 1008 like a message flood).
    async fn charge_frames(&mut self) {
        let frames = self.socket.take_uncharged();
        if frames > 0 {
            self.dispatch.control_frames(frames).await;
        }
    }

    /// Writes the taken batch. A close request interrupts a write stuck on
    /// a reader that does not read.
    async fn write_batch(&mut self) -> Result<(), Ending> {
        poll_fn(|cx| {
            let Self {
                socket,
                batch,
                window_bits,
                dispatch,
                ..
            } = self;
            if let Poll::Ready(result) = socket.poll_write_batch(cx, batch, *window_bits) {
                return Poll::Ready(result.map_err(|error| Ending::from_write_error(&error)));
            }
            ready!(dispatch.link.poll_closing(cx));
            let frame = dispatch
                .link
                .close_frame()
                .unwrap_or_else(CloseFrame::normal);
            Poll::Ready(Err(Ending::Close(frame)))
        })
        .await
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
                        self.socket.take_uncharged();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest handler: what the task costs before any app state.
    struct Idle;

    impl Handler for Idle {
        type Context = ();
    }

    /// The size of what `f` returns, without calling it.
    fn returned_size<A, F>(_: fn(A) -> F) -> usize {
        size_of::<F>()
    }

    /// What an idle connection costs is mostly this future, in a Tokio task
    /// cell (about 110 bytes more, rounded up to 128). 632 bytes when
    /// written (1,056 before the hooks, the ending and the decoding state
    /// were boxed); up to 656 the task stays in a 768-byte cell. A value
    /// kept across two awaits (see `run`) breaks this.
    #[test]
    fn the_connection_future_stays_small() {
        let size = returned_size(Connection::<Idle>::run);
        assert!(
            size <= 656,
            "the connection's future grew to {size} bytes: its task no longer fits 768 bytes"
        );
    }
}
