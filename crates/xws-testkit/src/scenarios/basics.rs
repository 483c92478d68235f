//! One peer talking to the server: welcome, ping, echo, binary, bad input.

use serde_json::json;

use crate::chat::ChatPeer;
use crate::client::Frame;
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// On open each peer gets `{"type":"welcome","id":…}` first, with an id of its own.
pub async fn welcome(target: &Target) -> Result<(), ScenarioError> {
    let peers = ChatPeer::open_many(target, 2, None).await?;
    for peer in &peers {
        // Only broadcasts from concurrent scenarios may come before the welcome.
        peer.ws
            .ensure_none_passed_over("frames before welcome", |frame| {
                frame["type"] != "broadcast"
            })?;
    }
    if peers[0].id == peers[1].id {
        return Err(ScenarioError::mismatch(
            "welcome ids of two peers",
            "distinct ids",
            format!("both {}", peers[0].id),
        ));
    }
    Ok(())
}

/// `{"type":"ping"}` answers `{"type":"pong"}`, every time.
pub async fn ping_pong(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    for _ in 0..3 {
        peer.sync().await?;
    }
    Ok(())
}

/// Any JSON that is not a chat command comes back as `{"type":"echo","data":…}`.
pub async fn echo_json(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    let inputs = [
        json!({ "type": "custom-event", "n": 1, "nested": { "list": [1, "two", null, true, 2.5] } }),
        json!({ "hello": "world" }),
        json!([1, "two", { "three": 3 }]),
        json!("just a string"),
    ];
    for input in inputs {
        peer.ws.send_json(&input).await?;
        let answer = peer
            .ws
            .recv_json_matching(&format!("echo of {input}"), |frame| frame["type"] == "echo")
            .await?;
        ensure_eq(
            &format!("echo of {input}"),
            &json!({ "type": "echo", "data": input }),
            &answer,
        )?;
    }
    Ok(())
}

/// A binary message comes back unchanged, including bytes that are not UTF-8.
pub async fn binary_roundtrip(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    let payloads: [Vec<u8>; 3] = [
        (0..=255).collect(),
        vec![0xff, 0xfe, 0x00, 0xc3],
        vec![b'{'; 1],
    ];
    for payload in payloads {
        peer.ws.send_binary(payload.clone()).await?;
        let frame = peer
            .ws
            .recv_matching("a binary frame", |frame| matches!(frame, Frame::Binary(_)))
            .await?;
        ensure_eq("binary echo", Frame::Binary(payload.into()), frame)?;
    }
    Ok(())
}

/// Text that is not JSON answers `{"type":"error","message":…}` and the socket stays usable.
pub async fn bad_json_keeps_socket_open(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    for bad in ["this is not json {", "{\"type\":\"ping\"", ""] {
        peer.ws.send_text(bad).await?;
        let answer = peer.ws.recv_type("error").await?;
        let message_ok = answer["message"]
            .as_str()
            .is_some_and(|text| !text.is_empty());
        if !message_ok {
            return Err(ScenarioError::mismatch(
                format!("error answer to {bad:?}"),
                "a non-empty \"message\" string",
                answer,
            ));
        }
        peer.sync().await?;
    }
    let probe = json!({ "still": "open" });
    peer.ws.send_json(&probe).await?;
    let echo = peer.ws.recv_type("echo").await?;
    ensure_eq("echo after errors", &probe, &echo["data"])
}
