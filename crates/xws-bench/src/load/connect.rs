//! Opening client connections, one or ten thousand at a time.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header::SEC_WEBSOCKET_EXTENSIONS};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use xws_tokio::deflate::{Inflating, Side};

use super::REPLY_TIMEOUT;
use crate::protocol::ChatRequest;

/// A client connection: plain TCP (the bench runs on loopback), read
/// through an inflater that works once permessage-deflate is offered.
pub type Client = WebSocketStream<Inflating<TcpStream>>;

/// Whether new connections offer permessage-deflate; the runner sets it
/// per contender (one contender runs at a time).
static OFFER_DEFLATE: AtomicBool = AtomicBool::new(false);

/// Makes the connections opened from now on offer permessage-deflate (or
/// not). The load client sends plain messages either way, as RFC 7692
/// allows: what is measured is the server compressing.
pub fn offer_deflate(offer: bool) {
    OFFER_DEFLATE.store(offer, Ordering::Relaxed);
}

/// Time allowed for one TCP connect plus WebSocket handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Handshakes allowed in flight at once when opening many connections.
///
/// Far above what any server accepts per scheduler tick, and low enough that the kernel's
/// SYN and accept queues (`somaxconn`, 4096 here) never overflow, which would add the 1 s
/// SYN retry to the measurement instead of the server's own cost.
pub const CONNECT_CONCURRENCY: usize = 1_000;

/// Client buffer sizes: small for mass connections (10,000 × 128 KiB would be the client's
/// own 1.2 GiB), tungstenite's defaults for throughput runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientProfile {
    /// tungstenite's default buffers.
    Throughput,
    /// 4 KiB read buffer, for thousands of mostly idle clients.
    Many,
}

impl ClientProfile {
    fn config(self) -> WebSocketConfig {
        match self {
            Self::Throughput => WebSocketConfig::default(),
            Self::Many => WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0),
        }
    }
}

/// Opens one connection to `url` (`ws://host:port/path`).
pub async fn connect(url: &str, profile: ClientProfile) -> anyhow::Result<Client> {
    let offer = OFFER_DEFLATE.load(Ordering::Relaxed);
    let mut request = url.into_client_request()?;
    if offer {
        request.headers_mut().insert(
            SEC_WEBSOCKET_EXTENSIONS,
            HeaderValue::from_static("permessage-deflate"),
        );
    }
    let handshake = async {
        let uri = request.uri();
        let addr = format!(
            "{}:{}",
            uri.host().context("no host")?,
            uri.port_u16().unwrap_or(80)
        );
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let stream = Inflating::new(stream, Side::Client, offer, usize::MAX);
        let (client, response) =
            tokio_tungstenite::client_async_with_config(request, stream, Some(profile.config()))
                .await?;
        if offer && !response.headers().contains_key(SEC_WEBSOCKET_EXTENSIONS) {
            anyhow::bail!("permessage-deflate was offered and not accepted");
        }
        anyhow::Ok(client)
    };
    let client = tokio::time::timeout(CONNECT_TIMEOUT, handshake)
        .await
        .with_context(|| format!("connecting to {url} timed out"))?
        .with_context(|| format!("connecting to {url}"))?;
    Ok(client)
}

/// Opens one connection to `url` at `server` from the loopback address `source`, so that more
/// connections than one address has ephemeral ports (about 28,000) can be open at once.
/// `SO_REUSEADDR` lets a port whose last connection is still in `TIME_WAIT` (from an earlier
/// run against another server port) be bound again.
pub async fn connect_from(
    url: &str,
    server: SocketAddr,
    source: Ipv4Addr,
    profile: ClientProfile,
) -> anyhow::Result<Client> {
    let handshake = async {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket
            .bind(SocketAddr::from((source, 0)))
            .with_context(|| format!("binding a port on {source}"))?;
        let stream = socket.connect(server).await?;
        let (client, _) = tokio_tungstenite::client_async_with_config(
            url,
            // Idle connections offer no compression: the inflater passes through.
            Inflating::new(stream, Side::Client, false, usize::MAX),
            Some(profile.config()),
        )
        .await?;
        anyhow::Ok(client)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, handshake)
        .await
        .with_context(|| format!("connecting to {url} from {source} timed out"))?
        .with_context(|| format!("connecting to {url} from {source}"))
}

/// Connections opened by [`connect_many`].
#[derive(Debug)]
pub struct Opened {
    /// The open connections.
    pub clients: Vec<Client>,
    /// Connections that failed or timed out.
    pub failed: usize,
    /// Time from the first connect to the last handshake finished.
    pub elapsed: Duration,
}

/// Opens `count` connections with at most [`CONNECT_CONCURRENCY`] handshakes in flight.
pub async fn connect_many(url: &str, count: usize, profile: ClientProfile) -> Opened {
    let permits = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let started = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let permits = Arc::clone(&permits);
            let url = url.to_owned();
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.ok()?;
                connect(&url, profile)
                    .await
                    .map_err(|error| tracing::debug!(%error))
                    .ok()
            })
        })
        .collect();
    let mut clients = Vec::with_capacity(count);
    let mut failed = 0;
    for task in tasks {
        match task.await {
            Ok(Some(client)) => clients.push(client),
            _ => failed += 1,
        }
    }
    Opened {
        clients,
        failed,
        elapsed: started.elapsed(),
    }
}

/// Joins `room` and waits for the server's `joined` answer.
pub async fn join_room(client: &mut Client, room: &str) -> anyhow::Result<()> {
    let join = serde_json::to_string(&ChatRequest::JoinRoom {
        room_id: room.to_owned(),
    })?;
    client.send(Message::text(join)).await?;
    tokio::time::timeout(REPLY_TIMEOUT, async {
        while let Some(message) = client.next().await {
            if let Message::Text(text) = message? {
                if text.contains("\"joined\"") {
                    return Ok(());
                }
            }
        }
        anyhow::bail!("connection closed before the join was answered")
    })
    .await
    .context("no answer to join-room")?
}

/// Opens `count` connections and joins each to `room`; failures are counted, not fatal.
pub async fn connect_and_join_many(url: &str, room: &str, count: usize) -> Opened {
    let opened = connect_many(url, count, ClientProfile::Many).await;
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let tasks: Vec<_> = opened
        .clients
        .into_iter()
        .map(|mut client| {
            let permits = Arc::clone(&permits);
            let room = room.to_owned();
            tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.ok()?;
                match join_room(&mut client, &room).await {
                    Ok(()) => Some(client),
                    Err(error) => {
                        tracing::debug!(%error, "join failed");
                        None
                    }
                }
            })
        })
        .collect();
    let mut clients = Vec::with_capacity(count);
    let mut failed = opened.failed;
    for task in tasks {
        match task.await {
            Ok(Some(client)) => clients.push(client),
            _ => failed += 1,
        }
    }
    Opened {
        clients,
        failed,
        elapsed: opened.elapsed + started.elapsed(),
    }
}
