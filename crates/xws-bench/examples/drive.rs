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
use xws_bench::{
    load::{
        chat::{self, ChatLoad},
        echo::{self, EchoLoad},
        fanout::{self, FanoutLoad},
    },
    scenario::{Plan, Scenario},
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [load, url, seconds] = args.as_slice() else {
        bail!("usage: drive echo-small|echo-16k|chat-room|fanout-10k URL SECONDS");
    };
    let duration = Duration::from_secs(seconds.parse().context("SECONDS")?);
    // The scenario's own load (`Plan::quick`), for as long as asked.
    let plan = Plan::quick();
    let outcome = match Scenario::from_name(load) {
        Some(Scenario::EchoSmall) => {
            echo::run(
                url,
                EchoLoad {
                    duration,
                    ..plan.echo_small
                },
            )
            .await
        }
        Some(Scenario::Echo16k) => {
            echo::run(
                url,
                EchoLoad {
                    duration,
                    ..plan.echo_16k
                },
            )
            .await
        }
        Some(Scenario::ChatRoom) => {
            chat::run(
                url,
                ChatLoad {
                    duration,
                    ..plan.chat_room
                },
            )
            .await
        }
        Some(Scenario::Fanout10k) => {
            fanout::run(
                url,
                FanoutLoad {
                    duration,
                    ..plan.fanout
                },
            )
            .await?
        }
        _ => bail!(
            "no load named `{load}`: drive runs echo-small, echo-16k, chat-room or fanout-10k"
        ),
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
