//! Instances share nothing: a publication from one reaches the streams of
//! another through a real Redis.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use http::Method;
use xws::caps::{Needs, Vercel};
use xws::{Handler, HookResult, Peer, RequestInfo, adapter::NodeId};
use xws_redis::testing::{require_redis, unique_channel};
use xws_redis::{RedisBroker, RedisBrokerConfig};
use xws_serverless::{InstanceTopics, Session, StreamConfig, TokioRuntime};

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
                .with_secret(xws_redis::testing::TEST_SECRET)
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
