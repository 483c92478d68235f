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
    // Only this run's parts in the report.
    if out.exists() {
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

/// How long a WebSocket handshake at `addr`'s `path` takes to be answered
/// `101` (TCP connect included); the connection is dropped after.
pub fn websocket_handshake(addr: SocketAddr, path: &str) -> Result<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream
        .read_exact(&mut head)
        .with_context(|| format!("no answer to a WebSocket handshake at {addr}{path}"))?;
    let elapsed = started.elapsed();
    if &head[9..12] != b"101" {
        bail!(
            "a WebSocket handshake at {addr}{path} was answered {:?}",
            String::from_utf8_lossy(&head)
        );
    }
    Ok(elapsed)
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

    /// A server that answers one request with `status`.
    fn answer_once(status: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let _ = write!(stream, "HTTP/1.1 {status}\r\n\r\n");
        });
        addr
    }

    #[test]
    fn a_handshake_counts_only_when_switched() {
        assert!(websocket_handshake(answer_once("101 Switching Protocols"), "/api/ws").is_ok());
        let refused = websocket_handshake(answer_once("401 Unauthorized"), "/api/ws");
        assert!(refused.unwrap_err().to_string().contains("401"));
    }

    #[test]
    fn the_median_of_timings() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(9), ms(1), ms(5)]), ms(5));
        assert_eq!(median(Vec::new()), Duration::ZERO);
    }
}
