//! The client against real servers on loopback: a restart, a full queue,
//! a server that stops answering.

use serde_json::{Value, json};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle, time::timeout};
use xws::{Handler, HookResult, Message, Peer};
use xws_client::{Backoff, ClientConfig, Event, Events, SendError, State};

/// Echoes every message back.
struct Echo;

impl Handler for Echo {
    type Context = ();
    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        peer.send(message)?;
        Ok(())
    }
}

struct Server {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    fn start(listener: TcpListener) -> Self {
        let (stop, stopped) = oneshot::channel();
        let xws = xws_tokio::Xws::new(Echo);
        let task = tokio::spawn(xws_tokio::serve(listener, xws, async {
            let _ = stopped.await;
        }));
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        timeout(Duration::from_secs(15), self.task)
            .await
            .expect("server stops")
            .expect("server task")
            .expect("server io");
    }
}

fn fast_config(addr: SocketAddr) -> ClientConfig {
    let mut config = ClientConfig::new(format!("ws://{addr}/ws"));
    config.backoff = Backoff {
        min: Duration::from_millis(20),
        max: Duration::from_millis(200),
        ..Backoff::default()
    };
    config.connect_timeout = Duration::from_secs(2);
    config
}

/// The next event that `pick` accepts, skipping the others, within 10 s.
async fn wait_for<T: std::fmt::Debug, R>(
    events: &mut Events<T>,
    what: &str,
    mut pick: impl FnMut(Event<T>) -> Option<R>,
) -> R {
    let search = async {
        loop {
            match events.next().await {
                Some(event) => {
                    if let Some(found) = pick(event) {
                        return found;
                    }
                }
                None => panic!("events ended while waiting for {what}"),
            }
        }
    };
    timeout(Duration::from_secs(10), search)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

async fn next_message(events: &mut Events<Value>) -> Value {
    wait_for(events, "a message", |event| match event {
        Event::Message(value) => Some(value),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn reconnects_across_a_server_restart_and_delivers_the_queue() {
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::start(listener);

    let mut config = fast_config(addr);
    config.on_open = Some(Arc::new(|| vec![Message::from(r#"{"hello":true}"#)]));
    let (client, mut events) = xws_client::connect::<Value>(config);
    let reconnected = wait_for(&mut events, "open", |event| match event {
        Event::Open { reconnected } => Some(reconnected),
        _ => None,
    })
    .await;
    assert!(!reconnected);
    assert_eq!(next_message(&mut events).await, json!({ "hello": true }));
    client.send_json(&json!({ "n": 1 })).unwrap();
    assert_eq!(next_message(&mut events).await, json!({ "n": 1 }));

    server.stop().await;
    let close = wait_for(&mut events, "close", |event| match event {
        Event::Close(info) => Some(info),
        _ => None,
    })
    .await;
    assert_eq!(close.code, 1001, "graceful shutdown says going away");
    assert!(close.will_reconnect);
    wait_for(&mut events, "reconnecting", |event| {
        matches!(event, Event::Reconnecting { .. }).then_some(())
    })
    .await;
    assert_ne!(client.state(), State::Open);
    client.send_json(&json!({ "n": 2 })).unwrap();
    client.send_json(&json!({ "n": 3 })).unwrap();
    assert_eq!(client.queued(), 2);

    let server = Server::start(xws_tokio::listen(addr).unwrap());
    let reconnected = wait_for(&mut events, "reopen", |event| match event {
        Event::Open { reconnected } => Some(reconnected),
        _ => None,
    })
    .await;
    assert!(reconnected);
    // The on_open messages go first, then the queue in order.
    assert_eq!(next_message(&mut events).await, json!({ "hello": true }));
    assert_eq!(next_message(&mut events).await, json!({ "n": 2 }));
    assert_eq!(next_message(&mut events).await, json!({ "n": 3 }));
    assert_eq!(client.queued(), 0);
    assert_eq!(client.state(), State::Open);

    client.close();
    let close = wait_for(&mut events, "final close", |event| match event {
        Event::Close(info) => Some(info),
        _ => None,
    })
    .await;
    assert!(!close.will_reconnect);
    assert_eq!(client.send("late"), Err(SendError::Closed));
    assert!(
        timeout(Duration::from_secs(5), events.next())
            .await
            .unwrap()
            .is_none()
    );
    server.stop().await;
}

#[tokio::test]
async fn the_queue_is_bounded_and_the_client_gives_up_after_max_attempts() {
    // A port where nothing listens.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let mut config = fast_config(addr);
    config.queue_limit = 3;
    config.max_attempts = Some(2);
    let (client, mut events) = xws_client::connect::<Value>(config);
    for n in 0..3 {
        client.send_json(&json!({ "n": n })).unwrap();
    }
    assert_eq!(
        client.send_json(&json!({ "n": 3 })),
        Err(SendError::QueueFull(3))
    );
    assert_eq!(client.queued(), 3);

    let mut attempts = Vec::new();
    let close = wait_for(&mut events, "giving up", |event| match event {
        Event::Reconnecting { attempt, .. } => {
            attempts.push(attempt);
            None
        }
        Event::Close(info) => Some(info),
        Event::Open { .. } => panic!("nothing listens there"),
        _ => None,
    })
    .await;
    assert_eq!(attempts, [1, 2]);
    assert!(!close.will_reconnect);
    assert!(
        close
            .reason
            .contains("gave up after 2 reconnection attempts"),
        "{}",
        close.reason
    );
    assert_eq!(client.state(), State::Closed);
}

#[tokio::test]
async fn a_server_that_stops_answering_is_replaced_by_the_heartbeat() {
    // Accepts WebSockets and reads, but never writes: a dead peer whose TCP
    // connection stays up.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let silent = tokio::spawn(async move {
        let mut sockets = Vec::new();
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
            sockets.push(tokio::spawn(async move {
                use futures_util::StreamExt;
                while let Some(Ok(_)) = ws.next().await {}
            }));
        }
    });

    let mut config = fast_config(addr);
    config.ping_interval = Some(Duration::from_millis(100));
    config.ping_timeout = Duration::from_millis(200);
    let (_client, mut events) = xws_client::connect::<Value>(config);
    wait_for(&mut events, "open", |event| {
        matches!(event, Event::Open { .. }).then_some(())
    })
    .await;
    let close = wait_for(
        &mut events,
        "the heartbeat to give up",
        |event| match event {
            Event::Close(info) => Some(info),
            _ => None,
        },
    )
    .await;
    assert_eq!(close.reason, "heartbeat timeout");
    assert!(close.will_reconnect);
    let reconnected = wait_for(&mut events, "a new connection", |event| match event {
        Event::Open { reconnected } => Some(reconnected),
        _ => None,
    })
    .await;
    assert!(reconnected);
    silent.abort();
}

#[tokio::test]
async fn an_xws_server_answers_the_heartbeat_so_the_connection_stays() {
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::start(listener);
    let mut config = fast_config(addr);
    config.ping_interval = Some(Duration::from_millis(50));
    config.ping_timeout = Duration::from_millis(200);
    let (client, mut events) = xws_client::connect::<Value>(config);
    wait_for(&mut events, "open", |event| {
        matches!(event, Event::Open { .. }).then_some(())
    })
    .await;
    // Twenty pings later, nothing happened: pongs never reach the app.
    let quiet = timeout(Duration::from_secs(1), events.next()).await;
    assert!(quiet.is_err(), "unexpected event: {quiet:?}");
    assert_eq!(client.state(), State::Open);
    client.send("plain text").unwrap();
    let echoed = wait_for(&mut events, "the echo", |event| match event {
        Event::Text(text) => Some(text),
        _ => None,
    })
    .await;
    assert_eq!(echoed, "plain text");
    client.close();
    server.stop().await;
}

/// A server that cannot send a close code (API Gateway) sends a close
/// notice, then closes: the client reports the notice's code. The echo
/// server sends the notice back as any message.
#[tokio::test]
async fn a_close_notice_is_reported_as_the_close() {
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::start(listener);
    let (client, mut events) = xws_client::connect::<Value>(fast_config(addr));
    wait_for(&mut events, "open", |event| {
        matches!(event, Event::Open { .. }).then_some(())
    })
    .await;
    let frame = xws::CloseFrame::new(xws::CloseCode::POLICY_VIOLATION, "rate limit exceeded");
    client.send(xws::client::close_notice(&frame)).unwrap();
    let close = wait_for(&mut events, "close", |event| match event {
        Event::Close(info) => Some(info),
        Event::Message(value) => panic!("the notice reached the app: {value}"),
        _ => None,
    })
    .await;
    assert_eq!(
        (close.code, close.reason.as_str()),
        (1008, "rate limit exceeded")
    );
    client.close();
    server.stop().await;
}

/// Says which kind of frame arrived (as text), then echoes it.
struct KindThenEcho;

impl Handler for KindThenEcho {
    type Context = ();
    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        let kind = match &message {
            Message::Text(_) => "text",
            Message::Binary(_) => "binary",
        };
        peer.send(Message::from(kind))?;
        peer.send(message)?;
        Ok(())
    }
}

#[tokio::test]
async fn binary_as_text_sends_binary_notices_and_reads_them_back_as_binary() {
    let listener = xws_tokio::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(xws_tokio::serve(
        listener,
        xws_tokio::Xws::new(KindThenEcho),
        std::future::pending::<()>(),
    ));
    let mut config = fast_config(addr);
    config.binary_as_text = true;
    let (client, mut events) = xws_client::connect::<Value>(config);
    client.send(Message::from(vec![0u8, 1, 255])).unwrap();
    // The server, which decodes nothing, got text: the notice.
    let kind = wait_for(&mut events, "the kind", |event| match event {
        Event::Text(text) => Some(text),
        _ => None,
    })
    .await;
    assert_eq!(kind, "text");
    // Its echo, the same notice, is read back as the bytes.
    let echoed = wait_for(&mut events, "the echo", |event| match event {
        Event::Binary(bytes) => Some(bytes),
        Event::Text(text) => panic!("the notice arrived as text: {text}"),
        _ => None,
    })
    .await;
    assert_eq!(&echoed[..], &[0, 1, 255]);
    client.close();
}
