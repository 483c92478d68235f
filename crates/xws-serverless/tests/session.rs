//! A stream from request to end, on Tokio: what the client reads, in order.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use http::{Method, StatusCode};
use sse_stream::{Sse, SseStream};
use xws::caps::{Needs, Vercel};
use xws::{
    CloseCode, CloseFrame, Handler, HookResult, Peer, Reject, RequestInfo, Topic, Upgrade,
    adapter::NodeId,
};
use xws_serverless::{EventStream, InstanceTopics, Session, StreamConfig, TokioRuntime};

/// A feed: `?user=` names the stream's user; `open` sends the current state
/// and subscribes to `user:{id}`; a stream of user `bye` is closed by the
/// handler right after its state.
#[derive(Default)]
struct Feed {
    closed: Arc<Mutex<Vec<CloseFrame>>>,
}

impl Handler for Feed {
    type Context = String;
    const NEEDS: Needs = Needs::SSE;

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<String> {
        match request.query_param("user") {
            Some(user) => Upgrade::accept(user.into_owned()),
            None => Reject::new(StatusCode::BAD_REQUEST, "name the ?user=").into(),
        }
    }

    async fn open(&self, peer: &Peer<String>) -> HookResult {
        let user = peer.context().clone();
        peer.send(format!("state of {user}"))?;
        peer.subscribe(format!("user:{user}"))?;
        if user == "bye" {
            peer.close(CloseCode::NORMAL, "job done");
        }
        Ok(())
    }

    async fn close(&self, _peer: &Peer<String>, frame: CloseFrame) {
        self.closed.lock().unwrap().push(frame);
    }

    fn authorize_subscribe(&self, peer: &Peer<String>, topic: &Topic) -> bool {
        topic.as_str() == format!("user:{}", peer.context().as_str()) || topic.as_str() == "news"
    }
}

fn config() -> StreamConfig {
    StreamConfig {
        keep_alive: Duration::from_secs(1),
        retry: Duration::from_millis(250),
        ..StreamConfig::new(Duration::from_secs(4))
    }
}

fn session(
    topics: &Arc<InstanceTopics>,
) -> (Session<Feed, TokioRuntime>, Arc<Mutex<Vec<CloseFrame>>>) {
    let feed = Feed::default();
    let closed = feed.closed.clone();
    let session = Session::new::<Vercel>(feed, topics.clone(), TokioRuntime, config());
    (session, closed)
}

fn get(query: &str) -> RequestInfo {
    RequestInfo::new("/api/stream", Some(query))
}

/// What a client reads: events and comment-only blocks alike.
fn client(
    stream: EventStream<Feed, TokioRuntime>,
) -> impl futures_util::Stream<Item = Result<Sse, sse_stream::Error>> + Unpin {
    SseStream::from_bytes_stream(stream.map(Ok::<_, Infallible>))
}

/// The next chunk of the body, as text.
async fn chunk(stream: &mut EventStream<Feed, TokioRuntime>) -> Option<String> {
    let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next())
        .await
        .expect("the stream went silent")?;
    Some(String::from_utf8(chunk.to_vec()).unwrap())
}

#[tokio::test(start_paused = true)]
async fn state_first_then_publications_keep_alives_and_an_end_before_the_limit() {
    let topics = InstanceTopics::local(NodeId(1));
    let (session, closed) = session(&topics);
    let mut stream = session
        .open(&Method::GET, get("user=ada"), None)
        .await
        .unwrap();

    // At once: a comment and the retry hint, so the client's `open` fires.
    assert_eq!(chunk(&mut stream).await.unwrap(), ": xws\nretry: 250\n\n");
    assert_eq!(
        chunk(&mut stream).await.unwrap(),
        "event: message\ndata: state of ada\n\n"
    );

    let hub = topics.hub();
    let reached = hub.publish("user:ada", "progress 50%").await.unwrap();
    assert_eq!(reached.delivered, 1);
    hub.publish("user:bob", "not for ada").await.unwrap();
    assert_eq!(
        chunk(&mut stream).await.unwrap(),
        "event: message\ndata: progress 50%\n\n"
    );

    // Silence: a keep-alive comment each second.
    let started = tokio::time::Instant::now();
    assert_eq!(chunk(&mut stream).await.unwrap(), ": keep-alive\n\n");
    assert_eq!(started.elapsed(), Duration::from_secs(1));

    // 4 s limit, 10 s margin: the stream ends at 2 s with a retry hint.
    let last = chunk(&mut stream).await.unwrap();
    assert!(last.starts_with("retry: 250\n: "), "{last}");
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert!(chunk(&mut stream).await.is_none());
    assert_eq!(
        topics.subscribers("user:ada"),
        0,
        "the stream left its topics"
    );
    let closed = closed.lock().unwrap().clone();
    assert_eq!(closed.len(), 1, "the close hook ran once");
    assert_eq!(closed[0].code, CloseCode::GOING_AWAY);
}

