//! The SSE + HTTP POST fallback: full peers for clients that cannot open
//! a WebSocket. The wire protocol is documented on [`FallbackService`].

mod post;
mod session;
mod sessions;
mod stream;

use http::{Method, Request, Response, StatusCode};
use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};
use xws::Handler;

use crate::{Body, Xws, handshake::plain};
use sessions::Sessions;

/// The SSE + HTTP POST fallback of one handler: a full peer for clients that cannot open a
/// WebSocket (a proxy that blocks upgrades, a network that strips them).
///
/// The handler cannot tell a fallback peer from a WebSocket peer: `upgrade`,
/// `open`, `message`, `close` and `error` run as for a WebSocket, the peer
/// is listed among peers, receives broadcasts and `send_to`, and joins
/// topics.
///
/// ## Wire protocol
/// Mount one service on one path (`/api/fallback`); it answers every
/// method below. Clones share their sessions.
///
/// - `GET /api/fallback?…` with `Accept: text/event-stream` runs the
///   `upgrade` hook on the request (its query reaches the handler as for a
///   WebSocket) and opens a stream of Server-Sent Events:
///   - `event: xws-session`, `data: <id>`: first, the session id, 128
///     random bits in hex, which authorises the POSTs;
///   - `event: message` (text) or `event: binary` (base64): what the peer
///     is sent, with an increasing `id:`;
///   - `event: xws-close`, `data: {"code":1001,"reason":"…"}`: the peer was
///     closed; the stream ends after it.
/// - `POST /api/fallback?session=<id>` carries one message to the `message`
///   hook: the body is binary with `Content-Type: application/octet-stream`,
///   UTF-8 text otherwise. Answers: 204 accepted; 400 text not UTF-8 or no
///   `session`; 404 unknown session (the client reconnects); 408 the body
///   took longer than [`Config::header_read_timeout`](crate::Config::header_read_timeout);
///   413 larger than [`Limits::max_message_size`](::xws::Limits::max_message_size); 503
///   shutting down or the session stopped reading.
/// - `DELETE /api/fallback?session=<id>` ends the session as a client close
///   (1000) would.
///
/// A session ends when its stream's HTTP response is dropped (the client
/// left), when the peer is closed, on shutdown, or when no POST arrived
/// for the heartbeat's interval plus timeout (clients post
/// [`APP_PING`](crate::APP_PING) meanwhile; `xws.js` does every 25 s).
pub struct FallbackService<H: Handler> {
    xws: Xws<H>,
    sessions: Arc<Sessions>,
}

impl<H: Handler> Clone for FallbackService<H> {
    fn clone(&self) -> Self {
        Self {
            xws: self.xws.clone(),
            sessions: Arc::clone(&self.sessions),
        }
    }
}

impl<H: Handler> FallbackService<H> {
    pub(crate) fn new(xws: Xws<H>) -> Self {
        Self {
            xws,
            sessions: Arc::default(),
        }
    }

    /// Fallback sessions open now.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}

impl<H, B> tower_service::Service<Request<B>> for FallbackService<H>
where
    H: Handler,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let xws = self.xws.clone();
        let sessions = Arc::clone(&self.sessions);
        Box::pin(async move {
            let response = match *request.method() {
                Method::GET => stream::open(xws, sessions, request).await,
                Method::POST | Method::DELETE => post::deliver(xws, &sessions, request).await,
                _ => {
                    let mut response = plain(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "the fallback answers GET (stream), POST (message) and DELETE (goodbye)",
                    );
                    response.headers_mut().insert(
                        http::header::ALLOW,
                        http::HeaderValue::from_static("GET, POST, DELETE"),
                    );
                    response
                }
            };
            Ok(response)
        })
    }
}
