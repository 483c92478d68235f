//! Message size limit and the closing handshake.

use serde_json::Value;

use crate::chat::ChatPeer;
use crate::client::Frame;
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// WebSocket close code for a message too big to process (RFC 6455, 7.4.1).
const MESSAGE_TOO_BIG: u16 = 1009;
/// WebSocket close code for a normal closure.
const NORMAL_CLOSURE: u16 = 1000;

/// A message of exactly the maximum size is still accepted (binary, echoed back).
pub async fn max_size_accepted(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    let payload: Vec<u8> = (0..target.max_message_size)
        .map(|i| (i % 251) as u8)
        .collect();
    peer.ws.send_binary(payload.clone()).await?;
    let frame = peer
        .ws
        .recv_matching("the maximum-size binary frame back", |frame| {
            matches!(frame, Frame::Binary(_))
        })
        .await?;
    ensure_eq(
        "maximum-size binary echo",
        Frame::Binary(payload.into()),
        frame,
    )
}

/// One byte over the maximum, text or binary, closes the socket with 1009 (Message Too Big).
pub async fn oversize_closes_1009(target: &Target) -> Result<(), ScenarioError> {
    let mut peers = ChatPeer::open_many(target, 2, None).await?;
    // Valid JSON, so only the size can be the reason to refuse it.
    let filler = "x".repeat(target.max_message_size + 1 - 2);
    let oversized_text = Value::from(filler).to_string();
    debug_assert_eq!(oversized_text.len(), target.max_message_size + 1);
    peers[0].ws.send_text(oversized_text).await?;
    peers[1]
        .ws
        .send_binary(vec![7u8; target.max_message_size + 1])
        .await?;
    for peer in &mut peers {
        peer.ws.expect_close(MESSAGE_TOO_BIG).await?;
    }
    Ok(())
}

/// A client-initiated close (1000) is answered with a close frame (RFC 6455, 5.5.1).
pub async fn close_handshake(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    peer.ws.send_close(NORMAL_CLOSURE, "bye").await?;
    peer.ws.expect_close(NORMAL_CLOSURE).await
}
