//! `GET`: a fallback peer is born, and its messages stream out as SSE.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame as BodyFrame;
use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use tokio::{sync::mpsc, time::Interval};
use tokio_util::sync::{CancellationToken, DropGuard, WaitForCancellationFutureOwned};
use xws::{CloseFrame, Handler, sse};

use super::{
    session::{self, Inbound, Session},
    sessions::Sessions,
};
use crate::{
    Body, Xws,
    dispatch::new_peer,
    gate::{self, Admitted},
    handshake::plain,
    link::{Frame, LinkKind, PeerLink},
    outbox::OutboxReader,
};

/// Messages a session buffers from POSTs before they wait.
const INBOX_CAPACITY: usize = 64;

pub(super) async fn open<H: Handler, B>(
    xws: Xws<H>,
    sessions: Arc<Sessions>,
    request: Request<B>,
) -> Response<Body> {
    let shared = &xws.shared;
    let Admitted {
        info,
        permit,
        accepted,
    } = match gate::admit(shared, gate::arrival(shared, &request)).await {
        Ok(admitted) => admitted,
        Err(response) => return response,
    };
    let (inbox_sender, inbox) = mpsc::channel::<Inbound>(INBOX_CAPACITY);
    let session_id = match sessions.insert(inbox_sender) {
        Ok(id) => id,
        Err(error) => {
            tracing::error!(%error, "no randomness for a session id");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
        }
    };
    let (peer, link, queue) = new_peer(shared, LinkKind::Fallback, info, accepted.context);
    link.set_byte_budget(shared.config.limits.send_queue_bytes);

    let stream_gone = CancellationToken::new();
    let ended = CancellationToken::new();
    let session = Session::new(Arc::clone(shared), peer, Arc::clone(&link), inbox);
    shared.tasks.spawn(session::run(
        session,
        session::Ending {
            id: session_id.clone(),
            sessions,
            stream_gone: stream_gone.clone(),
            ended: ended.clone(),
            permit,
        },
    ));

    let mut keep_alive = tokio::time::interval(shared.config.sse_keep_alive);
    keep_alive.reset();
    let hello = format!(
        ": xws fallback\nretry: {}\n\n{}",
        shared.config.sse_retry.as_millis(),
        String::from_utf8_lossy(&sse::SseEvent::new(session_id).event("xws-session").encode())
    );
    let body = FallbackBody {
        first: Some(Bytes::from(hello)),
        queue,
        keep_alive,
        ended: Box::pin(ended.cancelled_owned()),
        link,
        next_event: 1,
        finished: false,
        _stream_gone: stream_gone.drop_guard(),
    };
    crate::sse::event_stream(body)
}

/// The stream: the session id, the peer's messages, keep-alive comments,
/// and a last `xws-close` event. Dropping it (the client left) ends the
/// session.
struct FallbackBody {
    first: Option<Bytes>,
    queue: OutboxReader,
    keep_alive: Interval,
    ended: Pin<Box<WaitForCancellationFutureOwned>>,
    link: Arc<PeerLink>,
    next_event: u64,
    finished: bool,
    _stream_gone: DropGuard,
}

impl FallbackBody {
    fn close_event(&self) -> Bytes {
        let frame = self.link.close_frame().unwrap_or_else(CloseFrame::normal);
        let data = serde_json::json!({ "code": frame.code.as_u16(), "reason": frame.reason });
        sse::SseEvent::new(data.to_string())
            .event("xws-close")
            .encode()
    }
}

impl http_body::Body for FallbackBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<BodyFrame<Bytes>, Infallible>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(BodyFrame::data(first))));
        }
        // What was queued before the close goes out before the close event.
        if let Poll::Ready(frame) = self.queue.poll_recv(cx) {
            let bytes = match frame {
                Frame::Message(message) => {
                    let id = self.next_event;
                    self.next_event += 1;
                    sse::encode_message(id, &message)
                }
                Frame::Encoded(bytes) => bytes,
                // Only WebSocket links receive converted frames.
                Frame::WebSocket(_) => Bytes::new(),
            };
            return Poll::Ready(Some(Ok(BodyFrame::data(bytes))));
        }
        if self.ended.as_mut().poll(cx).is_ready() {
            self.finished = true;
            return Poll::Ready(Some(Ok(BodyFrame::data(self.close_event()))));
        }
        if self.keep_alive.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(BodyFrame::data(sse::comment("keep-alive")))));
        }
        Poll::Pending
    }
}
