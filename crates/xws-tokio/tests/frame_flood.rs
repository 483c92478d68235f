//! Frames that never reach a hook still count toward the rate limit: the
//! server answers pings and joins continuation frames itself, so without
//! the decoder's count a flood of either would run forever unnoticed.

mod common;

use common::{Client, eventually, next_text, quiet_limits, send_text, start, test_config};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::{
    self, Bytes,
    protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    },
};
use xws::{Handler, HookResult, Limits, Message, Peer, RateLimit};

struct Echo;

impl Handler for Echo {
    type Context = ();

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        peer.send(message)?;
        Ok(())
    }
}

const RATE: RateLimit = RateLimit {
    messages_per_second: 100,
    burst: 20,
    tolerance: 50,
};

const FLOOD: usize = 20_000;

fn limited() -> xws_tokio::Config {
    test_config(Limits {
        rate: Some(RATE),
        ..quiet_limits()
    })
}

/// Sends `frames` as fast as the socket takes them while reading; the close
/// code the server sent, if any.
async fn flood(
    client: Client,
    frames: impl Iterator<Item = tungstenite::Message> + Send + 'static,
) -> Option<u16> {
    let (mut write, mut read) = client.split();
    let writer = tokio::spawn(async move {
        for frame in frames {
            // The server stops reading once it closes.
            if write.send(frame).await.is_err() {
                break;
            }
        }
    });
    let code = common::within("the flood to be closed", async {
        loop {
            match read.next().await {
                Some(Ok(tungstenite::Message::Close(frame))) => {
                    break frame.map(|f| u16::from(f.code));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break None,
            }
        }
    })
    .await;
    writer.abort();
    code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_is_closed_with_1008() {
    let server = start(Echo, limited()).await;
    let client = server.connect("/").await;
    let pings = (0..FLOOD).map(|_| tungstenite::Message::Ping(Bytes::new()));
    assert_eq!(flood(client, pings).await, Some(1008));
    eventually("the flooder to be gone", || server.xws.connections() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_continuation_flood_is_closed_with_1008() {
    let server = start(Echo, limited()).await;
    let client = server.connect("/").await;
    // One text message that never ends: empty continuation frames, each
    // six bytes on the wire, none of which adds to the message's size.
    let start = Frame::message(Bytes::from_static(b"a"), OpCode::Data(Data::Text), false);
    let empty = || Frame::message(Bytes::new(), OpCode::Data(Data::Continue), false);
    let frames = std::iter::once(start)
        .chain((0..FLOOD).map(move |_| empty()))
        .map(tungstenite::Message::Frame);
    assert_eq!(flood(client, frames).await, Some(1008));
    eventually("the flooder to be gone", || server.xws.connections() == 0).await;
}

#[tokio::test]
async fn fragmented_messages_and_pings_within_the_rate_are_served() {
    let server = start(Echo, limited()).await;
    let mut client = server.connect("/").await;
    // Four frames per message, and a ping: within the burst of 20.
    for round in 0..3 {
        client
            .send(tungstenite::Message::Ping(Bytes::new()))
            .await
            .unwrap();
        let parts = ["fr", "ag", "me", "nt"];
        for (i, part) in parts.iter().enumerate() {
            let opcode = if i == 0 { Data::Text } else { Data::Continue };
            let last = i == parts.len() - 1;
            let frame = Frame::message(
                Bytes::from_static(part.as_bytes()),
                OpCode::Data(opcode),
                last,
            );
            client
                .send(tungstenite::Message::Frame(frame))
                .await
                .unwrap();
        }
        assert_eq!(next_text(&mut client).await, "fragment", "round {round}");
    }
    send_text(&mut client, "still open").await;
    assert_eq!(next_text(&mut client).await, "still open");
}
