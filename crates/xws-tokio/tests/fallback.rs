//! The SSE + POST fallback and the app-level ping, over real sockets: a
//! fallback peer is a full peer of the same handler.

use parking_lot::Mutex;
use std::{net::SocketAddr, sync::Arc, time::Duration};
use xws::{CloseCode, CloseFrame, Handler, HookResult, Limits, Message, Peer};
use xws_testkit::client::{Frame, WsClient, post_raw, sse_connect};
use xws_tokio::{APP_PING, APP_PONG, Config, Xws};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Joins `news` on open, echoes messages, closes on "bye", and remembers
/// what it saw.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<String>>,
    closed: Mutex<Vec<u16>>,
}

#[derive(Clone, Default)]
struct Recording(Arc<Recorder>);

impl Handler for Recording {
    type Context = ();

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        peer.subscribe("news")?;
        peer.send("welcome")?;
        Ok(())
    }

    async fn message(&self, peer: &Peer<()>, message: Message) -> HookResult {
        let text = message.text()?.to_owned();
        self.0.seen.lock().push(text.clone());
        if text == "bye" {
            peer.close(CloseCode::from(4000), "bye now");
        } else {
            peer.send(message)?;
        }
        Ok(())
    }

    async fn close(&self, _peer: &Peer<()>, frame: CloseFrame) {
        self.0.closed.lock().push(frame.code.as_u16());
    }
}

async fn start(handler: Recording) -> (SocketAddr, Xws<Recording>) {
    let config = Config {
        limits: Limits {
            max_message_size: 1024,
            ..Limits::default()
        },
        ..Config::default()
    };
    let xws = Xws::with_config(handler, config);
    let app = axum::Router::new()
        .route_service("/fb", xws.fallback())
        .route_service("/ws", xws.ws());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    (addr, xws)
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_fallback_peer_is_a_full_peer() {
    let handler = Recording::default();
    let recorder = Arc::clone(&handler.0);
    let (addr, xws) = start(handler).await;
    let base = format!("http://{addr}/fb");

    let mut stream = sse_connect(&format!("{base}?user=ada"), TIMEOUT)
        .await
        .unwrap();
    let session = stream.next_event().await.unwrap();
    assert_eq!(session.event.as_deref(), Some("xws-session"));
    let id = session.data.unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        stream.next_event().await.unwrap().data.as_deref(),
        Some("welcome")
    );
    let post_url = format!("{base}?session={id}");

    // A POST reaches `message`; the answer comes down the stream.
    assert_eq!(
        post_raw(&post_url, "hello", TIMEOUT).await.unwrap().status,
        204
    );
    let echo = stream.next_event().await.unwrap();
    assert_eq!(echo.event.as_deref(), Some("message"));
    assert_eq!(echo.data.as_deref(), Some("hello"));

    // Topics, broadcasts and the peer list include it.
    let hub = xws.hub();
    assert_eq!(hub.peers().await.unwrap().len(), 1);
    assert_eq!(hub.publish("news", "extra").await.unwrap().delivered, 1);
    assert_eq!(
        stream.next_event().await.unwrap().data.as_deref(),
        Some("extra")
    );
    assert_eq!(hub.broadcast("all").await.unwrap().delivered, 1);
    assert_eq!(
        stream.next_event().await.unwrap().data.as_deref(),
        Some("all")
    );

    // The app-level ping is answered without the handler.
    assert_eq!(
        post_raw(&post_url, APP_PING, TIMEOUT).await.unwrap().status,
        204
    );
    assert_eq!(
        stream.next_event().await.unwrap().data.as_deref(),
        Some(APP_PONG)
    );
    assert_eq!(*recorder.seen.lock(), ["hello"]);

    // Bad requests lose nothing and say why.
    let unknown = format!("{base}?session={}", "0".repeat(32));
    assert_eq!(post_raw(&unknown, "x", TIMEOUT).await.unwrap().status, 404);
    assert_eq!(post_raw(&base, "x", TIMEOUT).await.unwrap().status, 400);
    let too_big = "x".repeat(2048);
    assert_eq!(
        post_raw(&post_url, &too_big, TIMEOUT).await.unwrap().status,
        413
    );

    // A close from the handler ends the stream with its code.
    assert_eq!(
        post_raw(&post_url, "bye", TIMEOUT).await.unwrap().status,
        204
    );
    let close = stream.next_event().await.unwrap();
    assert_eq!(close.event.as_deref(), Some("xws-close"));
    let close: serde_json::Value = serde_json::from_str(&close.data.unwrap()).unwrap();
    assert_eq!(
        close,
        serde_json::json!({ "code": 4000, "reason": "bye now" })
    );
    eventually("the close hook", || *recorder.closed.lock() == [4000]).await;
    assert_eq!(
        post_raw(&post_url, "late", TIMEOUT).await.unwrap().status,
        404
    );
    eventually("the peer to leave", || xws.peer_count() == 0).await;
    eventually("the slot to be freed", || xws.connections() == 0).await;
}

#[tokio::test]
async fn a_websocket_peer_gets_the_app_pong_without_the_handler() {
    let handler = Recording::default();
    let recorder = Arc::clone(&handler.0);
    let (addr, _xws) = start(handler).await;
    let mut ws = WsClient::connect(&format!("ws://{addr}/ws"), "ws", TIMEOUT)
        .await
        .unwrap();
    ws.send_text(APP_PING).await.unwrap();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    assert_eq!(
        ws.next_frame_until(deadline).await,
        Some(Frame::Text("welcome".into()))
    );
    assert_eq!(
        ws.next_frame_until(deadline).await,
        Some(Frame::Json(serde_json::json!({ "xws": "pong" })))
    );
    assert!(recorder.seen.lock().is_empty());
}
