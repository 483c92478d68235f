//! The hook rules, one behaviour per test, with no runtime: a recording
//! transport stands in for the socket, and the clock is a number.

use std::sync::{Arc, Mutex};

use futures_executor::block_on;

use super::*;
use crate::{
    CloseCode, HookResult, PeerId, Topic,
    adapter::{PeerTransport, new_peer},
};

/// What the session did through the peer's transport.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Send(Message),
    Close(CloseFrame),
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Op>>>);

impl Recorder {
    fn ops(&self) -> Vec<Op> {
        self.0.lock().unwrap().clone()
    }
}

impl PeerTransport for Recorder {
    fn send(&self, message: Message) -> Result<(), Error> {
        self.0.lock().unwrap().push(Op::Send(message));
        Ok(())
    }
    fn subscribe(&self, _: &Topic) -> Result<(), Error> {
        Ok(())
    }
    fn unsubscribe(&self, _: &Topic) -> Result<(), Error> {
        Ok(())
    }
    fn publish(&self, _: &Topic, _: Message) -> Result<(), Error> {
        Ok(())
    }
    fn close(&self, frame: CloseFrame) {
        self.0.lock().unwrap().push(Op::Close(frame));
    }
}

/// A handler whose `message` hook acts on the text it gets, and which
/// records the hooks that ran.
#[derive(Default)]
struct Probe {
    hooks: Mutex<Vec<String>>,
    fail_open: bool,
}

impl Probe {
    fn hooks(&self) -> Vec<String> {
        self.hooks.lock().unwrap().clone()
    }
    fn log(&self, hook: String) {
        self.hooks.lock().unwrap().push(hook);
    }
}

impl Handler for Probe {
    type Context = u32;

    async fn open(&self, _: &Peer<u32>) -> HookResult {
        self.log("open".into());
        if self.fail_open {
            return Err("no database".into());
        }
        Ok(())
    }

    async fn message(&self, peer: &Peer<u32>, message: Message) -> HookResult {
        if let Message::Binary(bytes) = &message {
            self.log(format!("binary {:?}", bytes.to_vec()));
            return Ok(());
        }
        let text = message.text().unwrap_or_default().to_owned();
        self.log(format!("message {text}"));
        match text.as_str() {
            "panic" => panic!("handler bug"),
            "fail" => Err("bad input".into()),
            "count" => {
                *peer.context_mut() += 1;
                Ok(())
            }
            "join" => Ok(peer.subscribe("room")?),
            _ => Ok(()),
        }
    }

    async fn close(&self, _: &Peer<u32>, frame: CloseFrame) {
        self.log(format!("close {}", frame.code));
    }

    async fn error(&self, _: &Peer<u32>, error: &Error) {
        self.log(format!("error {error}"));
    }

    fn authorize_publish(&self, _: &Peer<u32>, topic: &Topic) -> bool {
        topic.as_str().starts_with("room")
    }
}

fn session_with(handler: Probe, config: SessionConfig) -> (Session<Probe>, Arc<Probe>, Recorder) {
    let handler = Arc::new(handler);
    let recorder = Recorder::default();
    let peer = new_peer(
        PeerId::from("p1"),
        RequestInfo::default(),
        0,
        Box::new(recorder.clone()),
        handler.clone(),
        Limits::default().max_topics_per_peer,
    );
    let session = Session::new(handler.clone(), peer, config, 0);
    (session, handler, recorder)
}

fn session(config: SessionConfig) -> (Session<Probe>, Arc<Probe>, Recorder) {
    session_with(Probe::default(), config)
}

fn closed_with(code: CloseCode) -> Option<CloseFrame> {
    Some(Error::from_code_for_tests(code).close_frame())
}

impl Error {
    fn from_code_for_tests(code: CloseCode) -> Self {
        match code.as_u16() {
            1008 => Error::RateLimited,
            1009 => Error::MessageTooLarge { size: 0, limit: 0 },
            _ => Error::Panic(String::new()),
        }
    }
}

#[test]
fn an_oversized_message_closes_with_1009_before_the_hook() {
    let config = SessionConfig {
        max_message_size: 4,
        ..SessionConfig::default()
    };
    let (mut session, handler, transport) = session(config);
    let outcome = block_on(session.message(Message::from("12345"), 0));
    assert_eq!(outcome.closed, closed_with(CloseCode::MESSAGE_TOO_BIG));
    assert_eq!(
        handler.hooks(),
        ["error message of 5 bytes exceeds the limit of 4 bytes"]
    );
    assert_eq!(
        transport.ops(),
        [Op::Close(CloseFrame::new(
            CloseCode::MESSAGE_TOO_BIG,
            "message too large"
        ))]
    );
    // A message of exactly the limit passes.
    let (mut session, handler, _) = session_with(Probe::default(), config);
    let outcome = block_on(session.message(Message::from("1234"), 0));
    assert_eq!(outcome, Outcome::default());
    assert_eq!(handler.hooks(), ["message 1234"]);
}