#[tokio::test]
async fn the_handler_ends_a_stream_with_a_close_event() {
    let topics = InstanceTopics::local(NodeId(1));
    let (session, closed) = session(&topics);
    let stream = session
        .open(&Method::GET, get("user=bye"), None)
        .await
        .unwrap();
    let events: Vec<Sse> = client(stream).map(Result::unwrap).collect().await;
    let data: Vec<_> = events.iter().filter_map(|e| e.data.as_deref()).collect();
    assert_eq!(
        data,
        ["state of bye", r#"{"code":1000,"reason":"job done"}"#]
    );
    assert_eq!(events.last().unwrap().event.as_deref(), Some("close"));
    assert_eq!(closed.lock().unwrap()[0].reason, "job done");
}

#[tokio::test]
async fn refusals_say_why() {
    let topics = InstanceTopics::local(NodeId(1));
    let (session, _) = session(&topics);
    let refuse = |method: Method, request: RequestInfo| {
        let session = session.clone();
        async move { session.open(&method, request, None).await.err().unwrap() }
    };
    let websocket = refuse(
        Method::GET,
        get("user=ada").with_header("upgrade", "websocket"),
    )
    .await;
    assert_eq!(websocket.status, StatusCode::NOT_IMPLEMENTED);
    assert!(websocket.body.contains("use SSE"), "{}", websocket.body);
    assert_eq!(
        refuse(Method::POST, get("user=ada")).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let rejected = refuse(Method::GET, get("")).await;
    assert_eq!(
        (rejected.status, rejected.body.as_str()),
        (StatusCode::BAD_REQUEST, "name the ?user=")
    );
    let forbidden = refuse(Method::GET, get("user=ada&topic=user:bob")).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(
        topics.subscribers("user:ada"),
        0,
        "a refused stream holds no topic"
    );
    assert_eq!(
        refuse(Method::GET, get("user=ada&topic=")).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_client_that_leaves_unsubscribes_and_the_close_hook_runs() {
    let topics = InstanceTopics::local(NodeId(1));
    let (session, closed) = session(&topics);
    let stream = session
        .open(&Method::GET, get("user=ada&topic=news"), None)
        .await
        .unwrap();
    assert_eq!(
        (topics.subscribers("user:ada"), topics.subscribers("news")),
        (1, 1)
    );
    drop(stream);
    assert_eq!(
        (topics.subscribers("user:ada"), topics.subscribers("news")),
        (0, 0)
    );
    tokio::time::timeout(Duration::from_secs(5), async {
        while closed.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the close hook did not run");
    assert_eq!(closed.lock().unwrap()[0].code, CloseCode::GOING_AWAY);
}

#[tokio::test(start_paused = true)]
async fn a_remaining_time_shorter_than_the_limit_ends_the_stream_sooner() {
    let topics = InstanceTopics::local(NodeId(1));
    let (session, _) = session(&topics);
    let stream = session
        .open(
            &Method::GET,
            get("user=ada"),
            Some(Duration::from_millis(400)),
        )
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let events: Vec<Sse> = client(stream).map(Result::unwrap).collect().await;
    // Half of 400 ms, as the 10 s margin is longer than what remains.
    assert_eq!(started.elapsed(), Duration::from_millis(200));
    assert_eq!(events.last().unwrap().retry, Some(250));
}
