//! The client side of an Autobahn|Testsuite run (`cargo xtask autobahn`):
//! echoes every message of every case the fuzzing server announces, then
//! asks it to write its reports.
//!
//! `AUTOBAHN_URL` is the fuzzing server (`ws://127.0.0.1:9001`) and
//! `AUTOBAHN_AGENT` the name the reports use.

// An example program reports on stderr.
#![allow(clippy::print_stderr)]

use anyhow::{Context as _, bail};
use std::time::Duration;
use xws_client::{ClientConfig, Event, connect};

/// Text never decodes into it, so every text message arrives as it came.
#[derive(Debug, serde::Deserialize)]
enum Verbatim {}

/// The longest a single case may take (9.* cases move 16 MiB messages).
const CASE_TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("AUTOBAHN_URL").context("set AUTOBAHN_URL")?;
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "xws-client".into());
    let count: u32 = match session(&format!("{url}/getCaseCount"), false).await? {
        Some(text) => text.trim().parse().context("case count")?,
        None => bail!("the fuzzing server sent no case count"),
    };
    for case in 1..=count {
        let case_url = format!("{url}/runCase?case={case}&agent={agent}");
        if tokio::time::timeout(CASE_TIMEOUT, session(&case_url, true))
            .await
            .is_err()
        {
            eprintln!("autobahn_client: case {case} timed out");
        }
    }
    session(&format!("{url}/updateReports?agent={agent}"), false).await?;
    Ok(())
}

/// One connection: echoes everything when `echo`, and returns the first
/// text message it got.
async fn session(url: &str, echo: bool) -> anyhow::Result<Option<String>> {
    let config = ClientConfig {
        // One attempt, no reconnect, no app-level ping: a case is one
        // connection and every frame the client sends is graded.
        max_attempts: Some(0),
        ping_interval: None,
        queue_limit: 10_000,
        ..ClientConfig::new(url)
    };
    let (client, mut events) = connect::<Verbatim>(config);
    let mut first_text = None;
    while let Some(event) = events.next().await {
        match event {
            Event::Text(text) => {
                if echo {
                    let _ = client.send(text.clone());
                }
                first_text.get_or_insert(text);
            }
            Event::Binary(bytes) if echo => {
                let _ = client.send(bytes);
            }
            Event::Close(close) if !close.will_reconnect => break,
            Event::Error(_) if client.state() == xws_client::State::Closed => break,
            _ => {}
        }
    }
    client.close();
    Ok(first_text)
}
