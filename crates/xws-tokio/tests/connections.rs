//! TCP connections before and around their requests, over real sockets:
//! silent and slow-header sockets are closed after the header-read timeout,
//! connections count against the limits from accept, the per-IP limit
//! knows the client under `serve`, `serve_app` and a plain `axum::serve`
//! (or refuses loudly when it cannot), counts IPv6 by /64, and believes
//! `X-Forwarded-For` from trusted proxies only.

mod common;

use common::{Server, eventually, quiet_limits, start, test_config, within};
use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use xws::{Handler, HookResult, Limits, Message, Peer};
use xws_tokio::{Config, Xws};

/// Tells each peer its address as the server sees it.
struct Echo;

impl Handler for Echo {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        if message.text()? == "whereami" {
            let addr = peer.request().remote_addr.map(|a| a.ip().to_string());
            peer.send(addr.unwrap_or_default())?;
        }
        Ok(())
    }
}

const HEADER_TIMEOUT: Duration = Duration::from_secs(1);

fn config(limits: Limits) -> Config {
    Config {
        header_read_timeout: HEADER_TIMEOUT,
        ..test_config(limits)
    }
}

async fn tcp(addr: SocketAddr) -> TcpStream {
    within("a TCP connection", TcpStream::connect(addr))
        .await
        .unwrap()
}

/// Waits until the server closes `stream`; returns what it sent first.
async fn closed_by_server(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    within("the server to close the connection", async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&received).into_owned()
}

/// The status of a WebSocket upgrade with these extra headers; the socket
/// goes into `open`, so an accepted peer stays connected.
async fn upgrade(open: &mut Vec<TcpStream>, addr: SocketAddr, headers: &[(&str, &str)]) -> u16 {
    let mut stream = tcp(addr).await;
    let mut request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut status = [0u8; 12];
    within("the status line", stream.read_exact(&mut status))
        .await
        .unwrap();
    let status = String::from_utf8_lossy(&status);
    let code = status["HTTP/1.1 ".len()..].parse().unwrap();
    open.push(stream);
    code
}

#[tokio::test]
async fn silent_and_slow_header_sockets_are_closed_after_the_header_timeout() {
    let server = start(Echo, config(quiet_limits())).await;
    let started = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(tcp(server.addr).await);
    }
    eventually("300 silent sockets to count", || {
        server.xws.connections() == 300
    })
    .await;

    // A slow loris: a header byte every 100 ms, never the blank line.
    let mut loris = tcp(server.addr).await;
    loris
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let trickle = async {
        for byte in b"X-Slow: ".iter().cycle() {
            if loris.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    within("the slow loris to be cut off", trickle).await;

    for socket in &mut silent {
        assert_eq!(closed_by_server(socket).await, "", "closed without a word");
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= HEADER_TIMEOUT,
        "closed before the timeout: {elapsed:?}"
    );
    eventually("their slots to be freed", || server.xws.connections() == 0).await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let server = start(Echo, config(quiet_limits())).await;
    let mut stream = tcp(server.addr).await;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = closed_by_server(&mut stream).await;
    assert!(answered.starts_with("HTTP/1.1 426"), "{answered}");
}

#[tokio::test]
async fn connections_count_from_accept_so_silent_sockets_cannot_exceed_the_limits() {
    let mut open = Vec::new();
    let server = start(
        Echo,
        config(Limits {
            max_connections: 5,
            ..quiet_limits()
        }),
    )
    .await;
    let mut silent = Vec::new();
    for _ in 0..5 {
        silent.push(tcp(server.addr).await);
    }
    eventually("five silent sockets to count", || {
        server.xws.connections() == 5
    })
    .await;
    assert_eq!(upgrade(&mut open, server.addr, &[]).await, 503);
    drop(silent);
    eventually("the silent sockets to free their slots", || {
        server.xws.connections() == 0
    })
    .await;
    assert_eq!(upgrade(&mut open, server.addr, &[]).await, 101);

    let per_ip = start(
        Echo,
        config(Limits {
            max_connections_per_ip: Some(3),
            ..quiet_limits()
        }),
    )
    .await;
    let _silent: Vec<_> = futures_util::future::join_all((0..3).map(|_| tcp(per_ip.addr))).await;
    eventually("three silent sockets to count", || {
        per_ip.xws.connections() == 3
    })
    .await;
    assert_eq!(upgrade(&mut open, per_ip.addr, &[]).await, 429);
}

/// Serves `app` with `axum::serve`, as an application might.
async fn axum_serve(app: axum::Router, connect_info: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if connect_info {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app).await
        } else {
            axum::serve(listener, app).await
        }
    });
    addr
}

fn two_per_ip() -> Config {
    config(Limits {
        max_connections_per_ip: Some(2),
        ..quiet_limits()
    })
}

