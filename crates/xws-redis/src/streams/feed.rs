//! The feed: every node listens to the application's stream channel and
//! hands what the scripts announced to its adapter, in order: sealed
//! publications with their positions, and sealed presence events.

use bytes::Bytes;
use redis::{PushInfo, PushKind, Value};
use std::sync::Arc;
use tokio::sync::mpsc;
use xws::{
    Error, Message, PeerId, Text, Topic,
    stream::{
        Append, DeliverStreamEvent, Member, Position, PresenceChange, PresenceEvent, Publication,
        StreamEvent,
    },
};

use super::Inner;
use crate::{EnvelopeSeal, backoff::Backoff};

/// Subscribes to the feed and delivers until the store is dropped,
/// resubscribing after every loss; each resubscription is announced as
/// [`StreamEvent::Resync`], since announcements may have been missed.
pub(super) async fn listen(inner: Arc<Inner>, deliver: DeliverStreamEvent) {
    let mut backoff = Backoff::new(&inner.config);
    let name = format!("xws:{}:streams:feed", inner.prefix);
    let mut subscribed_before = false;
    loop {
        let (pushes_in, mut pushes) = mpsc::unbounded_channel();
        let attempt = tokio::select! {
            () = inner.cancel.cancelled() => return,
            attempt = async {
                let mut connection = inner.connector.open(&name, Some(pushes_in)).await?;
                redis::cmd("SUBSCRIBE")
                    .arg(&inner.feed_channel)
                    .exec_async(&mut connection)
                    .await?;
                Ok::<_, redis::RedisError>(connection)
            } => attempt,
        };
        let mut connection = match attempt {
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(%error, "xws-redis: stream feed cannot subscribe, retrying");
                if !backoff.wait(&inner.cancel).await {
                    return;
                }
                continue;
            }
        };
        backoff.reset();
        tracing::info!(channel = %inner.feed_channel, "xws-redis: stream feed subscribed");
        inner.feed_up.send_replace(true);
        if subscribed_before {
            deliver(StreamEvent::Resync);
        }
        subscribed_before = true;
        let mut health_check = tokio::time::interval(inner.config.health_check_interval);
        health_check.tick().await;
        loop {
            tokio::select! {
                () = inner.cancel.cancelled() => return,
                push = pushes.recv() => match push {
                    Some(PushInfo { kind: PushKind::Message, data }) => match decode(data, &inner.seal) {
                        Ok(event) => deliver(event),
                        Err(error) => tracing::warn!(%error, "xws-redis: skipped a stream feed message"),
                    },
                    Some(PushInfo { kind: PushKind::Disconnection | PushKind::Unsubscribe, .. }) | None => break,
                    Some(_) => {}
                },
                _ = health_check.tick() => {
                    if let Err(error) = redis::cmd("PING").exec_async(&mut connection).await {
                        tracing::warn!(%error, "xws-redis: stream feed health check failed");
                        break;
                    }
                }
            }
        }
        tracing::warn!("xws-redis: stream feed lost Redis, resubscribing");
        inner.feed_up.send_replace(false);
        if !backoff.wait(&inner.cancel).await {
            return;
        }
    }
}

/// What a sealed publication starts with (so it is never taken for a
/// sealed envelope or presence event, nor the reverse).
const PUBLICATION_MAGIC: &[u8] = b"XWSP\n";
/// What a sealed presence event starts with.
const PRESENCE_MAGIC: &[u8] = b"XWSS\n";

