//! One WebSocket connection: read, run hooks, write, until it closes.

mod ending;
mod heartbeat;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use std::{
    future::Future,
    pin::{Pin, pin},
    sync::Arc,
    time::Duration,
};
use tokio::time::Instant;
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{self, Utf8Bytes, protocol::Role, protocol::WebSocketConfig},
};
use xws::{CloseCode, CloseFrame, Handler, Message, RequestInfo, Text};

use crate::{
    admission::Permits,
    app::Shared,
    deflate::{self, Inflating, Negotiated, Side},
    dispatch::{Dispatcher, new_peer},
    frame_meter::{FrameCount, FrameMeter},
    link::{Frame, LinkKind},
    outbox::OutboxReader,
    write_deadline::WriteDeadline,
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

type Socket = WebSocketStream<Inflating<FrameMeter<WriteDeadline<TokioIo<Upgraded>>>>>;

/// Runs a freshly upgraded connection to its end.
pub(crate) async fn run<H: Handler>(
    shared: Arc<Shared<H>>,
    upgraded: Upgraded,
    request: RequestInfo,
    context: H::Context,
    permit: Permits,
    deflate: Option<Negotiated>,
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
    let io = WriteDeadline::new(TokioIo::new(upgraded), shared.config.write_timeout);
    let frames = Arc::new(FrameCount::default());
    let io = FrameMeter::new(io, Arc::clone(&frames));
    let io = Inflating::new(io, Side::Server, deflate.is_some(), limits.max_message_size);
    let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(ws_config)).await;

    let (peer, link, queue) = new_peer(&shared, LinkKind::WebSocket, request, context);
    link.set_byte_budget(limits.send_queue_bytes);
    let window_bits = deflate.map(|negotiated| negotiated.server_window_bits);
    link.set_deflate(window_bits);
    let now = Instant::now();
    let connection = Connection {
        heartbeat: limits.heartbeat.map(|hb| Heartbeat::new(hb, now)),
        last_seen: now,
        dispatch: Dispatcher::new(shared, peer, link),
        ws,
        frames,
        queue,
        batch: Vec::new(),
        window_bits,
    };
    connection.run().await;
    drop(permit);
}

struct Connection<H: Handler> {
    dispatch: Dispatcher<H>,
    ws: Socket,
    /// Continuation and control frames read but not yet rate-limited.
    frames: Arc<FrameCount>,
    queue: OutboxReader,
    /// Frames taken from the queue for the next write, reused.
    batch: Vec<Frame>,
    heartbeat: Option<Heartbeat>,
    last_seen: Instant,
    /// The server's window when the client negotiated permessage-deflate.
    window_bits: Option<u8>,
}

/// What woke the connection loop.
enum Event {
    CloseRequested,
    Shutdown,
    Outgoing,
    Incoming(Option<Result<tungstenite::Message, tungstenite::Error>>),
    /// Enough frames that are no message wait to be rate-limited.
    Frames,
    Heartbeat,
}

impl<H: Handler> Connection<H> {
    async fn run(mut self) {
        self.dispatch.open().await;
        let ending = self.serve().await;
        let frame = ending.frame();
        self.finish(ending).await;
        self.dispatch.close(frame).await;
    }

