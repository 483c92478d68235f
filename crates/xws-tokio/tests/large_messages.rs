//! Whatever size a handler sends, the peer receives it: the write buffer
//! never refuses a frame (it once dropped every message over 1 MiB, and
//! the connection with it, without a close frame).

mod common;

use common::{quiet_limits, send_text, start, test_config, within};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite;
use xws::{Handler, HookResult, Message, Peer};

/// Answers `n` with a binary message of `n` bytes.
struct Sized;

impl Handler for Sized {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        let size: usize = message.text()?.parse()?;
        peer.send(vec![7u8; size])?;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_of_several_mebibytes_are_delivered_whole() {
    let server = start(Sized, test_config(quiet_limits())).await;
    let mut client = server.connect("/").await;
    for size in [1, 64 * 1024, 1024 * 1024, 3 * 1024 * 1024 + 5] {
        send_text(&mut client, &size.to_string()).await;
        match within("a large message", client.next()).await {
            Some(Ok(tungstenite::Message::Binary(bytes))) => {
                assert_eq!(bytes.len(), size);
                assert!(bytes.iter().all(|&b| b == 7));
            }
            other => panic!("expected {size} bytes, got {other:?}"),
        }
    }
}
