//! `xws-conformance`: runs the chat conformance suite against running servers.
//!
//! ```text
//! xws-conformance --ws ws://127.0.0.1:3000/api/ws --http http://127.0.0.1:3000 \
//!     [--ws URL --http URL ...] [--token T] [--only NAME ...] [--skip NAME ...] \
//!     [--timeout SECONDS] [--max-message-size BYTES] [--concurrency N] [--list]
//! ```
//! Exits 0 when nothing failed, 1 when a scenario failed, 2 on bad arguments.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

use lexopt::prelude::*;
use xws_testkit::Target;

const USAGE: &str = "usage: xws-conformance --ws URL --http URL [--ws URL --http URL ...] \
[--token T] [--only NAME ...] [--skip NAME ...] [--timeout SECONDS] \
[--max-message-size BYTES] [--concurrency N] [--list]";

struct Args {
    target: Target,
    only: Vec<String>,
    list: bool,
}

fn parse_args() -> Result<Args, lexopt::Error> {
    let mut target = Target::default();
    let mut only = Vec::new();
    let mut list = false;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("ws") => target.ws_urls.push(parser.value()?.string()?),
            Long("http") => target.http_urls.push(parser.value()?.string()?),
            Long("token") => target.token = Some(parser.value()?.string()?),
            Long("only") => only.push(parser.value()?.string()?),
            Long("skip") => target.skip.push(parser.value()?.string()?),
            Long("timeout") => {
                target.timeout = Duration::from_secs_f64(parser.value()?.parse()?);
            }
            Long("max-message-size") => target.max_message_size = parser.value()?.parse()?,
            Long("concurrency") => target.concurrency = parser.value()?.parse()?,
            Long("list") => list = true,
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(Args { target, only, list })
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("xws-conformance: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if args.list {
        xws_testkit::scenario_names().for_each(|name| println!("{name}"));
        return ExitCode::SUCCESS;
    }
    if args.target.ws_urls.is_empty() || args.target.http_urls.is_empty() {
        eprintln!("xws-conformance: at least one --ws and one --http are needed\n{USAGE}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("xws-conformance: cannot start the Tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(xws_testkit::run(&args.target, &args.only));
    println!("{report}");
    if report.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