    /// The loop: writes first (latency), then reads, then the heartbeat.
    async fn serve(&mut self) -> Ending {
        // The close, shutdown and heartbeat futures live across iterations:
        // re-creating them would register a waiter (a lock) or a timer per
        // message.
        let link = Arc::clone(&self.dispatch.link);
        let shutdown = self.dispatch.shared.shutdown.clone();
        let frames = Arc::clone(&self.frames);
        let mut frames_waiting = pin!(frames.full());
        let mut closing = pin!(link.closing());
        let mut shutting_down = pin!(shutdown.cancelled());
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
                () = &mut closing => Event::CloseRequested,
                () = &mut shutting_down => Event::Shutdown,
                _ = self.queue.batch(&mut self.batch, WRITE_BATCH) => Event::Outgoing,
                () = &mut frames_waiting => Event::Frames,
                incoming = self.ws.next() => Event::Incoming(incoming),
                () = &mut heartbeat_timer, if self.heartbeat.is_some() => Event::Heartbeat,
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
                Event::Outgoing => {
                    if let Err(ending) = self.write_batch(closing.as_mut()).await {
                        return ending;
                    }
                }
                Event::Frames => {
                    frames_waiting.set(frames.full());
                    self.charge_frames().await;
                }
                Event::Incoming(None) => return Ending::Dropped,
                Event::Incoming(Some(Err(error))) => return Ending::from_error(error),
                Event::Incoming(Some(Ok(message))) => {
                    self.last_seen = Instant::now();
                    // The frames before this message (its continuations, a
                    // ping) are charged before it.
                    self.charge_frames().await;
                    match message {
                        tungstenite::Message::Text(text) => {
                            let text = Text::from_utf8(Bytes::from(text));
                            // tungstenite already validated UTF-8.
                            if let Ok(text) = text {
                                self.dispatch.message(Message::Text(text)).await;
                            }
                        }
                        tungstenite::Message::Binary(bytes) => {
                            self.dispatch.message(Message::Binary(bytes)).await;
                        }
                        tungstenite::Message::Close(frame) => {
                            return Ending::ClosedByClient(ending::from_tungstenite(frame));
                        }
                        // tungstenite answers pings itself; any frame proves
                        // liveness. The meter counted them for the rate.
                        tungstenite::Message::Ping(_)
                        | tungstenite::Message::Pong(_)
                        | tungstenite::Message::Frame(_) => {}
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
                            if let Err(error) =
                                self.ws.send(tungstenite::Message::Ping(Bytes::new())).await
                            {
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

    /// Charges the continuation and control frames counted so far to the
    /// rate limit (a flood of them closes with 1008 like a message flood).
    async fn charge_frames(&mut self) {
        let frames = self.frames.take();
        if frames > 0 {
            self.dispatch.control_frames(frames).await;
        }
    }

    /// Writes the taken batch and flushes once. A close request interrupts
    /// a write stuck on a reader that does not read.
    async fn write_batch(
        &mut self,
        closing: Pin<&mut impl Future<Output = ()>>,
    ) -> Result<(), Ending> {
        let write = async {
            for frame in self.batch.drain(..) {
                feed(&mut self.ws, frame, self.window_bits).await?;
            }
            self.ws.flush().await
        };
        tokio::select! {
            biased;
            result = write => result.map_err(|error| Ending::from_write_error(&error)),
            () = closing => {
                let frame = self.dispatch.link.close_frame().unwrap_or_else(CloseFrame::normal);
                Err(Ending::Close(frame))
            }
        }
    }

    /// Ends the connection as `ending` says, within a bounded time.
    async fn finish(&mut self, ending: Ending) {
        self.frames.stop();
        let (timeout, frame) = match ending {
            Ending::Dropped => return,
            Ending::Stalled => {
                tracing::warn!(peer = %self.dispatch.peer().id(), timeout = ?self.dispatch.shared.config.write_timeout,
                    "a write made no progress: closing a client that does not read");
                return;
            }
            Ending::ClosedByClient(_) => (CLOSE_TIMEOUT, None),
            Ending::Close(frame) if frame.code == CloseCode::TRY_AGAIN_LATER => {
                (SLOW_READER_CLOSE_TIMEOUT, Some(frame))
            }
            Ending::Close(frame) => (CLOSE_TIMEOUT, Some(frame)),
        };
        let close = async {
            if let Some(frame) = frame {
                // What was queued before the close is delivered before it.
                self.queue.take(&mut self.batch, usize::MAX);
                for queued in self.batch.drain(..) {
                    feed(&mut self.ws, queued, self.window_bits).await?;
                }
                self.ws.close(Some(ending::to_tungstenite(&frame))).await?;
            }
            // Keep reading until the other side's close (or ours) completes.
            while let Some(Ok(_)) = self.ws.next().await {}
            Ok::<_, tungstenite::Error>(())
        };
        if tokio::time::timeout(timeout, close).await.is_err() {
            tracing::debug!(peer = %self.dispatch.peer().id(), "close handshake timed out");
        }
    }
}

/// Queues one frame in tungstenite's write buffer, compressed when the
/// client negotiated a `window_bits` (publications come compressed).
async fn feed(
    ws: &mut Socket,
    frame: Frame,
    window_bits: Option<u8>,
) -> Result<(), tungstenite::Error> {
    let message = match (frame, window_bits) {
        (Frame::WebSocket(message), _) => Some(message),
        (Frame::Message(message), Some(window_bits)) => deflate::frame_for(&message, window_bits),
        (Frame::Message(Message::Binary(bytes)), None) => Some(tungstenite::Message::Binary(bytes)),
        (Frame::Message(Message::Text(text)), None) => Utf8Bytes::try_from(text.into_bytes())
            .ok()
            .map(tungstenite::Message::Text),
        // Pre-encoded frames are for SSE streams only.
        (Frame::Encoded(_), _) => None,
    };
    match message {
        Some(message) => ws.feed(message).await,
        None => Ok(()),
    }
}
