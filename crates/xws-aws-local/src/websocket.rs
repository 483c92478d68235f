//! WebSocket connections: `$connect` before the upgrade, `$default` per
//! message, `$disconnect` once at the end.

use axum::{
    extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade},
    http::{HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::sync::mpsc;

use crate::{
    Emulator, Selected, Stats,
    events::{self, ConnectionFacts, now_ms},
    invoke::invoke,
    registry::{Connection, Outbound},
};

fn new_connection_id() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    base64::engine::general_purpose::URL_SAFE.encode(&bytes[..11])
}

/// Runs `$connect`; a 2xx answer upgrades, anything else is the HTTP answer.
pub(crate) async fn upgrade(
    emulator: Arc<Emulator>,
    ws: WebSocketUpgrade,
    uri: &Uri,
    headers: &HeaderMap,
    source: SocketAddr,
) -> Response {
    let facts = ConnectionFacts {
        id: new_connection_id(),
        connected_at: now_ms(),
        source,
        domain: header(headers, "host").unwrap_or("localhost").to_owned(),
        stage: emulator.config.stage.clone(),
        user_agent: header(headers, "user-agent").unwrap_or("").to_owned(),
    };
    let event = events::connect(&facts, headers, uri.query());
    let answer = match invoke(&emulator.client, &emulator.config.ws_function, &event).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::error!(%error, "$connect failed");
            Stats::bump(&emulator.stats.rejected);
            return (StatusCode::INTERNAL_SERVER_ERROR, "$connect failed").into_response();
        }
    };
    let status = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok())
        .unwrap_or(StatusCode::OK);
    if !status.is_success() {
        // API Gateway refuses the upgrade with the status; the body never
        // reaches the client.
        Stats::bump(&emulator.stats.rejected);
        return status.into_response();
    }
    Stats::bump(&emulator.stats.connects);
    let protocol = answer
        .pointer("/headers/sec-websocket-protocol")
        .or_else(|| answer.pointer("/headers/Sec-WebSocket-Protocol"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let ws = match protocol {
        Some(p) => ws.protocols([p]),
        None => ws,
    };
    let (connection, outbound) = emulator.registry.open(facts);
    let limit = emulator.config.max_message_bytes;
    ws.max_message_size(limit.saturating_mul(8))
        .max_frame_size(limit.saturating_mul(8))
        .on_upgrade(move |socket| run(emulator, connection, socket, outbound))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v: &HeaderValue| v.to_str().ok())
}

/// Why a connection ended: the code and reason `$disconnect` reports.
struct Ending {
    code: u16,
    reason: String,
    /// The client sent a close frame (or vanished): nothing to send.
    by_client: bool,
}

impl Ending {
    fn server(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.into(),
            by_client: false,
        }
    }

    fn client(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.into(),
            by_client: true,
        }
    }
}

async fn run(
    emulator: Arc<Emulator>,
    connection: Arc<Connection>,
    socket: WebSocket,
    mut outbound: mpsc::UnboundedReceiver<Outbound>,
) {
    let (mut sink, mut stream) = socket.split();
    let writer_connection = connection.clone();
    let writer = tokio::spawn(async move {
        while let Some(next) = outbound.recv().await {
            match next {
                Outbound::Frame(frame) => {
                    writer_connection.touch();
                    if sink.send(frame).await.is_err() {
                        return;
                    }
                }
                Outbound::Close(code, reason) => {
                    let frame = CloseFrame {
                        code,
                        reason: reason.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    writer_connection.closed_by_server.notify_one();
                    return;
                }
            }
        }
    });
    let ending = read(&emulator, &connection, &mut stream).await;
    // Gone from now on: posts answer 410 while `$disconnect` runs.
    emulator.registry.remove(&connection.facts.id);
    if !ending.by_client && !matches!(ending.code, 1005 | 1006) {
        let _ = connection
            .outbound
            .send(Outbound::Close(ending.code, ending.reason.clone()));
    }
    // Polling the stream until it ends sends the close frame the WebSocket
    // library queued in answer to the client's, or reads the client's
    // answer to ours (RFC 6455 5.5.1); a silent client gets 2 s.
    let drain = async { while stream.next().await.is_some() {} };
    let _ = tokio::time::timeout(Duration::from_secs(2), drain).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
    Stats::bump(&emulator.stats.disconnects);
    let event = events::disconnect(&connection.facts, ending.code, &ending.reason);
    if let Err(error) = invoke(&emulator.client, &emulator.config.ws_function, &event).await {
        tracing::error!(%error, "$disconnect failed");
    }
}

async fn read(
    emulator: &Emulator,
    connection: &Connection,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
) -> Ending {
    let idle = emulator.config.idle_timeout;
    loop {
        let quiet_for = Duration::from_millis(
            u64::try_from(now_ms() - connection.last_active_ms()).unwrap_or(0),
        );
        let Some(wait) = idle.checked_sub(quiet_for).filter(|w| !w.is_zero()) else {
            return Ending::server(1001, "Going away");
        };
        let next = tokio::select! {
            next = tokio::time::timeout(wait, stream.next()) => next,
            () = connection.closed_by_server.notified() => {
                // DeleteConnection: the close frame is already sent.
                return Ending::client(1000, "");
            }
        };
        let frame = match next {
            Err(_) => continue,
            Ok(None) | Ok(Some(Err(_))) => return Ending::client(1006, ""),
            Ok(Some(Ok(frame))) => frame,
        };
        connection.touch();
        match frame {
            Message::Text(text) => {
                if text.len() > emulator.config.max_message_bytes {
                    return Ending::server(1009, "Message too big");
                }
                match emulator.config.routes.select(text.as_str()) {
                    Selected::Function => deliver(emulator, connection, text.as_str()).await,
                    Selected::Mock(answer) => {
                        Stats::bump(&emulator.stats.mocked);
                        if let Some(answer) = answer {
                            let frame = Message::Text(answer.to_owned().into());
                            let _ = connection.outbound.send(Outbound::Frame(frame));
                        }
                    }
                }
            }
            Message::Binary(_) => {
                // API Gateway WebSocket APIs refuse binary frames with 1003.
                return Ending::server(1003, "Binary frames are not supported");
            }
            Message::Close(frame) => {
                return match frame {
                    Some(f) => Ending::client(f.code, f.reason.as_str()),
                    None => Ending::client(1005, ""),
                };
            }
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}

/// `$default`, one message at a time per connection; a failed invocation
/// gets API Gateway's error message on the socket.
async fn deliver(emulator: &Emulator, connection: &Connection, text: &str) {
    Stats::bump(&emulator.stats.messages);
    let event = events::message(&connection.facts, text);
    if let Err(error) = invoke(&emulator.client, &emulator.config.ws_function, &event).await {
        tracing::error!(%error, "$default failed");
        let notice = json!({
            "message": "Internal server error",
            "connectionId": connection.facts.id,
        });
        let _ = connection
            .outbound
            .send(Outbound::Frame(Message::Text(notice.to_string().into())));
    }
}
