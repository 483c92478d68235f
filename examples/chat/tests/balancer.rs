//! Two chat nodes sharing Redis behind a real load balancer (haproxy from
//! Debian's packages, started by this test on a free port): a client whose
//! node goes away reconnects through the balancer, lands on the other
//! node, rejoins its rooms from where it was and gets what it missed, in
//! order, then the live messages.
//!
//! `cargo xtask test` installs haproxy (the services step); without it on
//! the PATH this test says so and passes without running.

mod nodes;

use nodes::*;
use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::process::{Child, Command};
use xws_testkit::chat::join_room_with;

/// haproxy in front of the chat nodes, in the foreground; killed on drop.
struct Haproxy {
    addr: String,
    _child: Child,
    config: PathBuf,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.config);
    }
}

impl Haproxy {
    /// Sends every connection to the first node that is up (`balance
    /// first`), so the test knows where a client lands; a node that stops
    /// answering is marked down within a few 100 ms health checks, and a
    /// connection refused by it is sent to the other (`redispatch`).
    async fn start(binary: &str, nodes: &[SocketAddr]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let servers: String = nodes
            .iter()
            .enumerate()
            .map(|(n, addr)| format!("    server node{n} {addr} check inter 100ms fall 1 rise 1\n"))
            .collect();
        let config = format!(
            "global\n    maxconn 256\n\
             defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    \
             timeout server 30s\n    timeout tunnel 1h\n    option redispatch\n    retries 3\n\
             frontend chat\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\
             backend nodes\n    balance first\n    option httpchk GET /\n{servers}"
        );
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path =
            std::env::temp_dir().join(format!("xws-balancer-{}-{nanos}.cfg", std::process::id()));
        std::fs::write(&path, config).unwrap();
        let check = Command::new(binary)
            .arg("-c")
            .arg("-f")
            .arg(&path)
            .output()
            .await
            .unwrap();
        assert!(
            check.status.success(),
            "haproxy refuses the configuration: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new(binary)
            .arg("-db") // foreground, so the test owns the process
            .arg("-f")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(&addr).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "haproxy is not listening on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self {
            addr,
            _child: child,
            config: path,
        }
    }
}

/// haproxy on the PATH (Debian puts it in /usr/sbin).
fn haproxy_binary() -> Option<String> {
    ["haproxy", "/usr/sbin/haproxy", "/usr/local/sbin/haproxy"]
        .into_iter()
        .find(|candidate| {
            std::process::Command::new(candidate)
                .arg("-v")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success())
        })
        .map(str::to_owned)
}

/// Connects through the balancer, retrying while it still tries the
/// node that went away.
async fn connect_through(balancer: &Haproxy, name: &str) -> Client {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match Client::try_connect(&balancer.addr, name).await {
            Ok(client) => return client,
            Err(error) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{name} cannot connect through the balancer: {error}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// The next room message and its position.
async fn next_message(client: &mut Client) -> (String, String, Value) {
    loop {
        let frame = client.next_json().await;
        if frame["type"] == "message" {
            let position = json!({"offset": frame["offset"], "epoch": frame["epoch"]});
            return (
                frame["roomId"].as_str().unwrap().to_owned(),
                frame["text"].as_str().unwrap().to_owned(),
                position,
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_moved_to_the_other_node_keeps_its_rooms_and_recovers_what_it_missed() {
    let Some(binary) = haproxy_binary() else {
        #[allow(
            clippy::print_stderr,
            reason = "the one way a passing test can say it did not run"
        )]
        {
            eprintln!(
                "SKIPPED: haproxy is not installed (`apt-get install -y haproxy`; \
                 `cargo xtask test` installs it)"
            );
        }
        return;
    };
    let url = require_redis().await;
    let mut nodes = start_chat_nodes(&url, &unique_channel("balancer"), 2).await;
    let balancer = Haproxy::start(&binary, &[nodes[0].addr, nodes[1].addr]).await;

    let mut alice = connect_through(&balancer, "alice").await;
    assert_eq!(
        (nodes[0].xws.peer_count(), nodes[1].xws.peer_count()),
        (1, 0),
        "the balancer sends alice to the first node"
    );
    let mut bob = Client::connect(&nodes[1], "bob").await;
    let rooms = ["lobby", "ops"];
    for room in rooms {
        alice.join(room).await;
        bob.join(room).await;
    }
    let mut last_seen = Vec::new();
    for room in rooms {
        bob.say(room, &format!("{room}: before")).await;
        let (got_room, text, position) = next_message(&mut alice).await;
        assert_eq!((got_room.as_str(), text), (room, format!("{room}: before")));
        last_seen.push(position);
    }

    // Alice's node stops (a deploy, a crash): her connection closes with
    // 1001, and while she is away bob keeps talking in both rooms.
    drop(nodes.remove(0));
    alice.expect_close(1001).await;
    for n in 0..3 {
        for room in rooms {
            bob.say(room, &format!("{room}: missed {n}")).await;
        }
    }

    // She reconnects through the same balancer address and lands on the
    // other node, which has never seen her.
    let mut alice = connect_through(&balancer, "alice").await;
    assert_eq!(nodes[0].xws.peer_count(), 2, "alice is on the other node");
    for (room, since) in rooms.iter().zip(&last_seen) {
        alice
            .send_json(join_room_with(room, json!({ "since": since })))
            .await;
        let joined = alice.next_json().await;
        assert_eq!(joined["type"], "joined", "{joined}");
        assert_eq!(joined["recovered"], true, "{joined}");
        for n in 0..3 {
            let (got_room, text, _) = next_message(&mut alice).await;
            assert_eq!(got_room, *room);
            assert_eq!(
                text,
                format!("{room}: missed {n}"),
                "what she missed, in order"
            );
        }
    }
    // And the rooms are hers again: live messages reach her.
    for room in rooms {
        bob.say(room, &format!("{room}: live")).await;
        let (got_room, text, _) = next_message(&mut alice).await;
        assert_eq!((got_room.as_str(), text), (room, format!("{room}: live")));
    }
    alice.assert_quiet().await;
}
