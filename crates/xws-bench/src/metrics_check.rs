//! The xws chat's `GET /metrics` scraped around the chat-room run: the
//! deliveries the server counted must be the deliveries the load generator
//! saw. Other servers have no such endpoint; for them this is skipped.

use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::load::stats::Outcome;

const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server counted, summed over the rooms.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counted {
    /// `xws_deliveries_total{pattern="room:*"}`.
    pub deliveries: f64,
    /// `xws_drops_total`, every reason.
    pub drops: f64,
}

impl Counted {
    /// Reads the counts from a Prometheus text scrape.
    pub fn parse(scrape: &str) -> Self {
        let mut counted = Self::default();
        for line in scrape.lines().filter(|line| !line.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = series.split_once('{').unwrap_or((series, ""));
            match name {
                "xws_deliveries_total" if labels.contains("pattern=\"room:*\"") => {
                    counted.deliveries += value;
                }
                "xws_drops_total" => counted.drops += value,
                _ => {}
            }
        }
        counted
    }
}

/// Scrapes `http://127.0.0.1:{port}/metrics`.
pub async fn scrape(port: u16) -> anyhow::Result<Counted> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        anyhow::Ok(String::from_utf8_lossy(&answer).into_owned())
    };
    let answer = tokio::time::timeout(SCRAPE_TIMEOUT, exchange)
        .await
        .context("scraping /metrics timed out")??;
    if !answer.starts_with("HTTP/1.1 200") {
        bail!(
            "GET /metrics: {}",
            answer.lines().next().unwrap_or("no answer")
        );
    }
    // The chat answers with a content length, so the body is not chunked.
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    Ok(Counted::parse(body))
}

/// Compares the server's counts between two scrapes with what the load
/// generator saw; `Err` says how they differ.
pub fn compare(before: Counted, after: Counted, outcome: &Outcome) -> Result<String, String> {
    let deliveries = after.deliveries - before.deliveries;
    let drops = after.drops - before.drops;
    let summary = format!(
        "server counted {deliveries} deliveries and {drops} drops; clients received {} (lost {})",
        outcome.delivered, outcome.lost
    );
    // A client counts what reached it; the server what it queued. With
    // nothing dropped and nothing lost they are the same number.
    if drops == 0.0 && outcome.lost == 0 && deliveries != outcome.delivered as f64 {
        return Err(summary);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_rooms_deliveries_and_every_drop() {
        let scrape = "# TYPE xws_deliveries_total counter\n\
            xws_deliveries_total{pattern=\"room:*\"} 120\n\
            xws_deliveries_total{pattern=\"*\"} 7\n\
            xws_drops_total{reason=\"slow_reader\"} 2\n\
            xws_drops_total{reason=\"rate_limit\"} 1\n";
        assert_eq!(
            Counted::parse(scrape),
            Counted {
                deliveries: 120.0,
                drops: 3.0
            }
        );
    }
}