#[test]
fn a_flood_is_refused_then_closed_with_1008_after_the_tolerance() {
    let config = SessionConfig {
        rate: Some(RateLimit {
            messages_per_second: 1,
            burst: 2,
            tolerance: 3,
        }),
        ..SessionConfig::default()
    };
    let (mut session, handler, transport) = session(config);
    let mut closes = Vec::new();
    for _ in 0..6 {
        closes.push(block_on(session.message(Message::from("hi"), 0)).closed);
    }
    // Two within the burst, three refusals tolerated, the sixth closes.
    assert_eq!(closes[..5], [None, None, None, None, None]);
    assert_eq!(closes[5], closed_with(CloseCode::POLICY_VIOLATION));
    let hooks = handler.hooks();
    assert_eq!(hooks.iter().filter(|h| *h == "message hi").count(), 2);
    assert_eq!(
        hooks
            .iter()
            .filter(|h| *h == "error rate limit exceeded")
            .count(),
        4,
        "one error per refusal and one for the close: {hooks:?}"
    );
    assert_eq!(
        transport.ops(),
        [Op::Close(CloseFrame::new(
            CloseCode::POLICY_VIOLATION,
            "rate limit exceeded"
        ))]
    );
    // After the close nothing more reaches the handler.
    let outcome = block_on(session.message(Message::from("late"), 10_000));
    assert_eq!(outcome, Outcome::default());
    assert!(!handler.hooks().contains(&"message late".to_owned()));
}

#[test]
fn control_frames_count_toward_the_rate_limit() {
    let config = SessionConfig {
        rate: Some(RateLimit {
            messages_per_second: 1,
            burst: 1,
            tolerance: 0,
        }),
        ..SessionConfig::default()
    };
    let (mut session, _, _) = session(config);
    assert_eq!(block_on(session.control_frame(0)), Outcome::default());
    let outcome = block_on(session.control_frame(0));
    assert_eq!(outcome.closed, closed_with(CloseCode::POLICY_VIOLATION));
}

#[test]
fn the_rate_limiter_state_survives_a_resume() {
    let config = SessionConfig {
        rate: Some(RateLimit {
            messages_per_second: 1,
            burst: 1,
            tolerance: 0,
        }),
        ..SessionConfig::default()
    };
    let (mut first, handler, _) = session(config);
    let _ = block_on(first.message(Message::from("a"), 0));
    let stored = first.limiter().cloned();
    let mut next = Session::resume(handler, first.peer().clone(), config, stored);
    let outcome = block_on(next.message(Message::from("b"), 0));
    assert_eq!(outcome.closed, closed_with(CloseCode::POLICY_VIOLATION));
}

#[test]
fn a_panic_in_a_hook_closes_with_1011_after_the_error_hook() {
    let (mut session, handler, transport) = session(SessionConfig::default());
    let outcome = block_on(session.message(Message::from("panic"), 0));
    assert_eq!(outcome.closed, closed_with(CloseCode::INTERNAL_ERROR));
    assert_eq!(
        handler.hooks(),
        ["message panic", "error handler panicked: handler bug"]
    );
    assert_eq!(
        transport.ops(),
        [Op::Close(CloseFrame::new(
            CloseCode::INTERNAL_ERROR,
            "internal error"
        ))]
    );
}

#[test]
fn an_error_from_a_hook_closes_with_1011_after_the_error_hook() {
    let (mut session, handler, _) = session(SessionConfig::default());
    let outcome = block_on(session.message(Message::from("fail"), 0));
    assert_eq!(outcome.closed, closed_with(CloseCode::INTERNAL_ERROR));
    assert_eq!(
        handler.hooks(),
        ["message fail", "error handler error: bad input"]
    );
}

#[test]
fn an_open_error_closes_with_1011_rather_than_refusing() {
    let probe = Probe {
        fail_open: true,
        ..Probe::default()
    };
    let (mut session, handler, _) = session_with(probe, SessionConfig::default());
    let outcome = block_on(session.open());
    assert_eq!(outcome.closed, closed_with(CloseCode::INTERNAL_ERROR));
    assert_eq!(
        handler.hooks(),
        ["open", "error handler error: no database"]
    );
}

