//! `POST` (a message) and `DELETE` (a goodbye) for an open session.

use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::time::Duration;
use xws::{Handler, Message, Text};

use super::{session::Inbound, sessions::Sessions};
use crate::{
    Body, Xws,
    body::empty,
    handshake::{self, plain},
};

/// How long a POST waits for a session that is slow to take messages.
const INBOX_WAIT: Duration = Duration::from_secs(5);

pub(super) async fn deliver<H, B>(
    xws: Xws<H>,
    sessions: &Sessions,
    request: Request<B>,
) -> Response<Body>
where
    H: Handler,
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let shared = &xws.shared;
    if shared.shutdown.is_cancelled() {
        return plain(StatusCode::SERVICE_UNAVAILABLE, "server is shutting down");
    }
    let info = handshake::request_info(&request, None);
    if !shared.config.origins.allows(info.origin()) {
        return plain(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let Some(session) = info.query_param("session") else {
        return plain(StatusCode::BAD_REQUEST, "name the ?session=");
    };
    let Some(inbox) = sessions.get(&session) else {
        return plain(StatusCode::NOT_FOUND, "unknown or ended session");
    };
    let inbound = if request.method() == Method::DELETE {
        Inbound::Close
    } else {
        // A body trickled in slowly would hold the connection; it gets as
        // long as request headers do.
        let limit = shared.config.limits.max_message_size;
        let body_timeout = shared.config.header_read_timeout;
        match tokio::time::timeout(body_timeout, read_message(request, limit)).await {
            Ok(Ok(message)) => Inbound::Message(message),
            Ok(Err(response)) => return response,
            Err(_) => {
                return plain(
                    StatusCode::REQUEST_TIMEOUT,
                    "the message did not arrive in time",
                );
            }
        }
    };
    match tokio::time::timeout(INBOX_WAIT, inbox.send(inbound)).await {
        Ok(Ok(())) => {
            let mut response = Response::new(empty());
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        Ok(Err(_)) => plain(StatusCode::NOT_FOUND, "unknown or ended session"),
        Err(_) => plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "the session is not taking messages",
        ),
    }
}

/// The body as one message: binary for `application/octet-stream`, UTF-8
/// text otherwise.
async fn read_message<B>(request: Request<B>, limit: usize) -> Result<Message, Response<Body>>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let binary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/octet-stream"));
    let bytes = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<LengthLimitError>() => {
            return Err(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "message exceeds the size limit",
            ));
        }
        Err(error) => {
            return Err(plain(
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {error}"),
            ));
        }
    };
    if binary {
        return Ok(Message::Binary(bytes));
    }
    Text::from_utf8(bytes)
        .map(Message::Text)
        .map_err(|_| plain(StatusCode::BAD_REQUEST, "text message is not valid UTF-8"))
}
