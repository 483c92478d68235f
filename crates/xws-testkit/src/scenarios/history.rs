//! History, recovery and presence: nothing missed across a reconnect.
//!
//! Every room message carries its stream position (`offset`, `epoch`); `join-room` with
//! `since` replays what came after it, `history` answers the last messages, `presence`
//! lists the members, and members that join with `presence: true` hear who comes and goes.
//! With several nodes, each reconnect goes to another node than the one the client left.

use std::time::Duration;

use serde_json::{Value, json};

use crate::chat::{
    ChatPeer, history as history_request, is_message_in, position_of, presence, since, unique_name,
};
use crate::client::{SseClient, sse_connect, sse_resume};
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// Checks that `frames` are the room messages `texts`, in order, at consecutive offsets
/// after `after` in `epoch`; returns the last offset.
fn ensure_sequence(
    what: &str,
    frames: &[Value],
    texts: &[String],
    after: u64,
    epoch: &str,
) -> Result<u64, ScenarioError> {
    let got: Vec<&str> = frames
        .iter()
        .map(|frame| frame["text"].as_str().unwrap_or_default())
        .collect();
    let wanted: Vec<&str> = texts.iter().map(String::as_str).collect();
    ensure_eq(&format!("{what}: texts in order"), wanted, got)?;
    let mut last = after;
    for frame in frames {
        let (offset, frame_epoch) = position_of(frame)?;
        ensure_eq(
            &format!("{what}: epoch of {frame}"),
            epoch,
            frame_epoch.as_str(),
        )?;
        ensure_eq(&format!("{what}: offset of {frame}"), last + 1, offset)?;
        last = offset;
    }
    Ok(last)
}

/// Reads the next `count` room messages of `room`, in arrival order.
async fn next_messages(
    peer: &mut ChatPeer,
    room: &str,
    count: usize,
) -> Result<Vec<Value>, ScenarioError> {
    let mut frames = Vec::with_capacity(count);
    for _ in 0..count {
        frames.push(peer.next_message(room).await?);
    }
    Ok(frames)
}

fn texts(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|n| format!("{prefix} {n}")).collect()
}

/// The `"recovered"` of a `joined` answer must be `expected`.
fn ensure_recovered(joined: &Value, expected: bool) -> Result<(), ScenarioError> {
    ensure_eq(
        &format!("\"recovered\" in {joined}"),
        &Value::Bool(expected),
        &joined["recovered"],
    )
}

/// A member that drops (no close frame) and rejoins with `since` gets exactly the
/// messages it missed, oldest first, after `joined` and before any live one; messages
/// carry consecutive offsets in one epoch. With several nodes it rejoins on another node.
pub async fn recovery_after_drop(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("recover");
    let mut sender = ChatPeer::open(target, 0, Some("sender")).await?;
    let mut reader = ChatPeer::open(target, 1, Some("reader")).await?;
    sender.join(&room).await?;
    let joined = reader.join_with(&room, json!({})).await?;
    let (start, epoch) = position_of(&joined)?;
    let before = texts("before", 3);
    for text in &before {
        sender.say(&room, text).await?;
    }
    let seen = next_messages(&mut reader, &room, before.len()).await?;
    let last = ensure_sequence("live messages", &seen, &before, start, &epoch)?;
    drop(reader);

    let missed = texts("missed", 5);
    for text in &missed {
        sender.say(&room, text).await?;
    }
    sender.sync().await?;
    let mut reader = ChatPeer::open(target, 2, Some("reader")).await?;
    let joined = reader
        .join_with(&room, json!({ "since": since(last, &epoch) }))
        .await?;
    ensure_recovered(&joined, true)?;
    let replayed = next_messages(&mut reader, &room, missed.len()).await?;
    let last = ensure_sequence("replayed messages", &replayed, &missed, last, &epoch)?;
    sender.say(&room, "live again").await?;
    let live = next_messages(&mut reader, &room, 1).await?;
    ensure_sequence(
        "the first live message",
        &live,
        &["live again".into()],
        last,
        &epoch,
    )?;
    reader
        .ensure_nothing_from(&room, "a message twice or out of place")
        .await
}

