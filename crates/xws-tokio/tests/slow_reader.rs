//! A reader that never reads: its queue stays bounded, the server's memory
//! stays flat, it is closed with 1013 (or only loses messages under
//! `SlowConsumer::DropMessage`), and a fast peer keeps getting every
//! message without delay.

mod common;

use common::{eventually, next_text, quiet_limits, raw_upgrade, rss_kib, start, test_config};
use parking_lot::Mutex;
use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};
use xws::{CloseFrame, Handler, HookResult, Limits, Peer, SlowConsumer};

/// What the handler observed.
#[derive(Default)]
struct Feed {
    opened: AtomicUsize,
    closes: Mutex<Vec<(String, u16)>>,
}

/// Subscribes every peer to `feed` and records how each one closed.
struct FeedHandler(Arc<Feed>);

impl Handler for FeedHandler {
    type Context = ();

    async fn open(&self, peer: &Peer<()>) -> HookResult {
        peer.subscribe("feed")?;
        self.0.opened.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn close(&self, peer: &Peer<()>, frame: CloseFrame) {
        let name = peer.request().query_param("name").unwrap_or_default();
        self.0
            .closes
            .lock()
            .push((name.into_owned(), frame.code.as_u16()));
    }
}

const MESSAGES: usize = 3_000;
const MESSAGE_SIZE: usize = 16 * 1024;
const SEND_QUEUE: usize = 16;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What one run of the feed observed.
struct Run {
    /// Publications that reached both peers before the slow one stopped
    /// taking them.
    delivered_to_both: usize,
    worst_latency: Duration,
    rss_growth_kib: u64,
    closed_during_run: Vec<(String, u16)>,
}

/// Publishes [`MESSAGES`] to a fast reader and a reader that never reads,
/// one at a time, timing how long each takes to reach the fast reader.
async fn feed_a_fast_and_a_stalled_reader(feed: &Arc<Feed>, slow_consumer: SlowConsumer) -> Run {
    // Both tests measure this process's memory: one at a time.
    let _alone = ONE_AT_A_TIME.lock().await;
    let config = test_config(Limits {
        send_queue: SEND_QUEUE,
        slow_consumer,
        ..quiet_limits()
    });
    let server = start(FeedHandler(Arc::clone(feed)), config).await;
    let mut fast = server.connect("/?name=fast").await;
    let stalled = raw_upgrade(server.addr, "/?name=slow", Some(4096)).await;
    eventually("both peers to subscribe", || {
        feed.opened.load(Ordering::SeqCst) == 2
    })
    .await;

    let hub = server.xws.hub();
    let payload = "x".repeat(MESSAGE_SIZE);
    let rss_before = rss_kib();
    let mut worst_latency = Duration::ZERO;
    let mut delivered_to_both = 0;
    for i in 0..MESSAGES {
        let started = Instant::now();
        let delivery = hub
            .publish("feed", format!("{i:06}{payload}"))
            .await
            .unwrap();
        if delivery.delivered == 2 {
            delivered_to_both += 1;
        }
        let received = next_text(&mut fast).await;
        assert_eq!(
            &received[..6],
            format!("{i:06}"),
            "fast reader lost or reordered a message"
        );
        worst_latency = worst_latency.max(started.elapsed());
    }
    let rss_growth_kib = rss_kib().saturating_sub(rss_before);
    // Give a pending close a moment to be recorded before taking stock.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let closed_during_run = feed.closes.lock().clone();
    drop(stalled);
    Run {
        delivered_to_both,
        worst_latency,
        rss_growth_kib,
        closed_during_run,
    }
}

/// The data published to the stalled reader; unbounded buffering would hold
/// most of it in memory.
const PUBLISHED_KIB: u64 = (MESSAGES * MESSAGE_SIZE / 1024) as u64;

impl Run {
    /// What must hold under every slow-consumer policy.
    fn assert_memory_flat_and_fast_reader_served(&self) {
        assert!(
            self.rss_growth_kib < PUBLISHED_KIB / 2,
            "memory grew by {} KiB while {PUBLISHED_KIB} KiB were published",
            self.rss_growth_kib
        );
        assert!(
            self.worst_latency < Duration::from_secs(2),
            "the fast reader waited {:?} for one message",
            self.worst_latency
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_never_reads_is_closed_with_1013_and_the_others_keep_up() {
    let feed = Arc::new(Feed::default());
    let run = feed_a_fast_and_a_stalled_reader(&feed, SlowConsumer::Close).await;

    assert_eq!(
        run.closed_during_run,
        vec![("slow".to_owned(), 1013)],
        "only the stalled reader closes, with 1013"
    );
    // Kernel buffers (a few MiB on loopback) plus the bounded queue, then
    // the queue refuses: far fewer than the publications.
    assert!(
        run.delivered_to_both < MESSAGES / 4,
        "the stalled reader took {} of {MESSAGES} messages: its queue is not bounded",
        run.delivered_to_both
    );
    run.assert_memory_flat_and_fast_reader_served();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_drop_message_a_stalled_reader_only_loses_messages() {
    let feed = Arc::new(Feed::default());
    let run = feed_a_fast_and_a_stalled_reader(&feed, SlowConsumer::DropMessage).await;

    // `delivered` counts the peer even when its copy is dropped, so only
    // memory tells that the queue stayed bounded.
    run.assert_memory_flat_and_fast_reader_served();
    assert_eq!(
        run.closed_during_run,
        vec![],
        "nobody is closed under DropMessage"
    );
}

/// The probe of issue 20: 60 KiB publications into a room where three
/// peers never read. Bounded by messages only, their queues took all 1,000
/// (the default holds 1,024) and the server held ~150 MiB, closing nobody.
const LARGE: usize = 60 * 1024;
const LARGE_PUBLICATIONS: usize = 1_000;

/// Publishes [`LARGE_PUBLICATIONS`] to a fast reader and three stalled ones
/// under `config`; returns how the stalled readers were closed, once they
/// all were, and the RSS growth in KiB then.
async fn large_publications_to_three_stalled_readers(
    feed: &Arc<Feed>,
    config: xws_tokio::Config,
) -> (Vec<(String, u16)>, u64) {
    let _alone = ONE_AT_A_TIME.lock().await;
    let server = start(FeedHandler(Arc::clone(feed)), config).await;
    let mut fast = server.connect("/?name=fast").await;
    let mut stalled = Vec::new();
    for name in ["slow1", "slow2", "slow3"] {
        stalled.push(raw_upgrade(server.addr, &format!("/?name={name}"), Some(4096)).await);
    }
    eventually("four peers to subscribe", || {
        feed.opened.load(Ordering::SeqCst) == 4
    })
    .await;
    let hub = server.xws.hub();
    let payload = "x".repeat(LARGE);
    let rss_before = rss_kib();
    for i in 0..LARGE_PUBLICATIONS {
        hub.publish("feed", format!("{i:06}{payload}"))
            .await
            .unwrap();
        assert_eq!(&next_text(&mut fast).await[..6], format!("{i:06}"));
    }
    eventually("the three stalled readers to be closed", || {
        feed.closes.lock().len() == 3
    })
    .await;
    eventually("their connections to end", || server.xws.connections() == 1).await;
    let growth = rss_kib().saturating_sub(rss_before);
    let mut closes = feed.closes.lock().clone();
    closes.sort();
    drop(stalled);
    (closes, growth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_publications_close_readers_that_never_read_by_the_byte_budget() {
    let feed = Arc::new(Feed::default());
    // Default queue limits: 1,024 messages, 1 MiB; writes never time out.
    let config = xws_tokio::Config {
        write_timeout: Duration::from_secs(3600),
        ..test_config(quiet_limits())
    };
    let (closes, growth) = large_publications_to_three_stalled_readers(&feed, config).await;
    assert_eq!(
        closes,
        [("slow1", 1013), ("slow2", 1013), ("slow3", 1013)].map(|(n, c)| (n.to_owned(), c)),
        "each stalled reader is closed with 1013 once 1 MiB waits for it"
    );
    // 58 MiB were published; what stays is the allocator's, not the peers'.
    assert!(
        growth < 32 * 1024,
        "the server kept {growth} KiB after the stalled readers were closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_drop_message_a_write_without_progress_ends_the_reader_with_1013() {
    let feed = Arc::new(Feed::default());
    let config = xws_tokio::Config {
        write_timeout: Duration::from_secs(1),
        ..test_config(Limits {
            slow_consumer: SlowConsumer::DropMessage,
            ..quiet_limits()
        })
    };
    let (closes, _) = large_publications_to_three_stalled_readers(&feed, config).await;
    assert_eq!(
        closes,
        [("slow1", 1013), ("slow2", 1013), ("slow3", 1013)].map(|(n, c)| (n.to_owned(), c)),
        "DropMessage keeps a slow reader, but not one whose socket takes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_stream_nobody_reads_is_ended_by_the_write_timeout() {
    let config = xws_tokio::Config {
        write_timeout: Duration::from_secs(1),
        ..test_config(quiet_limits())
    };
    let server = start(FeedHandler(Arc::default()), config).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    let request = format!(
        "GET /?topic=feed HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        server.addr
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    eventually("the stream to subscribe", || server.xws.topic_count() == 1).await;
    // The hyper connection is stuck writing: the stream's own slow-consumer
    // close cannot run, only the write timeout ends it.
    let hub = server.xws.hub();
    let payload = xws::Message::from("x".repeat(LARGE));
    for _ in 0..LARGE_PUBLICATIONS {
        hub.publish("feed", payload.clone()).await.unwrap();
    }
    eventually("the stream to end and leave its topic", || {
        server.xws.connections() == 0 && server.xws.topic_count() == 0
    })
    .await;
    drop(stream);
}
