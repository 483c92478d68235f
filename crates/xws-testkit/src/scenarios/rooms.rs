//! Rooms: subscribe, publish to the others, order, isolation, context.

use std::collections::HashMap;

use futures_util::future::try_join_all;

use crate::chat::{ChatPeer, check_message, is_message_in, typing as typing_frame, unique_name};
use crate::error::ensure_eq;
use crate::{ScenarioError, Target};

/// Opens `count` peers (spread over the nodes) and joins them all to `room`.
async fn room_of(
    target: &Target,
    room: &str,
    count: usize,
) -> Result<Vec<ChatPeer>, ScenarioError> {
    let mut peers = ChatPeer::open_many(target, count, None).await?;
    try_join_all(peers.iter_mut().map(|peer| peer.join(room))).await?;
    Ok(peers)
}

/// `join-room` answers `joined`, `leave-room` answers `left`, for each room separately.
pub async fn join_leave(target: &Target) -> Result<(), ScenarioError> {
    let mut peer = ChatPeer::open(target, 0, None).await?;
    let (first, second) = (unique_name("join-a"), unique_name("join-b"));
    peer.join(&first).await?;
    peer.join(&second).await?;
    peer.leave(&first).await?;
    peer.leave(&second).await?;
    Ok(())
}

/// A room message reaches every other member with all its fields, and never the sender.
pub async fn publish_skips_sender(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("skip");
    let mut peers = room_of(target, &room, 3).await?;
    let text = "hello, room";
    peers[0].say(&room, text).await?;
    let (sender, others) = peers.split_first_mut().expect("three peers");
    for other in others.iter_mut() {
        let frame = other.recv_message(&room, text).await?;
        check_message(&frame, &room, sender, text)?;
    }
    sender
        .ensure_nothing_from(&room, "its own room message")
        .await
}

/// Each sender's messages arrive in the order sent, with two senders interleaving.
pub async fn per_sender_order(target: &Target) -> Result<(), ScenarioError> {
    const PER_SENDER: usize = 25;
    let room = unique_name("order");
    let mut peers = room_of(target, &room, 3).await?;
    let mut receiver = peers.pop().expect("three peers");
    let sending = peers.iter_mut().enumerate().map(|(sender, peer)| {
        let room = room.clone();
        async move {
            for seq in 0..PER_SENDER {
                peer.say(&room, &format!("{sender}:{seq}")).await?;
            }
            Ok::<_, ScenarioError>(())
        }
    });
    try_join_all(sending).await?;
    let mut next_seq: HashMap<String, usize> = HashMap::new();
    for _ in 0..PER_SENDER * 2 {
        let frame = receiver
            .ws
            .recv_json_matching(&format!("message in {room}"), |frame| {
                is_message_in(frame, &room)
            })
            .await?;
        let text = frame["text"].as_str().unwrap_or_default();
        let (sender, seq) = text.split_once(':').unwrap_or_default();
        let expected = next_seq.entry(sender.to_owned()).or_default();
        ensure_eq(
            &format!("sequence number from sender {sender}"),
            expected.to_string().as_str(),
            seq,
        )?;
        *expected += 1;
    }
    receiver
        .ensure_nothing_from(&room, "messages beyond those sent")
        .await
}

/// The `?user=` given at connect time is kept in the peer's context and appears in every
/// later message of that peer; a peer without one appears as `null`.
pub async fn user_in_context(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("context");
    let user = "Zoë & Ünïcødé ✓";
    let mut named = ChatPeer::open(target, 0, Some(user)).await?;
    let mut anonymous = ChatPeer::open(target, 1, None).await?;
    named.join(&room).await?;
    anonymous.join(&room).await?;
    for text in ["first", "second", "third"] {
        named.say(&room, text).await?;
        // Other traffic between messages must not disturb the context.
        named.sync().await?;
        let frame = anonymous.recv_message(&room, text).await?;
        check_message(&frame, &room, &named, text)?;
    }
    anonymous.say(&room, "reply").await?;
    let frame = named.recv_message(&room, "reply").await?;
    check_message(&frame, &room, &anonymous, "reply")
}

/// A peer that never joined may still send to a room: every member gets it.
pub async fn publish_from_non_member(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("outsider");
    let mut outsider = ChatPeer::open(target, 0, Some("outsider")).await?;
    let mut members = ChatPeer::open_many(target, 3, None).await?;
    // Peer 0 of the members would share the outsider's node; drop it to keep nodes mixed.
    members.remove(0);
    try_join_all(members.iter_mut().map(|member| member.join(&room))).await?;
    outsider.say(&room, "from outside").await?;
    for member in &mut members {
        let frame = member.recv_message(&room, "from outside").await?;
        check_message(&frame, &room, &outsider, "from outside")?;
    }
    outsider
        .ensure_nothing_from(&room, "a message of a room it never joined")
        .await
}

