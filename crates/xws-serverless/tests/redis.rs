//! Instances share nothing: a publication from one reaches the streams of
//! another through a real Redis. A topic with history is kept in that Redis
//! too: events carry their position as id, and a stream reopened on any
//! instance with `Last-Event-ID` gets what it missed, then
//! `event: recovered`, then live publications.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use http::Method;
use xws::caps::{Needs, Vercel};
use xws::stream::{Retention, TopicPolicy};
use xws::{Handler, HookResult, Peer, RequestInfo, adapter::NodeId};
use xws_redis::testing::{TEST_SECRET, kill_connection, require_redis, unique_channel};
use xws_redis::{RedisBroker, RedisBrokerConfig, RedisStreams};
use xws_serverless::{EventStream, InstanceTopics, Session, StreamConfig, TokioRuntime};

/// Streams the topic `jobs`.
struct Jobs;

impl Handler for Jobs {
    type Context = ();
    const NEEDS: Needs = Needs::SSE;

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        peer.subscribe("jobs")?;
        Ok(())
    }
}

async fn instance(url: &str, channel: &str, node: u64) -> Arc<InstanceTopics> {
    let broker = Arc::new(
        RedisBroker::connect(
            RedisBrokerConfig::new(url)
                .with_secret(TEST_SECRET)
                .with_channel(channel),
        )
        .await
        .unwrap(),
    );
    let topics = InstanceTopics::with_broker(NodeId(node), broker.clone());
    tokio::time::timeout(Duration::from_secs(10), broker.ready())
        .await
        .expect("not subscribed to Redis");
    topics
}

async fn text(stream: &mut (impl futures_util::Stream<Item = bytes::Bytes> + Unpin)) -> String {
    let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("nothing arrived")
        .expect("the stream ended");
    String::from_utf8(chunk.to_vec()).unwrap()
}

#[tokio::test]
async fn a_publication_on_one_instance_reaches_a_stream_on_another() {
    let url = require_redis().await;
    let channel = unique_channel("serverless-instances");
    let (a, b) = (
        instance(&url, &channel, 1).await,
        instance(&url, &channel, 2).await,
    );
    let session = Session::new::<Vercel>(
        Jobs,
        a.clone(),
        TokioRuntime,
        StreamConfig::new(Duration::from_secs(60)),
    );
    let mut stream = session
        .open(&Method::GET, RequestInfo::new("/", None), None)
        .await
        .unwrap();
    let id = stream.id().unwrap().clone();
    assert!(text(&mut stream).await.starts_with(": xws"));

    // B has no stream: it delivers to none of its own, and its hub returns
    // once Redis has the publication.
    let reached = b.hub().publish("jobs", "job 7 done").await.unwrap();
    assert_eq!(reached.delivered, 0);
    assert_eq!(
        text(&mut stream).await,
        "event: message\ndata: job 7 done\n\n"
    );

    // One stream by id, wherever it is.
    assert!(!b.hub().send_to(&id, "just for you").await.unwrap());
    assert_eq!(
        text(&mut stream).await,
        "event: message\ndata: just for you\n\n"
    );
}

const WAIT: Duration = Duration::from_secs(10);

/// An instance whose topic `jobs` keeps history in the Redis the broker uses.
async fn instance_with_history(url: &str, channel: &str, node: u64) -> Arc<InstanceTopics> {
    let config = RedisBrokerConfig::new(url)
        .with_secret(TEST_SECRET)
        .with_channel(channel);
    let broker = Arc::new(RedisBroker::connect(config.clone()).await.unwrap());
    let store = Arc::new(RedisStreams::new(config).unwrap());
    let streams = xws::stream::StreamConfig::new().rule(
        "jobs",
        TopicPolicy::history(Retention::new(10, Duration::from_secs(60))),
    );
    let topics = InstanceTopics::with_history(
        NodeId(node),
        Some(broker.clone()),
        streams,
        store.clone(),
        TokioRuntime,
    );
    tokio::time::timeout(WAIT, store.feed_ready())
        .await
        .expect("the stream feed is not subscribed");
    tokio::time::timeout(WAIT, broker.ready())
        .await
        .expect("not subscribed to Redis");
    topics
}

/// Reads a stream's body as events (comments and `retry:` lines dropped).
struct Events {
    stream: EventStream<Jobs, TokioRuntime>,
    buffer: String,
}

impl Events {
    async fn open(topics: &Arc<InstanceTopics>, last_event_id: Option<&str>) -> Self {
        let session = Session::new::<Vercel>(
            Jobs,
            topics.clone(),
            TokioRuntime,
            StreamConfig::new(Duration::from_secs(60)),
        );
        let mut request = RequestInfo::new("/", None);
        if let Some(id) = last_event_id {
            request = request.with_header("last-event-id", id);
        }
        let stream = session.open(&Method::GET, request, None).await.unwrap();
        Self {
            stream,
            buffer: String::new(),
        }
    }