#[tokio::test]
async fn the_per_ip_limit_refuses_loudly_without_the_clients_address() {
    let mut open = Vec::new();
    // axum::serve without connect info: the address is unknown, so 500
    // rather than a limit that silently does nothing.
    let xws = Xws::with_config(Echo, two_per_ip());
    let addr = axum_serve(axum::Router::new().route_service("/", xws.ws()), false).await;
    assert_eq!(upgrade(&mut open, addr, &[]).await, 500);
    assert_eq!(xws.connections(), 0);

    // With connect info, the limit counts.
    let xws = Xws::with_config(Echo, two_per_ip());
    let addr = axum_serve(axum::Router::new().route_service("/", xws.ws()), true).await;
    assert_eq!(upgrade(&mut open, addr, &[]).await, 101);
    assert_eq!(upgrade(&mut open, addr, &[]).await, 101);
    assert_eq!(upgrade(&mut open, addr, &[]).await, 429);
}

#[tokio::test]
async fn serve_app_gives_an_axum_app_the_limits_and_the_timeouts() {
    let mut open = Vec::new();
    let xws = Xws::with_config(Echo, two_per_ip());
    let app = axum::Router::new()
        .route_service("/", xws.ws())
        .route("/hello", axum::routing::get(|| async { "hello" }));
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(xws_tokio::serve_app(listener, xws.clone(), app, async {
        let _ = stopped.await;
    }));

    let mut hello = tcp(addr).await;
    hello
        .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = closed_by_server(&mut hello).await;
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("hello"),
        "{answer}"
    );

    let mut silent = tcp(addr).await;
    assert_eq!(closed_by_server(&mut silent).await, "");
    assert_eq!(upgrade(&mut open, addr, &[]).await, 101);
    assert_eq!(upgrade(&mut open, addr, &[]).await, 101);
    assert_eq!(upgrade(&mut open, addr, &[]).await, 429);

    stop.send(()).unwrap();
    within("serve_app to return", served)
        .await
        .unwrap()
        .unwrap();
}

fn behind_a_proxy() -> Config {
    Config {
        trusted_proxies: "127.0.0.1".parse().unwrap(),
        ..config(Limits {
            max_connections_per_ip: Some(1),
            ..quiet_limits()
        })
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_clients_count_by_x_forwarded_for_and_ipv6_by_64() {
    let mut open = Vec::new();
    let server: Server<Echo> = start(Echo, behind_a_proxy()).await;
    let from = |client: &'static str| [("x-forwarded-for", client)];
    assert_eq!(
        upgrade(&mut open, server.addr, &from("2001:db8:0:1::1")).await,
        101
    );
    assert_eq!(
        upgrade(&mut open, server.addr, &from("2001:db8:0:1::2")).await,
        429,
        "the same /64 is one client"
    );
    assert_eq!(
        upgrade(&mut open, server.addr, &from("2001:db8:0:2::1")).await,
        101
    );
    assert_eq!(
        upgrade(&mut open, server.addr, &from("192.0.2.1")).await,
        101
    );
    assert_eq!(
        upgrade(&mut open, server.addr, &from("192.0.2.1")).await,
        429
    );

    let mut client = server.connect("/").await;
    // No X-Forwarded-For: the proxy itself is the client.
    common::send_text(&mut client, "whereami").await;
    assert_eq!(common::next_text(&mut client).await, "127.0.0.1");
}

#[tokio::test]
async fn x_forwarded_for_from_an_untrusted_client_is_ignored() {
    let mut open = Vec::new();
    let server = start(
        Echo,
        config(Limits {
            max_connections_per_ip: Some(1),
            ..quiet_limits()
        }),
    )
    .await;
    let spoofed = [("x-forwarded-for", "192.0.2.1")];
    assert_eq!(upgrade(&mut open, server.addr, &spoofed).await, 101);
    let other = [("x-forwarded-for", "192.0.2.2")];
    assert_eq!(upgrade(&mut open, server.addr, &other).await, 429);
}

#[tokio::test]
async fn a_fallback_post_whose_body_trickles_is_answered_408() {
    let xws = Xws::with_config(Echo, config(quiet_limits()));
    let app = axum::Router::new().route_service("/fb", xws.fallback());
    let addr = common::serve_app_on_free_port(xws, app);
    let mut stream = xws_testkit::client::sse_connect(&format!("http://{addr}/fb"), common::WAIT)
        .await
        .unwrap();
    let session = stream.next_event().await.unwrap().data.unwrap();

    // 100 bytes announced, 10 sent, then nothing.
    let mut post = tcp(addr).await;
    let head = format!(
        "POST /fb?session={session} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"
    );
    post.write_all(head.as_bytes()).await.unwrap();
    let answer = closed_by_server(&mut post).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