#[test]
fn the_app_ping_is_answered_without_the_handler() {
    let (mut session, handler, transport) = session(SessionConfig::default());
    let outcome = block_on(session.message(Message::from(client::APP_PING), 0));
    assert_eq!(outcome, Outcome::default());
    assert!(handler.hooks().is_empty(), "{:?}", handler.hooks());
    assert_eq!(transport.ops(), [Op::Send(client::app_pong())]);

    // Switched off, the handler sees the ping like any message.
    let config = SessionConfig {
        answer_app_ping: false,
        ..SessionConfig::default()
    };
    let (mut session, handler, transport) = session_with(Probe::default(), config);
    let _ = block_on(session.message(Message::from(client::APP_PING), 0));
    assert_eq!(handler.hooks(), [format!("message {}", client::APP_PING)]);
    assert!(transport.ops().is_empty());
}

#[test]
fn persist_is_asked_only_when_the_context_or_topics_changed() {
    let (mut session, _, _) = session(SessionConfig::default());
    assert!(!block_on(session.open()).persist);
    assert!(!block_on(session.message(Message::from("read only"), 0)).persist);
    assert!(block_on(session.message(Message::from("count"), 0)).persist);
    assert!(!block_on(session.message(Message::from("read only"), 0)).persist);
    assert!(block_on(session.message(Message::from("join"), 0)).persist);
    // Joining again changes nothing.
    assert!(!block_on(session.message(Message::from("join"), 0)).persist);
    assert_eq!(*session.peer().context(), 1);
}

#[test]
fn close_runs_the_close_hook_and_ends_the_session() {
    let (mut session, handler, _) = session(SessionConfig::default());
    block_on(session.close(CloseFrame::new(CloseCode::GOING_AWAY, "bye")));
    let _ = block_on(session.message(Message::from("late"), 0));
    assert_eq!(handler.hooks(), ["close 1001"]);
}

#[test]
fn a_panicking_upgrade_is_answered_500() {
    struct Broken;
    impl Handler for Broken {
        type Context = ();
        async fn upgrade(&self, _: &RequestInfo) -> Upgrade<()> {
            panic!("upgrade bug")
        }
    }
    match block_on(decide_upgrade(&Broken, &RequestInfo::default())) {
        Upgrade::Reject(reject) => assert_eq!(reject.status.as_u16(), 500),
        Upgrade::Accept(_) => panic!("a panicking upgrade must not accept"),
    }
}

