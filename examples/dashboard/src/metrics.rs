//! The metrics a dashboard shows, and their wire form.

use serde::{Deserialize, Serialize};

/// One sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// A sequence number, increasing by one per sample.
    pub sample: u64,
    /// The one-minute load average, where the platform tells it.
    pub load: Option<f64>,
    /// Requests per second of a simulated service.
    pub requests_per_second: f64,
    /// Open connections of this server.
    pub connections: usize,
}

/// What peers receive: `{"type":"metrics","metrics":{…}}`.
#[derive(Serialize)]
pub struct MetricsMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    metrics: &'a Metrics,
}

impl Metrics {
    /// Sample number `sample`, taken now.
    pub fn sample(sample: u64, load: Option<f64>, connections: usize) -> Self {
        let timestamp = web_time::SystemTime::now()
            .duration_since(web_time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        // A smooth, deterministic series, so the chart has something to show.
        let phase = sample as f64 / 10.0;
        let requests_per_second = 500.0 + 200.0 * phase.sin() + 50.0 * (phase * 3.1).cos();
        Self {
            timestamp,
            sample,
            load,
            requests_per_second: (requests_per_second * 10.0).round() / 10.0,
            connections,
        }
    }

    /// The message peers receive.
    pub fn message(&self) -> MetricsMessage<'_> {
        MetricsMessage {
            kind: "metrics",
            metrics: self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_is_typed() {
        let metrics = Metrics::sample(3, Some(0.5), 2);
        let json = serde_json::to_value(metrics.message()).unwrap();
        assert_eq!(json["type"], "metrics");
        assert_eq!(json["metrics"]["sample"], 3);
        assert_eq!(json["metrics"]["connections"], 2);
    }
}
