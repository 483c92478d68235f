//! One fallback peer's task: it runs the hooks in order, like a WebSocket
//! connection's loop, with messages arriving from POSTs.

use std::sync::Arc;
use tokio::{sync::mpsc, time::Instant};
use tokio_util::sync::CancellationToken;
use xws::{CloseCode, CloseFrame, Handler, Message, Peer};

use super::sessions::Sessions;
use crate::{admission::Permits, app::Shared, dispatch::Dispatcher, link::PeerLink};

/// What a POST or DELETE hands to the session.
#[derive(Debug)]
pub(crate) enum Inbound {
    /// A message for the `message` hook.
    Message(Message),
    /// The client closed the session (`DELETE`).
    Close,
}

/// The peer side of a session.
pub(super) struct Session<H: Handler> {
    dispatch: Dispatcher<H>,
    inbox: mpsc::Receiver<Inbound>,
}

/// What is cleaned up when the session ends.
pub(super) struct Ending {
    pub(super) id: String,
    pub(super) sessions: Arc<Sessions>,
    /// Cancelled when the SSE response is dropped.
    pub(super) stream_gone: CancellationToken,
    /// Cancelled here when the session is over, so the stream ends.
    pub(super) ended: CancellationToken,
    pub(super) permit: Permits,
}

impl<H: Handler> Session<H> {
    pub(super) fn new(
        shared: Arc<Shared<H>>,
        peer: Peer<H::Context>,
        link: Arc<PeerLink>,
        inbox: mpsc::Receiver<Inbound>,
    ) -> Self {
        Self {
            dispatch: Dispatcher::new(shared, peer, link),
            inbox,
        }
    }

    /// Until the peer closes, the client leaves or goes silent, or shutdown.
    async fn serve(&mut self, stream_gone: &CancellationToken) -> CloseFrame {
        // Clients post pings meanwhile, so silence this long means gone.
        let idle = self
            .dispatch
            .shared
            .config
            .limits
            .heartbeat
            .map(|hb| hb.interval + hb.timeout);
        let mut deadline = idle.map(|idle| Instant::now() + idle);
        let link = Arc::clone(&self.dispatch.link);
        let shutdown = self.dispatch.shared.shutdown.clone();
        loop {
            if let Some(frame) = self.dispatch.link.close_frame() {
                return frame;
            }
            tokio::select! {
                biased;
                () = link.closing() => {}
                () = shutdown.cancelled() => {
                    return CloseFrame::new(CloseCode::GOING_AWAY, "server shutting down");
                }
                () = stream_gone.cancelled() => {
                    return CloseFrame::new(CloseCode::ABNORMAL, "event stream closed");
                }
                inbound = self.inbox.recv() => match inbound {
                    Some(Inbound::Message(message)) => {
                        deadline = idle.map(|idle| Instant::now() + idle);
                        self.dispatch.message(message).await;
                    }
                    Some(Inbound::Close) => return CloseFrame::normal(),
                    None => return CloseFrame::new(CloseCode::ABNORMAL, "session dropped"),
                },
                () = sleep_until(deadline), if deadline.is_some() => {
                    tracing::debug!(peer = %self.dispatch.peer().id(), "fallback client silent: ending its session");
                    return CloseFrame::new(CloseCode::ABNORMAL, "no message within the heartbeat");
                }
            }
        }
    }
}

/// The session's life: `open`, messages, then `close` and cleanup.
pub(super) async fn run<H: Handler>(mut session: Session<H>, ending: Ending) {
    session.dispatch.open().await;
    let frame = session.serve(&ending.stream_gone).await;
    ending.sessions.remove(&ending.id);
    // The stream reports this frame in its `xws-close` event.
    session.dispatch.link.request_close(frame.clone());
    ending.ended.cancel();
    session.dispatch.close(frame).await;
    drop(ending.permit);
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending::<()>().await,
    }
}