#[test]
fn the_session_counts_connections_messages_and_drops() {
    use crate::metrics::{LogRecorder, Sample, SampleValue};
    let recorder = LogRecorder::default();
    let config = SessionConfig {
        max_message_size: 4,
        rate: Some(RateLimit {
            messages_per_second: 1,
            burst: 1,
            tolerance: 5,
        }),
        ..SessionConfig::default()
    };
    ::metrics::with_local_recorder(&recorder, || {
        let (mut session, _, _) = session(config);
        block_on(async {
            let _ = session.open().await;
            let _ = session.open().await; // counted once
            let _ = session.message(Message::from("ok"), 0).await;
            let _ = session.message(Message::from("slow"), 0).await; // over the rate
            let _ = session.message(Message::from("too long"), 0).await; // closes 1009
            session
                .close(CloseFrame::new(CloseCode::MESSAGE_TOO_BIG, ""))
                .await;
            session.close(CloseFrame::new(CloseCode::NORMAL, "")).await; // counted once
        });
    });
    let samples = recorder.drain();
    let value = |name: &str, label: Option<(&str, &str)>| -> Option<SampleValue> {
        samples
            .iter()
            .find(
                |Sample {
                     name: n, labels, ..
                 }| {
                    n == name
                        && label
                            .is_none_or(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
                },
            )
            .map(|sample| sample.value.clone())
    };
    let counter = SampleValue::Counter;
    assert_eq!(
        value("xws_connections_opened_total", None),
        Some(counter(1))
    );
    assert_eq!(
        value("xws_connections_closed_total", Some(("code", "1009"))),
        Some(counter(1))
    );
    assert_eq!(
        value("xws_connections_closed_total", Some(("code", "1000"))),
        None
    );
    assert_eq!(
        value("xws_connections_open", None),
        Some(SampleValue::Gauge(0.0))
    );
    assert_eq!(value("xws_messages_in_total", None), Some(counter(3)));
    assert_eq!(value("xws_bytes_in_total", None), Some(counter(14)));
    assert_eq!(
        value("xws_drops_total", Some(("reason", "rate_limit"))),
        Some(counter(1))
    );
    assert_eq!(
        value("xws_drops_total", Some(("reason", "oversize"))),
        Some(counter(1))
    );
}

#[test]
fn authorize_publish_decides_every_publication_of_a_peer() {
    let (session, _, _) = session(SessionConfig::default());
    let peer = session.peer();
    assert!(peer.publish("room:a", "hi").is_ok());
    assert!(peer.publish_ephemeral("room:a", "typing").is_ok());
    assert!(matches!(
        peer.publish("user:bob", "hi"),
        Err(Error::PublishRefused(topic)) if topic == "user:bob"
    ));
    assert!(matches!(
        peer.publish_ephemeral("user:bob", "typing"),
        Err(Error::PublishRefused(_))
    ));
    assert!(matches!(
        peer.publish_json("user:bob", &1),
        Err(Error::PublishRefused(_))
    ));
}

#[test]
fn a_new_peer_keeps_neither_credentials_nor_headers_by_default() {
    let handler = Arc::new(Probe::default());
    let request = RequestInfo::new("/ws", Some("room=a&token=s3cret"))
        .with_header("cookie", "session=abc")
        .with_header("authorization", "Bearer s3cret");
    let peer = new_peer(
        PeerId::from("p1"),
        request,
        0,
        Box::new(Recorder::default()),
        handler,
        Limits::default().max_topics_per_peer,
    );
    let kept = &crate::adapter::snapshot(&peer).request;
    assert_eq!(kept, peer.request());
    assert_eq!(kept.path, "/ws");
    assert_eq!(kept.query.as_deref(), Some("room=a"));
    assert!(kept.headers.is_empty(), "{:?}", kept.headers);
}

#[test]
fn hooks_run_in_the_connection_span_with_the_peer_and_the_target() {
    /// Logs one event from inside its `open` hook.
    struct Logs;
    impl Handler for Logs {
        type Context = u32;
        async fn open(&self, _: &Peer<u32>) -> HookResult {
            tracing::info!("opened by the handler");
            Ok(())
        }
    }
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let handler = Arc::new(Logs);
    let peer = new_peer(
        PeerId::from("p7"),
        RequestInfo::default(),
        0,
        Box::new(Recorder::default()),
        handler.clone(),
        Limits::default().max_topics_per_peer,
    );
    let config = SessionConfig {
        target: "test-target",
        ..SessionConfig::default()
    };
    tracing::subscriber::with_default(subscriber, || {
        let mut session = Session::new(handler, peer, config, 0);
        let _ = block_on(session.open());
    });
    let output = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let line = output
        .lines()
        .find(|line| line.contains("opened by the handler"))
        .expect("the hook's event");
    assert!(
        line.contains("xws.peer{peer=p7 target=\"test-target\"}"),
        "{line}"
    );
}

#[test]
fn a_binary_notice_reaches_the_handler_as_binary_where_the_target_refuses_binary_frames() {
    let notice = client::binary_notice(&[0, 1, 255]);
    let config = SessionConfig {
        binary_as_text: true,
        ..SessionConfig::default()
    };
    let (mut session, handler, _) = session(config);
    let _ = block_on(session.message(notice.clone(), 0));
    let _ = block_on(session.message(Message::from("plain"), 0));
    assert_eq!(handler.hooks(), ["binary [0, 1, 255]", "message plain"]);

    // Elsewhere a notice is text like any other.
    let (mut elsewhere, handler, _) = session_with(Probe::default(), SessionConfig::default());
    let _ = block_on(elsewhere.message(notice.clone(), 0));
    assert_eq!(
        handler.hooks(),
        [format!("message {}", notice.text().unwrap())]
    );
}

#[test]
fn a_peer_holds_max_topics_and_not_one_more_on_every_adapter() {
    let handler = Arc::new(Probe::default());
    let peer = new_peer(
        PeerId::from("p1"),
        RequestInfo::default(),
        0,
        Box::new(Recorder::default()),
        handler,
        2,
    );
    peer.subscribe("room:a").unwrap();
    peer.subscribe("room:b").unwrap();
    assert!(matches!(
        peer.subscribe("room:c"),
        Err(Error::TooManyTopics { limit: 2 })
    ));
    peer.subscribe("room:a")
        .expect("a topic it holds is no new one");
    peer.unsubscribe("room:a").unwrap();
    peer.subscribe("room:c").expect("leaving frees a place");
    assert_eq!(peer.topics().len(), 2);
}
