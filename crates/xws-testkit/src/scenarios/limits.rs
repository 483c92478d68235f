//! Message size and topic limits, and the closing handshake.

use serde_json::Value;

use crate::chat::{ChatPeer, join_room, unique_name};
use crate::client::{Frame, get, sse_connect};
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

/// A peer holds `max_topics_per_peer` rooms and not one more: the next `join-room`
/// answers an `error` naming the limit and the peer stays connected; a room it holds is
/// no new one, and leaving one frees a place.
pub async fn topic_cap_per_peer(target: &Target) -> Result<(), ScenarioError> {
    let limit = target.max_topics_per_peer;
    let mut peer = ChatPeer::open(target, 0, None).await?;
    let prefix = unique_name("cap");
    let rooms: Vec<String> = (0..limit).map(|n| format!("{prefix}-{n}")).collect();
    for room in &rooms {
        peer.join(room).await?;
    }
    let one_more = format!("{prefix}-more");
    peer.ws.send_json(&join_room(&one_more)).await?;
    let refused = peer.ws.recv_type("error").await?;
    let message = refused["message"].as_str().unwrap_or_default();
    if !message.contains(&format!("{limit} topics")) {
        return Err(ScenarioError::mismatch(
            format!("{}: join-room past the limit", peer.ws.label()),
            format!("an error naming the limit of {limit} topics"),
            refused,
        ));
    }
    peer.join(&rooms[0]).await?;
    peer.leave(&rooms[0]).await?;
    peer.join(&one_more).await
}

/// An SSE request naming `max_topics_per_peer` rooms streams; one naming a room more is
/// answered 400 before anything is subscribed.
pub async fn sse_topic_cap_400(target: &Target) -> Result<(), ScenarioError> {
    let limit = target.max_topics_per_peer;
    let prefix = unique_name("ssecap");
    let query = |count: usize| -> String {
        (0..count)
            .map(|n| format!("topic=room%3A{prefix}-{n}"))
            .collect::<Vec<_>>()
            .join("&")
    };
    let url = |count: usize| target.http_url(0, &format!("/api/sse?{}", query(count)));
    drop(sse_connect(&url(limit), target.timeout).await?);
    let over = url(limit + 1);
    let response = get(&over, target.timeout).await?;
    ensure_eq(
        &format!("status of GET /api/sse naming {} topics", limit + 1),
        400,
        response.status.as_u16(),
    )
}
