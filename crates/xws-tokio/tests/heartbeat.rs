//! A peer that stops answering pings is closed as `Limits::heartbeat`
//! documents: a 1011 close frame, and the `close` hook runs; a peer that
//! answers stays.

mod common;

use common::{eventually, quiet_limits, raw_upgrade, start, test_config, within};
use parking_lot::Mutex;
use std::{sync::Arc, time::Duration};
use tokio::io::AsyncReadExt;
use xws::{CloseFrame, Handler, Limits, Peer};

/// Records the close code each peer's `close` hook receives.
#[derive(Clone, Default)]
struct Watch {
    closes: Arc<Mutex<Vec<u16>>>,
}

impl Handler for Watch {
    type Context = ();

    async fn close(&self, _peer: &Peer<()>, frame: CloseFrame) {
        self.closes.lock().push(frame.code.as_u16());
    }
}

const BEAT: Duration = Duration::from_millis(200);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_stops_answering_pings_gets_1011_and_its_close_hook_runs() {
    let watch = Watch::default();
    let config = test_config(Limits {
        heartbeat: Some(xws::Heartbeat {
            interval: BEAT,
            timeout: BEAT,
        }),
        ..quiet_limits()
    });
    let server = start(watch.clone(), config).await;
    // tungstenite answers pings while it is being read: this one is.
    let mut alive = server.connect("/").await;
    let reader = tokio::spawn(async move {
        use futures_util::StreamExt;
        while let Some(Ok(_)) = alive.next().await {}
    });
    // A raw socket reads the pings but never answers them.
    let mut silent = raw_upgrade(server.addr, "/", None).await;
    let mut received = Vec::new();
    within("the silent peer's connection to end", async {
        let mut chunk = [0u8; 256];
        loop {
            match silent.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    // Pings (0x89, no payload), then a close frame with 1011.
    let close = received
        .windows(4)
        .position(|w| w[0] == 0x88 && w[1] >= 2)
        .map(|at| u16::from_be_bytes([received[at + 2], received[at + 3]]));
    assert!(
        received.starts_with(&[0x89, 0x00]),
        "no ping before the close: {received:?}"
    );
    assert_eq!(close, Some(1011), "the server's last frames: {received:?}");
    eventually("the close hook to run", || !watch.closes.lock().is_empty()).await;
    assert_eq!(*watch.closes.lock(), [1011]);

    // The answering peer outlived several heartbeats.
    tokio::time::sleep(BEAT * 4).await;
    assert_eq!(server.xws.connections(), 1);
    reader.abort();
}