    /// What the body sends until it ends.
    async fn rest(&mut self) -> String {
        let mut rest = std::mem::take(&mut self.buffer);
        while let Some(chunk) = tokio::time::timeout(WAIT, self.stream.next())
            .await
            .expect("the stream did not end")
        {
            rest.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        rest
    }

    /// The next event, as `(id, event, data)`.
    async fn next(&mut self) -> (Option<String>, String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, "message".to_owned(), String::new());
                for line in block.lines() {
                    match line.split_once(": ") {
                        Some(("id", value)) => id = Some(value.to_owned()),
                        Some(("event", value)) => event = value.to_owned(),
                        Some(("data", value)) => data = value.to_owned(),
                        _ => {}
                    }
                }
                if block.lines().any(|line| line.starts_with("data: ")) {
                    return (id, event, data);
                }
                continue;
            }
            let chunk = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("nothing arrived")
                .expect("the stream ended");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[tokio::test]
async fn a_stream_resumes_on_another_instance_with_what_it_missed() {
    let url = require_redis().await;
    let channel = unique_channel("serverless-resume");
    let (a, b) = (
        instance_with_history(&url, &channel, 1).await,
        instance_with_history(&url, &channel, 2).await,
    );
    let mut first = Events::open(&a, None).await;
    b.hub().publish("jobs", "one").await.unwrap();
    let (id, event, data) = first.next().await;
    assert_eq!((event.as_str(), data.as_str()), ("message", "one"));
    let id = id.expect("a publication of a topic with history has an id");
    assert!(id.starts_with("1:"), "{id}");
    drop(first);

    // While the client is away, from either instance.
    b.hub().publish("jobs", "two").await.unwrap();
    a.hub().publish("jobs", "three").await.unwrap();
    let mut again = Events::open(&b, Some(&id)).await;
    let epoch = id.split_once(':').unwrap().1;
    for (offset, expected) in [(2, "two"), (3, "three")] {
        let (got_id, _, data) = again.next().await;
        assert_eq!(data, expected);
        assert_eq!(got_id, Some(format!("{offset}:{epoch}")));
    }
    let (_, event, data) = again.next().await;
    assert_eq!((event.as_str(), data.as_str()), ("recovered", "true"));
    // Live again, each once.
    a.hub().publish("jobs", "four").await.unwrap();
    let (got_id, _, data) = again.next().await;
    assert_eq!(
        (got_id, data.as_str()),
        (Some(format!("4:{epoch}")), "four")
    );
}

#[tokio::test]
async fn a_position_that_cannot_be_recovered_gets_the_newest_and_recovered_false() {
    let url = require_redis().await;
    let channel = unique_channel("serverless-unrecoverable");
    let a = instance_with_history(&url, &channel, 1).await;
    a.hub().publish("jobs", "old").await.unwrap();
    a.hub().publish("jobs", "newest").await.unwrap();
    let mut stream = Events::open(&a, Some("1:another-epoch")).await;
    let (id, _, data) = stream.next().await;
    assert_eq!(data, "newest");
    assert!(id.is_some_and(|id| id.starts_with("2:")));
    let (_, event, data) = stream.next().await;
    assert_eq!((event.as_str(), data.as_str()), ("recovered", "false"));
    a.hub().publish("jobs", "next").await.unwrap();
    assert_eq!(stream.next().await.2, "next");
}

/// A feed that lost Redis may have missed publications: its streams end
/// with a `retry:`, and the client recovers them from history.
#[tokio::test]
async fn a_stream_whose_feed_was_interrupted_ends_and_its_client_recovers() {
    let url = require_redis().await;
    let channel = unique_channel("serverless-resync");
    let a = instance_with_history(&url, &channel, 1).await;
    let mut stream = Events::open(&a, None).await;
    a.hub().publish("jobs", "one").await.unwrap();
    let (id, _, data) = stream.next().await;
    assert_eq!(data, "one");
    kill_connection(&url, &format!("xws:{channel}:streams:feed")).await;
    let rest = stream.rest().await;
    assert!(rest.contains("retry: "), "{rest:?}");
    a.hub().publish("jobs", "two").await.unwrap();
    let mut again = Events::open(&a, id.as_deref()).await;
    assert_eq!(again.next().await.2, "two");
    let (_, event, data) = again.next().await;
    assert_eq!((event.as_str(), data.as_str()), ("recovered", "true"));
}