/// A position of another epoch, or beyond the room's stream, cannot be recovered:
/// `joined` says `recovered: false` and nothing is replayed.
pub async fn recovery_refused_on_foreign_epoch(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("foreign");
    let mut sender = ChatPeer::open(target, 0, None).await?;
    let joined = sender.join_with(&room, json!({})).await?;
    let (_, epoch) = position_of(&joined)?;
    for text in texts("kept", 3) {
        sender.say(&room, &text).await?;
    }
    sender.sync().await?;
    let positions = [since(1, &format!("not-{epoch}")), since(1_000_000, &epoch)];
    for (index, position) in positions.into_iter().enumerate() {
        let mut reader = ChatPeer::open(target, index + 1, None).await?;
        let joined = reader
            .join_with(&room, json!({ "since": position }))
            .await?;
        ensure_recovered(&joined, false)?;
        position_of(&joined)?;
        reader
            .ensure_nothing_from(&room, "a replay after `recovered: false`")
            .await?;
    }
    Ok(())
}

/// `history` answers the room's last `limit` messages, oldest first, at consecutive
/// offsets ending at the room's position; a room keeps at least its last 100 messages.
pub async fn history_limit_and_order(target: &Target) -> Result<(), ScenarioError> {
    const SENT: usize = 105;
    let room = unique_name("history");
    let mut sender = ChatPeer::open(target, 0, None).await?;
    let mut member = ChatPeer::open(target, 1, None).await?;
    sender.join(&room).await?;
    let joined = member.join_with(&room, json!({})).await?;
    let (start, epoch) = position_of(&joined)?;
    let sent = texts("h", SENT);
    for text in &sent {
        sender.say(&room, text).await?;
    }
    // Every message reached a member, so every one is in the history.
    let seen = next_messages(&mut member, &room, SENT).await?;
    let top = ensure_sequence("live messages", &seen, &sent, start, &epoch)?;

    for (limit, expected) in [(5, 5), (1, 1), (100, 100)] {
        member.ws.send_json(&history_request(&room, limit)).await?;
        let answer = member.ws.recv_type("history").await?;
        ensure_eq(
            "history roomId",
            &Value::from(room.as_str()),
            &answer["roomId"],
        )?;
        ensure_eq(
            "history position",
            (top, epoch.clone()),
            position_of(&answer)?,
        )?;
        let messages = answer["messages"].as_array().cloned().unwrap_or_default();
        let wanted = &sent[SENT - expected..];
        ensure_sequence(
            &format!("history with limit {limit}"),
            &messages,
            wanted,
            top - expected as u64,
            &epoch,
        )?;
    }
    Ok(())
}

/// `join-room` with `latest: true` (cache mode) delivers the room's newest message right
/// after `joined`, and only that one.
pub async fn cache_mode_latest(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("latest");
    let mut sender = ChatPeer::open(target, 0, None).await?;
    sender.join(&room).await?;
    for text in ["older", "newest"] {
        sender.say(&room, text).await?;
    }
    sender.sync().await?;
    let mut reader = ChatPeer::open(target, 1, None).await?;
    // The sender's messages are appended in order; once `newest` is in history, a
    // reader joining sees it (wait for it through a second member).
    let mut witness = ChatPeer::open(target, 2, None).await?;
    witness.join(&room).await?;
    witness.ws.send_json(&history_request(&room, 1)).await?;
    let answer = witness.ws.recv_type("history").await?;
    ensure_eq(
        "the newest message in history",
        Some("newest"),
        answer["messages"][0]["text"].as_str(),
    )?;
    let joined = reader.join_with(&room, json!({ "latest": true })).await?;
    let (top, epoch) = position_of(&joined)?;
    let newest = next_messages(&mut reader, &room, 1).await?;
    ensure_sequence("cache mode", &newest, &["newest".into()], top - 1, &epoch)?;
    reader
        .ensure_nothing_from(&room, "more than the newest message")
        .await
}

