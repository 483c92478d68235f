//! Publishing from outside a connection: the HTTP broadcast route and the SSE stream.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::chat::{ChatPeer, check_message, unique_name};
use crate::client::{post_json, sse_connect};
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// `POST /api/broadcast` reaches every connected peer and counts at least those.
pub async fn broadcast_from_http(target: &Target) -> Result<(), ScenarioError> {
    const PEERS: usize = 3;
    let mut peers = ChatPeer::open_many(target, PEERS, None).await?;
    let event = unique_name("announce");
    let data = json!({ "text": "maintenance at 5 ü", "list": [1, 2, 3], "nested": { "ok": true } });
    // Node 1 when there are several: the peers of node 0 get it across nodes.
    let url = target.http_url(1, "/api/broadcast");
    let response = post_json(
        &url,
        &json!({ "event": event, "data": data }),
        target.timeout,
    )
    .await?;
    ensure_eq(
        &format!("status of POST {url}"),
        200,
        response.status.as_u16(),
    )?;
    let answer = response.json()?;
    ensure_eq(
        "broadcast answer \"success\"",
        &Value::Bool(true),
        &answer["success"],
    )?;
    let delivered = answer["delivered"].as_u64().unwrap_or(0);
    if delivered < PEERS as u64 {
        return Err(ScenarioError::mismatch(
            "broadcast answer \"delivered\"",
            format!("at least the {PEERS} peers this scenario opened"),
            answer,
        ));
    }
    let expected = json!({ "type": "broadcast", "event": event, "data": data });
    for peer in &mut peers {
        let frame = peer
            .ws
            .recv_json_matching(&format!("broadcast {event}"), |frame| {
                frame["type"] == "broadcast" && frame["event"] == event.as_str()
            })
            .await?;
        ensure_eq("broadcast frame", &expected, &frame)?;
    }
    Ok(())
}

/// `GET /api/sse?topic=room:R` streams each publication to `room:R` as `event: message`
/// with an id and the same JSON the WebSocket members get.
pub async fn sse_receives_room_messages(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("sse");
    let topic: String =
        form_urlencoded::byte_serialize(format!("room:{room}").as_bytes()).collect();
    let mut stream = sse_connect(
        &target.http_url(0, &format!("/api/sse?topic={topic}")),
        target.timeout,
    )
    .await?;
    // The sender on node 1 when there are several, so the stream is fed across nodes.
    let mut sender = ChatPeer::open(target, 1, Some("sse-sender")).await?;
    let mut member = ChatPeer::open(target, 2, None).await?;
    sender.join(&room).await?;
    member.join(&room).await?;
    let texts = ["first over sse", "second over sse"];
    let mut ids = HashSet::new();
    for text in texts {
        sender.say(&room, text).await?;
        let over_ws = member.recv_message(&room, text).await?;
        let event = loop {
            let event = stream.next_event().await?;
            let data: Value = serde_json::from_str(event.data.as_deref().unwrap_or_default())
                .map_err(|error| ScenarioError::mismatch("SSE data", "JSON", error))?;
            if data["type"] == "message" && data["roomId"] == room.as_str() {
                break (event, data);
            }
        };
        let (event, data) = event;
        ensure_eq("SSE event name", Some("message"), event.event.as_deref())?;
        check_message(&data, &room, &sender, text)?;
        ensure_eq("SSE data vs WebSocket message", &over_ws, &data)?;
        match event.id.filter(|id| !id.is_empty()) {
            Some(id) if ids.insert(id.clone()) => {}
            other => {
                return Err(ScenarioError::mismatch(
                    "SSE event id",
                    "a non-empty id, different for each event",
                    format!("{other:?}"),
                ));
            }
        }
    }
    Ok(())
}
