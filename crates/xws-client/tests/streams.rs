//! Streams recover by themselves: a real xws-tokio server keeping history,
//! a connection the server closes while publications go on, and the
//! client's re-subscription from its position.

use serde_json::{Value, json};
use std::time::Duration;
use tokio::time::timeout;
use xws::{
    CloseCode, Handler, HookResult, Message, Peer,
    stream::{Position, Retention, StreamConfig, SubscribeOptions, TopicPolicy},
};
use xws_client::{Backoff, ClientConfig, Event, Events};

/// `{"sub": topic, "since": position|null}` subscribes with recovery and
/// answers `joined` (its position nested, so it is not a publication);
/// `{"drop": true}` closes the connection from the server.
struct Rooms;

impl Handler for Rooms {
    type Context = ();
    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        let request: Value = serde_json::from_str(message.text()?)?;
        if request["drop"] == true {
            peer.close(CloseCode::SERVICE_RESTART, "drop");
            return Ok(());
        }
        let topic = request["sub"].as_str().unwrap_or_default();
        let since: Option<Position> = serde_json::from_value(request["since"].clone())?;
        let subscription = peer
            .subscribe_with(topic, SubscribeOptions::new().since(since))
            .await?;
        peer.send_json(&json!({
            "type": "joined",
            "room": topic,
            "position": subscription.position(),
            "recovered": subscription.recovered(),
        }))?;
        subscription.start();
        Ok(())
    }
}

fn join(topic: &'static str) -> impl Fn(Option<&Position>) -> Message + Send + Sync + 'static {
    move |since| Message::json(&json!({"sub": topic, "since": since})).expect("JSON")
}

/// The next message event, skipping the others, within 10 s.
async fn next_message(events: &mut Events<Value>) -> Value {
    let search = async {
        loop {
            match events.next().await {
                Some(Event::Message(value)) => return value,
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
    };
    timeout(Duration::from_secs(10), search)
        .await
        .expect("a message within 10 s")
}

async fn expect_numbers(events: &mut Events<Value>, numbers: impl IntoIterator<Item = u64>) {
    for n in numbers {
        let message = next_message(events).await;
        assert_eq!(message["n"], n, "expected publication {n}, got {message}");
    }
}

#[tokio::test]
async fn a_stream_recovers_after_a_reconnect_and_sees_each_publication_once() {
    let rooms = TopicPolicy::history(Retention::new(100, Duration::from_secs(300)));
    let xws = xws_tokio::Xws::new(Rooms).with_streams(StreamConfig::new().rule("room:*", rooms));
    let hub = xws.hub();
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(xws_tokio::serve(listener, xws, std::future::pending()));
    let publish = |n: u64| {
        let hub = hub.clone();
        async move {
            hub.publish_json("room:a", &json!({"topic": "room:a", "n": n}))
                .await
                .expect("published");
        }
    };

    let mut config = ClientConfig::new(format!("ws://{addr}/ws"));
    // Slow enough that the publications below happen while disconnected.
    config.backoff = Backoff {
        min: Duration::from_millis(300),
        max: Duration::from_millis(300),
        ..Backoff::default()
    };
    let (client, mut events) = xws_client::connect::<Value>(config);
    // Subscribed before the connection opens: sent when it does.
    client.subscribe("room:a", join("room:a")).unwrap();
    let joined = next_message(&mut events).await;
    assert_eq!(joined["type"], "joined");
    assert_eq!(joined["recovered"], Value::Null, "no position yet");
    for n in 1..=3 {
        publish(n).await;
    }
    expect_numbers(&mut events, 1..=3).await;
    let before = client.position("room:a").expect("a position");
    assert_eq!(before.offset, 3);

    // The server drops the connection; three publications are missed.
    client.send_json(&json!({"drop": true})).unwrap();
    loop {
        match timeout(Duration::from_secs(10), events.next()).await {
            Ok(Some(Event::Close(info))) => {
                assert_eq!(info.code, 1012);
                break;
            }
            Ok(Some(_)) => {}
            other => panic!("no close: {other:?}"),
        }
    }
    for n in 4..=6 {
        publish(n).await;
    }
    let rejoined = next_message(&mut events).await;
    assert_eq!(rejoined["type"], "joined", "{rejoined}");
    assert_eq!(rejoined["recovered"], true, "{rejoined}");
    expect_numbers(&mut events, 4..=6).await;
    publish(7).await;
    expect_numbers(&mut events, [7]).await;
    assert_eq!(
        client.position("room:a"),
        Some(Position::new(7, before.epoch.clone()))
    );

    // A subscription from an older position replays what the client saw
    // already: none of it reaches the app again.
    let stale = before.clone();
    client
        .subscribe("room:a", move |_| {
            Message::json(&json!({"sub": "room:a", "since": Position::new(2, stale.epoch.clone())}))
                .expect("JSON")
        })
        .unwrap();
    let again = next_message(&mut events).await;
    assert_eq!(
        (&again["type"], &again["recovered"]),
        (&json!("joined"), &json!(true))
    );
    publish(8).await;
    expect_numbers(&mut events, [8]).await;
    client.close();
}