/// A publication as its node seals it:
/// `XWSP\ntopic\npublisher\nkind\npayload`, kind `t` (text) or `b`.
pub(super) fn publication(append: &Append) -> Vec<u8> {
    let (kind, payload): (&[u8], &[u8]) = match &append.message {
        Message::Text(text) => (b"t", text.as_bytes()),
        Message::Binary(bytes) => (b"b", bytes),
    };
    let publisher = append.publisher.as_ref().map_or("", PeerId::as_str);
    let mut sealed = Vec::with_capacity(payload.len() + 64);
    sealed.extend_from_slice(PUBLICATION_MAGIC);
    for field in [append.topic.as_str().as_bytes(), publisher.as_bytes(), kind] {
        sealed.extend_from_slice(field);
        sealed.push(b'\n');
    }
    sealed.extend_from_slice(payload);
    sealed
}

/// Opens a sealed publication (from the feed or the log) at `position`:
/// its topic and the publication. Anything that does not open is refused.
pub(super) fn open_publication(
    seal: &EnvelopeSeal,
    sealed: &[u8],
    position: Position,
    time_ms: u64,
) -> Result<(Topic, Publication), Error> {
    let bad = |why: &str| Error::malformed("sealed publication", why);
    let opened = seal
        .open(&Bytes::copy_from_slice(sealed))
        .map_err(|refusal| bad(refusal.as_str()))?;
    let rest = opened
        .strip_prefix(PUBLICATION_MAGIC)
        .ok_or_else(|| bad("not a publication"))?;
    let mut fields = rest.splitn(4, |byte| *byte == b'\n');
    let (Some(topic), Some(publisher), Some(kind), Some(payload)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(bad("missing fields"));
    };
    let text = |bytes| std::str::from_utf8(bytes).map_err(|_| bad("not UTF-8"));
    let topic = Topic::new(text(topic)?)?;
    let publisher = text(publisher)?;
    let payload = Bytes::copy_from_slice(payload);
    let message = match kind {
        b"t" => Message::Text(Text::from_utf8(payload)?),
        b"b" => Message::Binary(payload),
        _ => return Err(bad("unknown message kind")),
    };
    Ok((
        topic,
        Publication {
            position,
            message,
            time_ms,
            publisher: (!publisher.is_empty()).then(|| PeerId::from(publisher)),
        },
    ))
}

/// A presence event as its node seals it: `XWSS\n{J|L}\ntopic\npeer\ninfo`.
pub(super) fn presence_event(
    change: PresenceChange,
    topic: &Topic,
    peer: &PeerId,
    info: &str,
) -> Vec<u8> {
    let kind = match change {
        PresenceChange::Join => "J",
        PresenceChange::Leave => "L",
    };
    let mut event = PRESENCE_MAGIC.to_vec();
    event.extend_from_slice(format!("{kind}\n{topic}\n{peer}\n{info}").as_bytes());
    event
}

/// `[channel, payload]`: a publication `P\noffset\nepoch\ntime\n` and its
/// seal, or `S` and a sealed presence event.
fn decode(data: Vec<Value>, seal: &EnvelopeSeal) -> Result<StreamEvent, Error> {
    let bad = |why: &str| Error::malformed("stream feed message", why);
    let Some(Value::BulkString(payload)) = data.into_iter().nth(1) else {
        return Err(bad("not a bulk string"));
    };
    match payload.split_first() {
        Some((b'P', rest)) => {
            let mut fields = rest.splitn(5, |byte| *byte == b'\n');
            let (Some(b""), Some(offset), Some(epoch), Some(time), Some(sealed)) = (
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
                fields.next(),
            ) else {
                return Err(bad("missing fields"));
            };
            let number = |bytes| {
                std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|text| text.parse::<u64>().ok())
                    .ok_or_else(|| bad("not a number"))
            };
            let epoch = std::str::from_utf8(epoch).map_err(|_| bad("epoch"))?;
            let position = Position::new(number(offset)?, epoch);
            let (topic, publication) = open_publication(seal, sealed, position, number(time)?)?;
            Ok(StreamEvent::Published { topic, publication })
        }
        Some((b'S', sealed)) => {
            let event = seal
                .open(&Bytes::copy_from_slice(sealed))
                .map_err(|refusal| bad(refusal.as_str()))?;
            presence_of(&event).ok_or_else(|| bad("not a presence event"))
        }
        _ => Err(bad("unknown kind")),
    }
}

