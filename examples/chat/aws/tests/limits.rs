//! Connection limits on AWS, counted in the connections table: `cargo
//! xtask test-aws chat` deploys the functions again with
//! `XWS_MAX_CONNECTIONS=3` and `XWS_MAX_CONNECTIONS_PER_IP=2`
//! (`xtask/src/aws.rs`) and runs these with the same variables, one at a
//! time. The emulator gives `$connect` the TCP peer's address as
//! `sourceIp`, as API Gateway does, so sockets bound to 127.0.0.2 and
//! 127.0.0.3 are other clients.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use futures_util::SinkExt;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{
    WebSocketStream, client_async,
    tungstenite::{Error as WsError, Message},
};
use xws_aws::{Aws, registry::TOTAL_SLOT};

type Socket = WebSocketStream<TcpStream>;

const WAIT: Duration = Duration::from_secs(20);

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name}: run `cargo xtask test-aws chat`"))
}

fn limit(name: &str) -> usize {
    var(name).parse().expect("a count")
}

/// `$connect` from `127.0.0.{host}`: the socket, or the refusal's status.
async fn connect_from(host: u8) -> Result<Socket, u16> {
    let emulator: SocketAddr = var("XWS_AWS_EMULATOR").parse().expect("host:port");
    let socket = TcpSocket::new_v4().expect("a TCP socket");
    socket
        .bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)),
            0,
        ))
        .expect("a loopback address to bind");
    let stream = socket.connect(emulator).await.expect("the emulator");
    let url = format!("ws://{emulator}/api/ws?token={}", var("XWS_AWS_TOKEN")).replace(' ', "%20");
    match tokio::time::timeout(WAIT, client_async(url, stream))
        .await
        .expect("the upgrade timed out")
    {
        Ok((socket, _)) => Ok(socket),
        Err(WsError::Http(response)) => Err(response.status().as_u16()),
        Err(other) => panic!("the upgrade failed: {other}"),
    }
}

/// Connects from `host` until accepted, while `$disconnect`s give slots back.
async fn connect_once_freed(host: u8) -> Socket {
    let deadline = Instant::now() + WAIT;
    loop {
        match connect_from(host).await {
            Ok(socket) => return socket,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(status) => panic!("after a close, $connect still answered {status}"),
        }
    }
}

async fn close_all(sockets: Vec<Socket>) {
    for mut socket in sockets {
        let _ = socket.send(Message::Close(None)).await;
    }
}

/// One test, as the two halves share the table's counts: a count that
/// lost `$disconnect`s left too high (API Gateway delivers them
/// best-effort) is recounted from the connection items when it looks full,
/// so connections it no longer has do not lock clients out; then the
/// limits hold: 429 past two connections from one address, 503 past three
/// in all, and a closed connection's `$disconnect` gives its slots back.
#[tokio::test]
async fn connections_are_counted_per_address_and_in_all() {
    let (max, per_ip) = (
        limit("XWS_MAX_CONNECTIONS"),
        limit("XWS_MAX_CONNECTIONS_PER_IP"),
    );
    assert_eq!((max, per_ip), (3, 2));
    let aws = Aws::from_env().await.expect("the AWS backend");
    // Slots nobody will give back, as if their `$disconnect`s were lost.
    for _ in 0..max {
        let taken = aws.registry().take_slot(TOTAL_SLOT, usize::MAX).await;
        assert!(taken.expect("a slot"));
    }
    let recounted = connect_from(5)
        .await
        .expect("a connection after the recount");
    close_all(vec![recounted]).await;

    let mut held = vec![connect_once_freed(1).await];
    held.push(connect_from(1).await.expect("the second from 127.0.0.1"));
    assert_eq!(
        connect_from(1).await.err(),
        Some(429),
        "a third from one address"
    );
    held.push(connect_once_freed(2).await);
    assert_eq!(connect_from(3).await.err(), Some(503), "past the total");
    let mut first = held.remove(0);
    first.send(Message::Close(None)).await.expect("a close");
    drop(first);
    held.push(connect_once_freed(3).await);
    close_all(held).await;
}