/// One message to a room of many reaches every other member exactly once.
pub async fn room_fan_out(target: &Target) -> Result<(), ScenarioError> {
    const MEMBERS: usize = 12;
    let room = unique_name("fanout");
    let mut peers = room_of(target, &room, MEMBERS).await?;
    peers[0].say(&room, "to everyone").await?;
    let (sender, others) = peers.split_first_mut().expect("many peers");
    try_join_all(
        others
            .iter_mut()
            .map(|other| other.recv_message(&room, "to everyone")),
    )
    .await?;
    for other in others.iter_mut() {
        other
            .ensure_nothing_from(&room, "a second copy of the message")
            .await?;
    }
    sender
        .ensure_nothing_from(&room, "its own room message")
        .await
}

/// `typing` tells the other members `user-typing` with the typist's id, not the typist.
pub async fn typing(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("typing");
    let mut peers = room_of(target, &room, 3).await?;
    peers[0].ws.send_json(&typing_frame(&room)).await?;
    let (typist, others) = peers.split_first_mut().expect("three peers");
    for other in others.iter_mut() {
        let frame = other
            .ws
            .recv_json_matching(&format!("user-typing in {room}"), |frame| {
                frame["type"] == "user-typing" && frame["roomId"] == room.as_str()
            })
            .await?;
        ensure_eq("user-typing userId", &typist.id, &frame["userId"])?;
    }
    typist
        .ensure_nothing_from(&room, "its own typing notice")
        .await
}

/// After `left`, a peer gets nothing more from the room while the others still do.
///
/// With two nodes the leaver (peer 1) shares its node with a remaining member (peer 3), so
/// that member receiving the message proves it reached the leaver's node.
pub async fn leave_stops_delivery(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("leave");
    let mut peers = room_of(target, &room, 4).await?;
    peers[1].leave(&room).await?;
    peers[0].say(&room, "after leave").await?;
    peers[2].recv_message(&room, "after leave").await?;
    peers[3].recv_message(&room, "after leave").await?;
    peers[1]
        .ensure_nothing_from(&room, "message after leaving")
        .await
}

/// Messages stay in their room, even when one room's name is a prefix of another's;
/// a peer in two rooms gets both.
pub async fn many_rooms_isolated(target: &Target) -> Result<(), ScenarioError> {
    let a = unique_name("iso");
    let b = format!("{a}:b");
    let c = format!("{a}b");
    let rooms = [a.as_str(), b.as_str(), c.as_str()];
    let mut peers = ChatPeer::open_many(target, 4, None).await?;
    for (peer, room) in peers.iter_mut().zip(rooms) {
        peer.join(room).await?;
    }
    peers[3].join(&a).await?;
    peers[3].join(&b).await?;
    for (index, room) in rooms.into_iter().enumerate() {
        peers[index].say(room, &format!("only for {room}")).await?;
    }
    peers[3].recv_message(&a, &format!("only for {a}")).await?;
    peers[3].recv_message(&b, &format!("only for {b}")).await?;
    peers[3].say(&a, "from the peer in two rooms").await?;
    peers[0]
        .recv_message(&a, "from the peer in two rooms")
        .await?;
    let foreign: [(usize, &str); 7] = [
        (0, &b),
        (0, &c),
        (1, &a),
        (1, &c),
        (2, &a),
        (2, &b),
        (3, &c),
    ];
    for (index, room) in foreign {
        peers[index]
            .ensure_nothing_from(room, &format!("frame from a room it never joined ({room})"))
            .await?;
    }
    Ok(())
}

/// Non-ASCII text and room ids (accents, CJK, emoji, RTL, escapes) arrive byte for byte.
pub async fn unicode_text(target: &Target) -> Result<(), ScenarioError> {
    let room = unique_name("salon-é-房间-🚀");
    let mut peers = room_of(target, &room, 2).await?;
    let text = "héllo 世界 🚀👩🏽‍💻 שלום \"quoted\" \\ back\\slash\nnew line\ttab \u{1} \u{fffd}";
    peers[0].say(&room, text).await?;
    let frame = peers[1].recv_message(&room, text).await?;
    check_message(&frame, &room, &peers[0], text)
}
