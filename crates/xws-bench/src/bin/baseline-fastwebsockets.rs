//! Baseline: a fastwebsockets server on hyper 1.
//!
//! Echo on every path but `/chat`, the chat protocol on `/chat` (see `xws_bench::protocol`).
//! Listens on 127.0.0.1:`$PORT`.

use std::sync::Arc;

use bytes::Bytes;
use fastwebsockets::upgrade::{self, UpgradeFut};
use fastwebsockets::{
    FragmentCollector, FragmentCollectorRead, Frame, OpCode, Payload, WebSocketError,
};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;
use xws_bench::baseline::{chat_session::ChatSession, listener, rooms::Rooms};
use xws_bench::protocol::CHAT_PATH;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let listener = listener::bind_from_env()?;
    tracing::info!(addr = %listener.local_addr()?, "baseline-fastwebsockets listening");
    let rooms = Arc::new(Rooms::default());
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let rooms = Arc::clone(&rooms);
        tokio::spawn(async move {
            let service = service_fn(move |request| upgrade_request(request, Arc::clone(&rooms)));
            let connection = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(error) = connection.await {
                tracing::debug!(%error, "http connection failed");
            }
        });
    }
}

async fn upgrade_request(
    mut request: Request<Incoming>,
    rooms: Arc<Rooms>,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, upgrade) = upgrade::upgrade(&mut request)?;
    let is_chat = request.uri().path() == CHAT_PATH;
    tokio::spawn(async move {
        let outcome = if is_chat {
            chat(upgrade, rooms).await
        } else {
            echo(upgrade).await
        };
        if let Err(error) = outcome {
            tracing::debug!(%error, "connection ended with an error");
        }
    });
    Ok(response)
}

async fn echo(upgrade: UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = FragmentCollector::new(upgrade.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}

/// What the writer task sends: room traffic, or the pong/close the reader owes the peer.
enum Outgoing {
    Text(Bytes),
    Control(OpCode, Vec<u8>),
}

async fn chat(upgrade: UpgradeFut, rooms: Arc<Rooms>) -> Result<(), WebSocketError> {
    let ws = upgrade.await?;
    let (read, mut write) = ws.split(tokio::io::split);
    let mut read = FragmentCollectorRead::new(read);
    let (deliveries, mut delivery_queue) = mpsc::unbounded_channel::<Bytes>();
    let (control, mut control_queue) = mpsc::unbounded_channel::<Outgoing>();
    let writer = tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                Some(payload) = delivery_queue.recv() => Outgoing::Text(payload),
                Some(control) = control_queue.recv() => control,
                else => return Ok::<_, WebSocketError>(()),
            };
            match next {
                Outgoing::Text(payload) => {
                    write
                        .write_frame(Frame::text(Payload::Borrowed(&payload)))
                        .await?;
                }
                Outgoing::Control(opcode, payload) => {
                    let frame = Frame::new(true, opcode, None, Payload::Owned(payload));
                    write.write_frame(frame).await?;
                    if opcode == OpCode::Close {
                        return Ok(());
                    }
                }
            }
        }
    });
    let mut session = ChatSession::new(rooms, deliveries);
    let mut owe = |frame: Frame<'_>| {
        let sent = control.send(Outgoing::Control(frame.opcode, frame.payload.to_vec()));
        async move { sent.map_err(|_| std::io::Error::other("writer gone")) }
    };
    let outcome = loop {
        let frame = match read.read_frame(&mut owe).await {
            Ok(frame) => frame,
            Err(error) => break Err(error),
        };
        match frame.opcode {
            OpCode::Text => match std::str::from_utf8(&frame.payload) {
                Ok(text) => session.on_text(text),
                Err(_) => break Ok(()),
            },
            OpCode::Close => break Ok(()),
            _ => {}
        }
    };
    // Leaving the rooms and dropping the control queue closes both queues: the writer sends
    // what is left (such as the close reply) and ends.
    drop(session);
    drop(control);
    let _ = tokio::time::timeout(WRITER_DRAIN, writer).await;
    outcome
}

/// How long a closing chat connection waits for its writer to flush.
const WRITER_DRAIN: std::time::Duration = std::time::Duration::from_secs(1);
