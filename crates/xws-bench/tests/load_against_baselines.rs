//! The load generator against the real baseline servers: every mode delivers everything to
//! a correct server, and losses are counted when a server does not answer.

use std::path::PathBuf;
use std::time::Duration;

use xws_bench::chart;
use xws_bench::load::chat::{self, ChatLoad};
use xws_bench::load::echo::{self, EchoLoad};
use xws_bench::load::fanout::{self, FanoutLoad};
use xws_bench::load::soak::{self, SoakLoad};
use xws_bench::protocol::CHAT_PATH;
use xws_bench::server::{Launch, RunningServer};

const TEST_TIMEOUT: Duration = Duration::from_secs(60);

async fn start(bin: &str) -> RunningServer {
    let launch = Launch {
        program: PathBuf::from(bin),
        args: vec![],
        cwd: None,
        env: vec![],
    };
    let log = std::env::temp_dir().join(format!("xws-bench-test-{}.log", std::process::id()));
    RunningServer::start(&launch, &log)
        .await
        .expect("baseline starts")
}

const BASELINES: [&str; 2] = [
    env!("CARGO_BIN_EXE_baseline-tungstenite"),
    env!("CARGO_BIN_EXE_baseline-fastwebsockets"),
];

#[tokio::test]
async fn echo_mode_gets_every_echo_from_each_baseline() {
    for bin in BASELINES {
        let server = start(bin).await;
        let url = format!("ws://127.0.0.1:{}/", server.port());
        for (message_size, binary) in [(32, false), (16 * 1024, true)] {
            let load = EchoLoad {
                connections: 8,
                message_size,
                binary,
                duration: Duration::from_millis(300),
            };
            let outcome = tokio::time::timeout(TEST_TIMEOUT, echo::run(&url, load))
                .await
                .unwrap();
            assert_eq!(outcome.lost, 0, "{bin}");
            assert!(
                outcome.latencies.len() >= 8,
                "{bin}: {}",
                outcome.latencies.len()
            );
            assert!(outcome.msgs_per_s > 0.0);
        }
    }
}

#[tokio::test]
async fn chat_room_mode_delivers_every_message_to_every_other_client() {
    for bin in BASELINES {
        let server = start(bin).await;
        let url = format!("ws://127.0.0.1:{}{CHAT_PATH}", server.port());
        let load = ChatLoad {
            clients: 5,
            batch: 4,
            duration: Duration::from_millis(300),
        };
        let outcome = tokio::time::timeout(TEST_TIMEOUT, chat::run(&url, load))
            .await
            .unwrap();
        assert_eq!(outcome.lost, 0, "{bin}");
        // At least one full round: 5 senders × 4 messages × 4 receivers each.
        assert!(
            outcome.latencies.len() >= 80,
            "{bin}: {}",
            outcome.latencies.len()
        );
        assert_eq!(
            outcome.latencies.len() % 16,
            0,
            "whole batches reach all four others"
        );
    }
}

#[tokio::test]
async fn fanout_mode_measures_each_publication_at_its_last_subscriber() {
    let server = start(BASELINES[0]).await;
    let url = format!("ws://127.0.0.1:{}{CHAT_PATH}", server.port());
    let load = FanoutLoad {
        subscribers: 50,
        rate_per_s: 20,
        duration: Duration::from_millis(500),
    };
    let outcome = tokio::time::timeout(TEST_TIMEOUT, fanout::run(&url, load))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outcome.lost, 0);
    assert_eq!(
        outcome.latencies.len(),
        10,
        "one last-subscriber latency per publication"
    );
}

#[tokio::test]
async fn subscribers_that_cannot_join_count_as_lost() {
    // The echo endpoint echoes the join request but never answers `joined`.
    let server = start(BASELINES[1]).await;
    let url = format!("ws://127.0.0.1:{}/", server.port());
    let load = FanoutLoad {
        subscribers: 3,
        rate_per_s: 10,
        duration: Duration::from_millis(200),
    };
    let outcome = tokio::time::timeout(TEST_TIMEOUT, fanout::run(&url, load))
        .await
        .unwrap();
    assert!(outcome.is_err(), "the publisher cannot join either");
    let chat = ChatLoad {
        clients: 3,
        batch: 2,
        duration: Duration::from_millis(200),
    };
    let outcome = tokio::time::timeout(TEST_TIMEOUT, chat::run(&url, chat))
        .await
        .unwrap();
    assert!(
        outcome.lost > 0,
        "nobody joined, so every expected delivery is lost"
    );
}

#[tokio::test]
async fn connections_a_server_never_answers_count_as_lost() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", silent.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let load = EchoLoad {
        connections: 3,
        message_size: 32,
        binary: false,
        duration: Duration::from_millis(100),
    };
    let outcome = tokio::time::timeout(TEST_TIMEOUT, echo::run(&url, load))
        .await
        .unwrap();
    assert_eq!(outcome.lost, 3);
    assert!(outcome.latencies.is_empty());
    hold.abort();
}

fn short_soak(peers: usize) -> SoakLoad {
    SoakLoad {
        peers,
        room_size: 5,
        send_every: Duration::from_millis(200),
        sample_every: Duration::from_millis(100),
        steady: Duration::from_secs(1),
        ramp_timeout: Duration::from_secs(20),
    }
}

#[tokio::test]
async fn soak_mode_times_every_delivery_to_the_rest_of_each_room() {
    let server = start(BASELINES[0]).await;
    let url = format!("ws://127.0.0.1:{}{CHAT_PATH}", server.port());
    let rss = || server.rss_bytes().unwrap_or(0) as f64;
    let report = tokio::time::timeout(TEST_TIMEOUT, soak::run(&url, short_soak(10), rss))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.failed_peers, 0);
    // Ten peers sending every 200 ms for a second, each message to the 4 others of its room.
    assert!(report.sent >= 30, "{}", report.sent);
    assert_eq!(report.lost, 0);
    assert_eq!(report.received, report.sent * 4);
    assert_eq!(report.latencies.len(), report.received);
    // A sample every 100 ms through the ramp, the steady second and the drain.
    assert!(report.samples.len() >= 10, "{:?}", report.samples);
    let last = report.samples.last().expect("samples");
    assert_eq!(last.connected, 10);
    assert_eq!(last.received, report.received);
    assert!(report.rss_peak_mib > 0.0);
    assert!(chart::soak::csv(&report.samples).lines().count() > report.samples.len());
}

#[tokio::test]
async fn soak_peers_that_cannot_join_count_as_failed() {
    // The echo endpoint echoes the join request but never answers `joined`.
    let server = start(BASELINES[0]).await;
    let url = format!("ws://127.0.0.1:{}/", server.port());
    let report = tokio::time::timeout(TEST_TIMEOUT, soak::run(&url, short_soak(5), || 0.0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.failed_peers, 5);
    assert_eq!((report.sent, report.received), (0, 0));
}