/// Parses what [`presence_event`] made.
fn presence_of(event: &[u8]) -> Option<StreamEvent> {
    let rest = event.strip_prefix(PRESENCE_MAGIC)?;
    let mut fields = rest.splitn(4, |byte| *byte == b'\n');
    let (kind, topic, peer, info) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let change = match kind {
        b"J" => PresenceChange::Join,
        b"L" => PresenceChange::Leave,
        _ => return None,
    };
    Some(StreamEvent::Presence(PresenceEvent {
        change,
        topic: Topic::new(std::str::from_utf8(topic).ok()?).ok()?,
        member: Member {
            id: PeerId::from(std::str::from_utf8(peer).ok()?),
            info: serde_json::from_slice(info).unwrap_or(serde_json::Value::Null),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(payload: &[u8]) -> Vec<Value> {
        vec![
            Value::BulkString(b"app:streams".to_vec()),
            Value::BulkString(payload.to_vec()),
        ]
    }

    fn seal(secret: &[u8]) -> EnvelopeSeal {
        EnvelopeSeal::new("app", secret, &[])
    }

    #[test]
    fn sealed_publications_open_on_this_channel_only() {
        let ours = seal(b"0123456789abcdef");
        let append = Append {
            topic: Topic::new("room:1").unwrap(),
            message: Message::from("{\"a\":\n1}"),
            publisher: Some("p1".into()),
            retention: xws::stream::Retention::new(1, std::time::Duration::from_secs(1)),
            now_ms: 0,
        };
        let mut wire = b"P\n7\ne1\n1700\n".to_vec();
        wire.extend_from_slice(&ours.seal(&publication(&append)));
        let StreamEvent::Published { topic, publication } = decode(feed(&wire), &ours).unwrap()
        else {
            panic!("a publication");
        };
        assert_eq!(topic.as_str(), "room:1");
        assert_eq!(publication.position, Position::new(7, "e1"));
        assert_eq!(publication.message.text().unwrap(), "{\"a\":\n1}");
        assert_eq!(publication.publisher, Some(PeerId::from("p1")));
        assert!(decode(feed(&wire), &seal(b"another secret!!")).is_err());
        let mut unsealed = b"P\n7\ne1\n1700\n".to_vec();
        unsealed.extend_from_slice(&super::publication(&append));
        assert!(decode(feed(&unsealed), &ours).is_err());
    }

    #[test]
    fn presence_events_are_opened_with_the_secret_and_forgeries_refused() {
        let ours = seal(b"0123456789abcdef");
        let topic = Topic::new("room:1").unwrap();
        let event = presence_event(
            PresenceChange::Leave,
            &topic,
            &"p2".into(),
            "{\"user\":\"ada\"}",
        );
        let mut wire = b"S".to_vec();
        wire.extend_from_slice(&ours.seal(&event));
        let StreamEvent::Presence(event) = decode(feed(&wire), &ours).unwrap() else {
            panic!("a presence event");
        };
        assert_eq!(event.change, PresenceChange::Leave);
        assert_eq!(event.member.info["user"], "ada");
        assert!(decode(feed(&wire), &seal(b"another secret!!")).is_err());
        let mut unsealed = b"S".to_vec();
        unsealed.extend_from_slice(&presence_event(
            PresenceChange::Join,
            &topic,
            &"p3".into(),
            "null",
        ));
        assert!(decode(feed(&unsealed), &ours).is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        for payload in [
            &b""[..],
            b"A\nroom:1\nx\ne",
            b"Z\nroom:1",
            b"A\n\n1\ne",
            b"A",
        ] {
            assert!(
                decode(feed(payload), &seal(b"0123456789abcdef")).is_err(),
                "{payload:?}"
            );
        }
    }
}
