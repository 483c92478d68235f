//! Baseline: a plain tokio-tungstenite server with its default configuration.
//!
//! Echo on every path but `/chat`, the chat protocol on `/chat` (see `xws_bench::protocol`).
//! Listens on 127.0.0.1:`$PORT`.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use xws_bench::baseline::{chat_session::ChatSession, listener, rooms::Rooms};
use xws_bench::protocol::CHAT_PATH;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let listener = listener::bind_from_env()?;
    tracing::info!(addr = %listener.local_addr()?, "baseline-tungstenite listening");
    let rooms = Arc::new(Rooms::default());
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, Arc::clone(&rooms)));
            }
            // Running out of descriptors must not end the server: the clients see refusals.
            Err(error) => tracing::warn!(%error, "accept failed"),
        }
    }
}

async fn serve(stream: TcpStream, rooms: Arc<Rooms>) {
    let _ = stream.set_nodelay(true);
    let mut path = String::new();
    let capture_path = |request: &Request, response: Response| {
        path = request.uri().path().to_owned();
        Ok(response)
    };
    let ws = match tokio_tungstenite::accept_hdr_async(stream, capture_path).await {
        Ok(ws) => ws,
        Err(error) => return tracing::debug!(%error, "handshake failed"),
    };
    let outcome = if path == CHAT_PATH {
        chat(ws, rooms).await
    } else {
        echo(ws).await
    };
    if let Err(error) = outcome {
        tracing::debug!(%error, "connection ended with an error");
    }
}

async fn echo(mut ws: WebSocketStream<TcpStream>) -> anyhow::Result<()> {
    while let Some(message) = ws.next().await {
        match message? {
            message @ (Message::Text(_) | Message::Binary(_)) => ws.send(message).await?,
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(())
}

async fn chat(ws: WebSocketStream<TcpStream>, rooms: Arc<Rooms>) -> anyhow::Result<()> {
    let (mut sink, mut stream) = ws.split();
    let (outgoing, mut queue) = mpsc::unbounded_channel::<Bytes>();
    let writer = tokio::spawn(async move {
        while let Some(payload) = queue.recv().await {
            sink.feed(Message::Text(Utf8Bytes::try_from(payload)?))
                .await?;
            while let Ok(payload) = queue.try_recv() {
                sink.feed(Message::Text(Utf8Bytes::try_from(payload)?))
                    .await?;
            }
            sink.flush().await?;
        }
        anyhow::Ok(())
    });
    let mut session = ChatSession::new(rooms, outgoing);
    while let Some(message) = stream.next().await {
        match message? {
            Message::Text(text) => session.on_text(&text),
            Message::Close(_) => break,
            _ => {}
        }
    }
    // Leaving the rooms closes the queue: the writer sends what is left and ends.
    drop(session);
    let _ = tokio::time::timeout(WRITER_DRAIN, writer).await;
    Ok(())
}

/// How long a closing chat connection waits for its writer to flush.
const WRITER_DRAIN: std::time::Duration = std::time::Duration::from_secs(1);
