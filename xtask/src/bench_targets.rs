//! `cargo xtask bench-targets`: the chat measured on the other targets
//! (issue 18, goal 5), outside the test command. A command of its own
//! rather than a mode of `cargo xtask bench`: that one is xws-bench's runner
//! comparing Tokio servers it starts itself, this one needs xtask's
//! Cloudflare and AWS machinery (the worker build and `wrangler dev`, moto,
//! the runtime API, the emulator), so xtask starts each target and runs the
//! load driver (`xws-bench-targets`, the Tokio benchmark's load clients)
//! against it. Writes `target/xws-bench/targets.{json,md}`.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::{Workspace, aws, cloudflare};

/// Which targets to measure, and how much.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this target (`cloudflare`, `aws`); default both.
    #[arg(long)]
    only: Option<crate::Target>,
    /// Subscriber counts of the workerd fan-outs.
    #[arg(long, default_value = "100,1000")]
    cloudflare_fanout: String,
    /// Seconds each workerd load runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Subscriber counts of the AWS publications.
    #[arg(long, default_value = "1,10,100")]
    aws_subscribers: String,
    /// Publications per subscriber count on AWS (one a second).
    #[arg(long, default_value_t = 10)]
    publications: u32,
}

/// Builds the load driver, then measures each target in turn.
pub fn run(workspace: &Workspace, args: &Args) -> Result<()> {
    workspace
        .cargo()
        .args([
            "build",
            "--release",
            "-p",
            "xws-bench",
            "--bin",
            "xws-bench-targets",
        ])
        .timeout(Duration::from_secs(30 * 60))
        .run()?;
    let driver = workspace.target_dir.join("release/xws-bench-targets");
    let out: PathBuf = workspace.target_dir.join("xws-bench/targets.json");
    // Only this run's parts in the report; `--only` replaces its part and
    // keeps the other's.
    if args.only.is_none() && out.exists() {
        std::fs::remove_file(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    let wants = |target: crate::Target| args.only.is_none_or(|only| only == target);
    if wants(crate::Target::Cloudflare) {
        cloudflare::bench_targets(
            workspace,
            &driver,
            &out,
            &args.cloudflare_fanout,
            args.seconds,
        )?;
    }
    if wants(crate::Target::Aws) {
        aws::bench_targets(
            workspace,
            &driver,
            &out,
            &args.aws_subscribers,
            args.publications,
        )?;
    }
    eprintln!(
        "xtask: bench-targets wrote {} and {}",
        out.display(),
        out.with_extension("md").display()
    );
    Ok(())
}

/// How long a WebSocket at `addr`'s `path` takes to open and get the
/// server's first frame (the chat's `welcome`, which its `open` hook sends),
/// TCP connect included, waiting at most `wait`; the connection is dropped
/// after. Waiting for that frame also lets the open hook finish before the
/// client leaves: on AWS it is delivered by a second invocation, which waits
/// for a connection gone too early and would hold up the next event.
pub fn websocket_welcome(addr: SocketAddr, path: &str, wait: Duration) -> Result<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(wait))?;
    stream.set_nodelay(true)?;
    // One write: `write!` on the socket would send each formatted piece as
    // its own segment (no delay is set).
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut received = Vec::new();
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        let read = stream
            .read(&mut chunk)
            .with_context(|| format!("no answer to a WebSocket handshake at {addr}{path}"))?;
        if read == 0 {
            bail!("{addr}{path} closed the connection during the handshake");
        }
        received.extend_from_slice(&chunk[..read]);
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    if !received.starts_with(b"HTTP/1.1 101") {
        let line = received.split(|&b| b == b'\r').next().unwrap_or_default();
        bail!(
            "a WebSocket handshake at {addr}{path} was answered {:?}",
            String::from_utf8_lossy(line)
        );
    }
    if received.len() == head_end {
        let read = stream
            .read(&mut chunk)
            .with_context(|| format!("no first frame from {addr}{path}"))?;
        if read == 0 {
            bail!("{addr}{path} closed the WebSocket before its first frame");
        }
    }
    Ok(started.elapsed())
}

/// The median of `samples` (the upper one of an even count).
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server that answers one request with `answer`, then closes.
    fn answer_once(answer: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            // The whole request first: closing with some of it unread
            // would reset the connection instead of ending it.
            let mut request = Vec::new();
            let mut chunk = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(read) => request.extend_from_slice(&chunk[..read]),
                }
            }
            let _ = stream.write_all(answer.as_bytes());
        });
        addr
    }

    #[test]
    fn a_websocket_counts_once_switched_and_welcomed() {
        let wait = Duration::from_secs(5);
        let welcomed = "HTTP/1.1 101 Switching Protocols\r\n\r\n\u{81}\u{2}hi";
        assert!(websocket_welcome(answer_once(welcomed), "/", wait).is_ok());
        let silent = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
        let closed = websocket_welcome(answer_once(silent), "/", wait);
        assert!(
            closed
                .unwrap_err()
                .to_string()
                .contains("before its first frame")
        );
        let refused =
            websocket_welcome(answer_once("HTTP/1.1 401 Unauthorized\r\n\r\n"), "/", wait);
        assert!(refused.unwrap_err().to_string().contains("401"));
    }

    #[test]
    fn the_median_of_timings() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(Vec::new()), Duration::ZERO);
    }
}
