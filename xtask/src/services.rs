//! `cargo xtask services`: the servers the tests talk to must be listening.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, bail};

use crate::Workspace;
use crate::process::{Cmd, port_is_open, wait_for_port};

/// The Redis the tests use; nothing may be persisted.
const REDIS: &str = "127.0.0.1:6379";
const REDIS_START: [&str; 10] = [
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
];

/// The PostgreSQL the notifications example's tests use, unless
/// `DATABASE_URL` names another.
const POSTGRES: &str = "127.0.0.1:5432";

/// Checks Redis (required: started when `redis-server` is installed),
/// PostgreSQL (required by the notifications tests) and NATS (optional: a
/// warning), and installs haproxy (the chat's two-node balancer test).
pub fn check(_: &Workspace) -> Result<()> {
    ensure_redis()?;
    ensure_postgres()?;
    ensure_haproxy();
    let nats = "127.0.0.1:4222";
    if port_is_open(parse(nats)) {
        eprintln!("xtask: NATS listens on {nats}");
    } else {
        eprintln!("xtask: warning: NATS is not listening on {nats} (no test needs it yet)");
    }
    Ok(())
}

/// The chat's load-balancer test (examples/chat/tests/balancer.rs) starts
/// haproxy itself; it only has to be installed. Where it cannot be, that
/// test says it did not run.
fn ensure_haproxy() {
    match crate::tools::apt_install(&["haproxy"]) {
        Ok(()) => eprintln!("xtask: haproxy is installed (the chat's balancer test runs it)"),
        Err(error) => eprintln!(
            "xtask: warning: haproxy cannot be installed ({error:#}); \
             the chat's balancer test will be skipped"
        ),
    }
}

fn ensure_postgres() -> Result<()> {
    if std::env::var_os("DATABASE_URL").is_some() {
        eprintln!("xtask: PostgreSQL: the tests use DATABASE_URL");
        return Ok(());
    }
    if port_is_open(parse(POSTGRES)) {
        eprintln!("xtask: PostgreSQL listens on {POSTGRES}");
        return Ok(());
    }
    bail!(
        "PostgreSQL is required at {POSTGRES} (the notifications example stores there; \
         database `test`, user `postgres`, trust auth) and is not listening.\n\
         Install and start it (`apt-get install -y postgresql && service postgresql start`), \
         or set DATABASE_URL=postgres://… to another server."
    )
}

fn ensure_redis() -> Result<()> {
    let addr = parse(REDIS);
    if port_is_open(addr) {
        eprintln!("xtask: Redis listens on {REDIS}");
        return Ok(());
    }
    let how = format!("redis-server {}", shell_words(&REDIS_START));
    eprintln!("xtask: Redis is not listening on {REDIS}; starting it: {how}");
    let started = Cmd::new("redis-server")
        .args(REDIS_START)
        .timeout(Duration::from_secs(10))
        .run();
    if let Err(error) = started.and_then(|()| wait_for_port(addr, Duration::from_secs(10), "Redis"))
    {
        bail!(
            "Redis is required at {REDIS} and could not be started ({error:#}).\n\
             Install it (`apt-get install -y redis-server`) and start it with:\n    {how}"
        );
    }
    Ok(())
}

fn parse(addr: &str) -> SocketAddr {
    addr.parse().expect("service addresses are valid literals")
}

fn shell_words(words: &[&str]) -> String {
    let quoted: Vec<String> = words
        .iter()
        .map(|word| {
            if word.is_empty() {
                "\"\"".to_owned()
            } else {
                (*word).to_owned()
            }
        })
        .collect();
    quoted.join(" ")
}
