//! Helpers for tests that run against a real Redis (this crate's, the
//! examples', an application's): find it or fail clearly, isolate each test
//! on its own channel, cut a named connection as a network fault would,
//! and run a Redis of one's own to crash or pause ([`PrivateRedis`]).

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{RedisBrokerConfig, check_reachable};

/// A shared secret for brokers in tests (`with_secret(TEST_SECRET)`); never
/// use it in a deployment.
pub const TEST_SECRET: &str = "xws test secret: never use it in a deployment";

/// `XWS_REDIS_URL`, or the Redis every development and CI machine of this
/// project runs: `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("XWS_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The URL of a reachable Redis.
///
/// # Panics
/// When Redis does not answer within 5 s, with what to do about it: a test
/// that needs Redis fails loudly rather than passing without it.
pub async fn require_redis() -> String {
    let url = redis_url();
    let config = RedisBrokerConfig::new(&url);
    let problem = match tokio::time::timeout(Duration::from_secs(5), check_reachable(&config)).await
    {
        Ok(Ok(())) => return url,
        Ok(Err(error)) => error.to_string(),
        Err(_) => format!("Redis is not reachable at {url}: no answer within 5 s"),
    };
    panic!(
        "{problem}. This test needs a real Redis at {url}: start it with \
         `redis-server --port 6379 --daemonize yes`, or point XWS_REDIS_URL at one."
    )
}

/// A channel name no other test, process or run shares, so tests can run in
/// parallel on one Redis.
pub fn unique_channel(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("xws-test:{test}:{}:{nanos}", std::process::id())
}

/// Kills the Redis connection whose `CLIENT SETNAME` is `name` (see
/// [`RedisBroker::connection_names`](crate::RedisBroker::connection_names))
/// with `CLIENT KILL ID`, touching no other client of that Redis.
///
/// # Panics
/// If Redis fails or no connection has that name.
pub async fn kill_connection(url: &str, name: &str) {
    let mut admin = redis::Client::open(url)
        .expect("a valid Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("an admin connection to Redis");
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut admin)
        .await
        .expect("CLIENT LIST");
    let wanted = format!("name={name}");
    let id = list
        .lines()
        .find(|line| line.split(' ').any(|field| field == wanted))
        .and_then(|line| line.split(' ').find_map(|field| field.strip_prefix("id=")))
        .unwrap_or_else(|| panic!("no Redis client named {name} in CLIENT LIST"))
        .to_owned();
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&id)
        .query_async(&mut admin)
        .await
        .expect("CLIENT KILL");
    assert_eq!(killed, 1, "CLIENT KILL ID {id} ({name}) killed nothing");
}

/// A `redis-server` of one test's own, without persistence, on a free port:
/// to crash, restart or pause without touching the shared one. Killed when
/// dropped.
///
/// # Panics
/// When `redis-server` is not installed or does not answer within 10 s.
pub struct PrivateRedis {
    port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one and waits until it answers.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self { port, child: None };
        redis.restart();
        redis
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and waits until it answers.
    pub fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (cargo xtask test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it, as a crash would: everything in it is lost.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the process (`SIGSTOP`): connections stay open and nothing
    /// answers, as a Redis stuck or behind a stalled network.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused one run again (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("the private Redis is running");
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {} failed", child.id());
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        // SIGKILL ends a paused process too.
        self.kill();
    }
}
