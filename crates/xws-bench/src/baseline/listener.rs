//! The listening socket of a baseline server.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use tokio::net::{TcpListener, TcpSocket};

/// Listen backlog requested from the kernel (which caps it at `net.core.somaxconn`).
///
/// tokio's `TcpListener::bind` asks for 1024, which overflows when 10,000 clients connect at
/// once: the dropped SYNs are retried after a second and dominate `connect-10k`.
pub const LISTEN_BACKLOG: u32 = 16_384;

/// Binds 127.0.0.1 on the port given in the `PORT` environment variable (8080 if unset).
pub fn bind_from_env() -> anyhow::Result<TcpListener> {
    let port: u16 = match std::env::var("PORT") {
        Ok(value) => value
            .parse()
            .with_context(|| format!("PORT={value} is not a port"))?,
        Err(_) => 8080,
    };
    bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// Binds `addr` with [`LISTEN_BACKLOG`].
pub fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .with_context(|| format!("binding {addr}"))?;
    Ok(socket.listen(LISTEN_BACKLOG)?)
}
