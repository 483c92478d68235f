//! Publishing from outside a connection: the HTTP broadcast route and the SSE stream.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::chat::{ChatPeer, check_message, typing, unique_name};
use crate::client::{SseClient, get, post_json, post_raw, sse_connect};
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// `POST /api/broadcast` reaches every connected peer, on every node, and counts at
/// least those on the node that served it.
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
    // `delivered` counts the peers of the node that served the request; the other
    // nodes' peers get it through the broker, later, uncounted.
    let nodes = target.ws_urls.len().max(1);
    let local = (0..PEERS).filter(|peer| peer % nodes == 1 % nodes).count();
    let delivered = answer["delivered"].as_u64().unwrap_or(0);
    if delivered < local as u64 {
        return Err(ScenarioError::mismatch(
            "broadcast answer \"delivered\"",
            format!("at least the {local} peers this scenario opened on that node"),
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

/// A broadcast request that is not JSON, or lacks `event`, gets a 4xx status and sends
/// nothing to anyone.
pub async fn broadcast_bad_body_4xx(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    let marker = unique_name("never-sent");
    let url = target.http_url(0, "/api/broadcast");
    let no_event = json!({ "data": marker });
    let bad_bodies = [
        (
            "a body that is not JSON",
            post_raw(&url, &format!("{{not json {marker}"), target.timeout).await?,
        ),
        (
            "a body without \"event\"",
            post_json(&url, &no_event, target.timeout).await?,
        ),
    ];
    for (case, response) in bad_bodies {
        if !response.status.is_client_error() {
            return Err(ScenarioError::mismatch(
                format!("status of POST {url} with {case}"),
                "4xx",
                response.status,
            ));
        }
    }
    peer.sync().await?;
    peer.ws
        .ensure_none_passed_over("a broadcast from a refused request", |frame| {
            frame["type"] == "broadcast" && frame.to_string().contains(&marker)
        })
}

/// `GET /api/sse` without a topic is 400; a topic that is not a room's is 403.
pub async fn sse_bad_topic_4xx(target: &Target) -> Result<(), ScenarioError> {
    let cases = [
        ("/api/sse", 400),
        ("/api/sse?topic=", 400),
        ("/api/sse?topic=user%3Asomeone", 403),
    ];
    for (path, expected) in cases {
        let url = target.http_url(0, path);
        let response = get(&url, target.timeout).await?;
        ensure_eq(
            &format!("status of GET {url}"),
            expected,
            response.status.as_u16(),
        )?;
    }
    Ok(())
}

/// `GET /api/sse?topic=room:R` streams each publication to `room:R` as `event: message`
/// with the same JSON the WebSocket members get; room messages with distinct ids (typing
/// notices may have none).
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
    let mut ids = HashSet::new();
    for text in ["first over sse", "second over sse"] {
        sender.say(&room, text).await?;
        let over_ws = member.recv_message(&room, text).await?;
        let data = next_publication(&mut stream, &mut ids, |data| {
            data["type"] == "message" && data["text"] == text
        })
        .await?;
        check_message(&data, &room, &sender, text)?;
        ensure_eq("SSE data vs WebSocket message", &over_ws, &data)?;
    }
    sender.ws.send_json(&typing(&room)).await?;
    let data =
        next_publication(&mut stream, &mut ids, |data| data["type"] == "user-typing").await?;
    let expected = json!({ "type": "user-typing", "roomId": room, "userId": sender.id });
    ensure_eq("SSE user-typing data", &expected, &data)
}

/// Reads SSE events up to the publication `wanted` accepts, checks that it came as
/// `event: message` with an id not seen before, and returns its JSON data.
async fn next_publication(
    stream: &mut SseClient,
    seen_ids: &mut HashSet<String>,
    wanted: impl Fn(&Value) -> bool,
) -> Result<Value, ScenarioError> {
    let (event, data) = loop {
        let event = stream.next_event().await?;
        let raw = event.data.as_deref().unwrap_or_default();
        let data: Value = serde_json::from_str(raw).map_err(|error| {
            ScenarioError::mismatch("SSE data", "JSON", format!("{error} in {raw:?}"))
        })?;
        if wanted(&data) {
            break (event, data);
        }
    };
    ensure_eq(
        &format!("SSE event name of {data}"),
        Some("message"),
        event.event.as_deref(),
    )?;
    // Where ids are stream positions, ephemeral events (typing) carry none, so that
    // they never move the client's Last-Event-ID.
    let needs_id = data["type"] == "message";
    match event.id.filter(|id| !id.is_empty()) {
        Some(id) if seen_ids.insert(id.clone()) => Ok(data),
        None if !needs_id => Ok(data),
        other => Err(ScenarioError::mismatch(
            format!("SSE event id of {data}"),
            "a non-empty id, different for each event",
            format!("{other:?}"),
        )),
    }
}
