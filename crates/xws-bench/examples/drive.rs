//! Runs one of the benchmark's loads against a server that is already
//! running, for profiling that server under it (callgrind, perf):
//!
//! ```text
//! PORT=9101 valgrind --tool=callgrind target/release/echo &
//! cargo run --release -p xws-bench --example drive -- echo-small ws://127.0.0.1:9101/ 10
//! ```
//!
//! Loads: `echo-small`, `echo-16k`, and `chat-room` and `fanout-10k` (give
//! the chat endpoint, e.g. `ws://127.0.0.1:9102/api/ws`), as the scenarios
//! of the same names.
//! Prints how many messages were delivered, so that a profile's totals can
//! be divided into a cost per message.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use xws_bench::load::{chat, echo, fanout};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [load, url, seconds] = args.as_slice() else {
        bail!("usage: drive echo-small|echo-16k|chat-room|fanout-10k URL SECONDS");
    };
    let duration = Duration::from_secs(seconds.parse().context("SECONDS")?);
    let echo = |connections, message_size, binary| echo::EchoLoad {
        connections,
        message_size,
        binary,
        duration,
    };
    let outcome = match load.as_str() {
        "echo-small" => echo::run(url, echo(100, 32, false)).await,
        "echo-16k" => echo::run(url, echo(200, 16 * 1024, true)).await,
        "chat-room" => {
            let load = chat::ChatLoad {
                clients: 32,
                batch: 10,
                duration,
            };
            chat::run(url, load).await
        }
        "fanout-10k" => {
            let load = fanout::FanoutLoad {
                subscribers: 10_000,
                rate_per_s: 5,
                duration,
            };
            fanout::run(url, load).await?
        }
        other => bail!("unknown load `{other}`"),
    };
    // The result is this program's output, for scripts to read.
    writeln!(
        std::io::stdout(),
        "delivered {} lost {} per_second {:.0}",
        outcome.delivered,
        outcome.lost,
        outcome.msgs_per_s
    )?;
    Ok(())
}