/// `presence` lists every member with its user; members that joined with
/// `presence: true` get `user-joined` and `user-left` for the others (a connection
/// closed without a close frame counts as leaving), and the others get no such events.
pub async fn presence_and_join_leave(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("presence");
    let mut watcher = ChatPeer::open(target, 0, Some("watcher")).await?;
    watcher
        .join_with(&room, json!({ "presence": true }))
        .await?;
    let mut bob = ChatPeer::open(target, 1, Some("bob")).await?;
    bob.join(&room).await?;
    let mut quiet = ChatPeer::open(target, 2, None).await?;
    quiet.join(&room).await?;
    for (peer, user) in [(&bob, Value::from("bob")), (&quiet, Value::Null)] {
        let event = expect_presence_event(&mut watcher, "user-joined", &room, &peer.id).await?;
        ensure_eq("user-joined user", &user, &event["user"])?;
    }

    watcher.ws.send_json(&presence(&room)).await?;
    let answer = watcher.ws.recv_type("presence").await?;
    let mut members: Vec<(String, Value)> = answer["members"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|member| (member["id"].to_string(), member["user"].clone()))
        .collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected: Vec<(String, Value)> = vec![
        (watcher.id.to_string(), Value::from("watcher")),
        (bob.id.to_string(), Value::from("bob")),
        (quiet.id.to_string(), Value::Null),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    ensure_eq("presence members (id, user)", expected, members)?;

    bob.leave(&room).await?;
    expect_presence_event(&mut watcher, "user-left", &room, &bob.id).await?;
    let quiet_id = quiet.id.clone();
    // Dropped: the TCP connection closes without a close frame.
    drop(quiet);
    expect_presence_event(&mut watcher, "user-left", &room, &quiet_id).await?;

    watcher.ws.send_json(&presence(&room)).await?;
    let answer = watcher.ws.recv_type("presence").await?;
    let ids: Vec<&Value> = answer["members"]
        .as_array()
        .map(|members| members.iter().map(|member| &member["id"]).collect())
        .unwrap_or_default();
    ensure_eq("presence after two left", vec![&watcher.id], ids)?;

    watcher.sync().await?;
    watcher
        .ws
        .ensure_none_passed_over("its own user-joined", |frame| {
            frame["type"] == "user-joined" && frame["id"] == watcher.id
        })?;
    bob.sync().await?;
    bob.ws
        .ensure_none_passed_over("presence events it did not ask for", |frame| {
            frame["type"] == "user-joined" || frame["type"] == "user-left"
        })
}

async fn expect_presence_event(
    peer: &mut ChatPeer,
    kind: &str,
    room: &str,
    id: &Value,
) -> Result<Value, ScenarioError> {
    let event = peer
        .ws
        .recv_json_matching(&format!("{kind} of {id} in {room}"), |frame| {
            frame["type"] == kind && frame["id"] == *id
        })
        .await?;
    ensure_eq(
        &format!("roomId of {event}"),
        &Value::from(room),
        &event["roomId"],
    )?;
    Ok(event)
}

/// An SSE stream reopened with `Last-Event-ID` (the last event's id, a stream position)
/// gets the room messages it missed, in order, each once, then live ones.
pub async fn sse_resume_last_event_id(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("sse-resume");
    let topic: String =
        form_urlencoded::byte_serialize(format!("room:{room}").as_bytes()).collect();
    let url = target.http_url(0, &format!("/api/sse?topic={topic}"));
    let mut sender = ChatPeer::open(target, 1, None).await?;
    let mut member = ChatPeer::open(target, 2, None).await?;
    sender.join(&room).await?;
    member.join(&room).await?;
    let mut stream = sse_connect(&url, target.timeout).await?;
    sender.say(&room, "seen 1").await?;
    sender.say(&room, "seen 2").await?;
    next_messages(&mut member, &room, 2).await?;
    let (_, first_id) = next_sse_message(&mut stream, &room).await?;
    let (_, last_id) = next_sse_message(&mut stream, &room).await?;
    if first_id == last_id {
        return Err(ScenarioError::mismatch("SSE ids", "distinct", last_id));
    }
    drop(stream);

    let missed = texts("missed over sse", 3);
    for text in &missed {
        sender.say(&room, text).await?;
    }
    next_messages(&mut member, &room, missed.len()).await?;
    // On another node when there are several.
    let url = target.http_url(1, &format!("/api/sse?topic={topic}"));
    let mut stream = sse_resume(&url, Some(&last_id), target.timeout).await?;
    let mut got = Vec::new();
    for _ in 0..missed.len() {
        got.push(next_sse_message(&mut stream, &room).await?.0);
    }
    sender.say(&room, "live over sse").await?;
    got.push(next_sse_message(&mut stream, &room).await?.0);
    let mut wanted = missed;
    wanted.push("live over sse".into());
    let (after, epoch) = position_of(&got[0])?;
    ensure_sequence("resumed SSE", &got, &wanted, after - 1, &epoch)?;
    Ok(())
}

/// The next room message on an SSE stream, with its event id.
async fn next_sse_message(
    stream: &mut SseClient,
    room: &str,
) -> Result<(Value, String), ScenarioError> {
    loop {
        let event = stream.next_event().await?;
        let raw = event.data.as_deref().unwrap_or_default();
        let data: Value = serde_json::from_str(raw).map_err(|error| {
            ScenarioError::mismatch("SSE data", "JSON", format!("{error} in {raw:?}"))
        })?;
        if !is_message_in(&data, room) {
            continue;
        }
        let (offset, epoch) = position_of(&data)?;
        let id = event.id.unwrap_or_default();
        ensure_eq(
            &format!("SSE id of {data}"),
            format!("{offset}:{epoch}"),
            id.clone(),
        )?;
        return Ok((data, id));
    }
}

/// While a sender keeps publishing, a reader drops and recovers again and again: across
/// all its connections it sees every message exactly once, in order. This is what breaks
/// first when the seam between replay and live delivery is wrong.
pub async fn recovery_seam_under_load(target: &Target) -> Result<(), ScenarioError> {
    const SENT: usize = 200;
    const PER_CONNECTION: usize = 16;
    let room = unique_name("seam");
    let mut sender = ChatPeer::open(target, 0, None).await?;
    sender.join(&room).await?;
    let mut reader = ChatPeer::open(target, 1, None).await?;
    let joined = reader.join_with(&room, json!({})).await?;
    let (mut last, epoch) = position_of(&joined)?;
    let sent = texts("seam", SENT);
    let sending = async {
        // Paced, so that publications keep coming while the reader reconnects.
        for chunk in sent.chunks(2) {
            for text in chunk {
                sender.say(&room, text).await?;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Ok::<_, ScenarioError>(())
    };
    let reading = async {
        let mut seen: Vec<Value> = Vec::with_capacity(SENT);
        let mut connection = 1;
        while seen.len() < SENT {
            let batch = PER_CONNECTION.min(SENT - seen.len());
            let frames = next_messages(&mut reader, &room, batch).await?;
            let wanted = &sent[seen.len()..seen.len() + batch];
            last = ensure_sequence(
                &format!("connection {connection}"),
                &frames,
                wanted,
                last,
                &epoch,
            )?;
            seen.extend(frames);
            if seen.len() < SENT {
                connection += 1;
                reader = ChatPeer::open(target, connection, None).await?;
                let joined = reader
                    .join_with(&room, json!({ "since": since(last, &epoch) }))
                    .await?;
                ensure_recovered(&joined, true)?;
            }
        }
        Ok::<_, ScenarioError>(reader)
    };
    let (sent_result, read_result) = tokio::join!(sending, reading);
    sent_result?;
    let mut reader = read_result?;
    reader
        .ensure_nothing_from(&room, "a message beyond those sent, or one twice")
        .await
}
