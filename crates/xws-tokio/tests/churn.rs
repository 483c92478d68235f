//! 1,000 connections opened and dropped abruptly (no close handshake, some
//! in the middle of a frame, some in the middle of the upgrade) leave no
//! peer, topic, connection slot or task behind.

mod common;

use common::{eventually, quiet_limits, raw_upgrade, start, test_config, within};
use futures_util::future::join_all;
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use tokio::{io::AsyncWriteExt, net::TcpStream};
use xws::{CloseFrame, Handler, HookResult, Peer};

/// Subscribes every peer to a shared topic and to one of its own.
#[derive(Clone, Default)]
struct Rooms {
    opened: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
}

impl Handler for Rooms {
    type Context = ();

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        peer.subscribe("everyone")?;
        peer.subscribe(format!("peer:{}", peer.id()))?;
        self.opened.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn close(&self, _peer: &Peer<()>, _frame: CloseFrame) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

const PEERS: usize = 1_000;
const HALF_UPGRADES: usize = 100;
/// Connections opened at once, so the listen backlog is never the limit.
const WAVE: usize = 100;

/// One connection held open by the test, dropped without a goodbye.
enum Held {
    Client { _client: Box<common::Client> },
    Raw { _socket: TcpStream },
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_abrupt_disconnects_leak_nothing() {
    // Client and server sockets of this process: 2 per peer.
    rlimit::increase_nofile_limit(8 * 1024).unwrap();
    let rooms = Rooms::default();
    let server = start(rooms.clone(), test_config(quiet_limits())).await;
    let addr = server.addr;

    let mut held = Vec::with_capacity(PEERS);
    for wave in 0..PEERS / WAVE {
        let connects = (0..WAVE).map(|i| {
            let server = &server;
            async move {
                if (wave * WAVE + i) % 2 == 0 {
                    Held::Client {
                        _client: Box::new(server.connect("/").await),
                    }
                } else {
                    let mut raw = raw_upgrade(addr, "/", None).await;
                    // A masked text frame announcing 100 bytes, cut after 3.
                    raw.write_all(&[0x81, 0x80 | 100, 1, 2, 3, 4, b'a', b'b', b'c'])
                        .await
                        .unwrap();
                    Held::Raw { _socket: raw }
                }
            }
        });
        held.extend(join_all(connects).await);
    }
    eventually("every peer to open and subscribe", || {
        rooms.opened.load(Ordering::SeqCst) == PEERS
    })
    .await;
    assert_eq!(server.xws.connections(), PEERS);
    assert_eq!(server.xws.peer_count(), PEERS);
    assert_eq!(server.xws.topic_count(), PEERS + 1);

    // Upgrades abandoned half-way: the request is sent, the answer never read.
    let half_upgrades = join_all((0..HALF_UPGRADES).map(|_| async move {
        let mut stream = within("a TCP connection", TcpStream::connect(addr))
            .await
            .unwrap();
        stream
            .write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n",
            )
            .await
            .unwrap();
        stream
    }))
    .await;

    drop(held);
    drop(half_upgrades);
    server.wait_until_empty().await;
    assert_eq!(
        rooms.closed.load(Ordering::SeqCst),
        PEERS,
        "every close hook ran"
    );

    // The server is unharmed: a new peer opens normally.
    let _fresh = server.connect("/").await;
    eventually("a new peer to open", || {
        rooms.opened.load(Ordering::SeqCst) == PEERS + 1
    })
    .await;
}
