//! A recorder for targets nothing can scrape (a Worker, a Lambda): it
//! sums what was recorded and hands it out as samples, for the adapter to
//! write as log lines at the end of an event or an invocation.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use ::metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};

/// One metric's value since the last [`LogRecorder::drain`].
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The metric's name (see the table in [`crate::metrics`]).
    pub name: String,
    /// Its labels, in the order recorded.
    pub labels: Vec<(String, String)>,
    /// What was recorded.
    pub value: SampleValue,
}

/// A sample's value.
#[derive(Clone, Debug, PartialEq)]
pub enum SampleValue {
    /// A counter's increase since the last drain.
    Counter(u64),
    /// A gauge's current value (as this process sees it).
    Gauge(f64),
    /// The values a histogram recorded since the last drain.
    Histogram {
        /// How many.
        count: u64,
        /// Their sum.
        sum: f64,
        /// The smallest.
        min: f64,
        /// The largest.
        max: f64,
    },
}

#[derive(Default)]
struct Summary {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

enum Cell {
    Counter(Arc<CounterCell>),
    Gauge(Arc<GaugeCell>),
    Histogram(Arc<HistogramCell>),
}

#[derive(Default)]
struct CounterCell(AtomicU64);
#[derive(Default)]
struct GaugeCell(AtomicU64);
#[derive(Default)]
struct HistogramCell(Mutex<Summary>);

impl CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.0.fetch_add(value, Ordering::Relaxed);
    }
    fn absolute(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }
}

impl GaugeCell {
    fn update(&self, f: impl Fn(f64) -> f64) {
        // The gauge is an f64 kept as bits: update it by compare-and-swap.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some(f(f64::from_bits(bits)).to_bits())
            });
    }
}

impl GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        self.update(|current| current + value);
    }
    fn decrement(&self, value: f64) {
        self.update(|current| current - value);
    }
    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }
}

impl HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        let mut summary = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if summary.count == 0 {
            summary.min = value;
            summary.max = value;
        } else {
            summary.min = summary.min.min(value);
            summary.max = summary.max.max(value);
        }
        summary.count += 1;
        summary.sum += value;
    }
}

type Series = (String, Vec<(String, String)>);

/// A [`Recorder`] that keeps sums in memory until drained. Install it once
/// per process with [`LogRecorder::install`]; the adapter drains it.
#[derive(Default)]
pub struct LogRecorder {
    cells: Mutex<BTreeMap<Series, Cell>>,
}

impl std::fmt::Debug for LogRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let series = self
            .cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("LogRecorder")
            .field("series", &series)
            .finish()
    }
}

impl LogRecorder {
    /// Installs the process's recorder, once; later calls return the same
    /// one. `None` when another recorder was installed first.
    pub fn install() -> Option<&'static LogRecorder> {
        static RECORDER: std::sync::OnceLock<Option<&'static LogRecorder>> =
            std::sync::OnceLock::new();
        *RECORDER.get_or_init(|| {
            let recorder: &'static LogRecorder = Box::leak(Box::default());
            ::metrics::set_global_recorder(recorder).ok()?;
            Some(recorder)
        })
    }

    /// What was recorded since the last call: counters and histograms that
    /// moved (then reset), and every gauge.
    pub fn drain(&self) -> Vec<Sample> {
        let cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        cells
            .iter()
            .filter_map(|((name, labels), cell)| {
                let value = match cell {
                    Cell::Counter(counter) => match counter.0.swap(0, Ordering::Relaxed) {
                        0 => return None,
                        n => SampleValue::Counter(n),
                    },
                    Cell::Gauge(gauge) => {
                        SampleValue::Gauge(f64::from_bits(gauge.0.load(Ordering::Relaxed)))
                    }
                    Cell::Histogram(histogram) => {
                        let mut summary =
                            histogram.0.lock().unwrap_or_else(PoisonError::into_inner);
                        let Summary {
                            count,
                            sum,
                            min,
                            max,
                        } = std::mem::take(&mut *summary);
                        if count == 0 {
                            return None;
                        }
                        SampleValue::Histogram {
                            count,
                            sum,
                            min,
                            max,
                        }
                    }
                };
                Some(Sample {
                    name: name.clone(),
                    labels: labels.clone(),
                    value,
                })
            })
            .collect()
    }

    /// Drains and writes one `tracing` event per sample, at info level
    /// with the target `xws::metrics`: `metric`, `labels`, `value` (and
    /// `count`, `sum`, `min`, `max` for a histogram).
    pub fn log(&self) {
        for sample in self.drain() {
            let labels = sample
                .labels
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(",");
            match sample.value {
                SampleValue::Counter(value) => {
                    tracing::info!(target: "xws::metrics", metric = %sample.name, %labels, value, "counter");
                }
                SampleValue::Gauge(value) => {
                    tracing::info!(target: "xws::metrics", metric = %sample.name, %labels, value, "gauge");
                }
                SampleValue::Histogram {
                    count,
                    sum,
                    min,
                    max,
                } => {
                    tracing::info!(target: "xws::metrics", metric = %sample.name, %labels, count, sum, min, max, "histogram");
                }
            }
        }
    }

    /// Drains into one JSON object per sample, a line each:
    /// `{"metric","kind","labels":{…},"value"}` (a histogram has `count`,
    /// `sum`, `min`, `max` instead of `value`). For runtimes whose log
    /// pipeline indexes JSON lines (Cloudflare Workers Logs) and that have
    /// no `tracing` subscriber for [`LogRecorder::log`].
    pub fn drain_json(&self) -> Vec<String> {
        self.drain()
            .into_iter()
            .map(|sample| {
                let labels: serde_json::Map<String, serde_json::Value> = sample
                    .labels
                    .into_iter()
                    .map(|(key, value)| (key, value.into()))
                    .collect();
                let mut line = serde_json::json!({ "metric": sample.name, "labels": labels });
                let fields = match sample.value {
                    SampleValue::Counter(value) => {
                        serde_json::json!({ "kind": "counter", "value": value })
                    }
                    SampleValue::Gauge(value) => {
                        serde_json::json!({ "kind": "gauge", "value": value })
                    }
                    SampleValue::Histogram {
                        count,
                        sum,
                        min,
                        max,
                    } => serde_json::json!({
                        "kind": "histogram", "count": count, "sum": sum, "min": min, "max": max,
                    }),
                };
                if let (Some(line), serde_json::Value::Object(fields)) =
                    (line.as_object_mut(), fields)
                {
                    line.extend(fields);
                }
                line.to_string()
            })
            .collect()
    }

    /// Drains into CloudWatch embedded metric format: one JSON document per
    /// sample, each a line CloudWatch Logs turns into a metric in
    /// `namespace` with the labels as dimensions. A histogram gives
    /// `NAME_sum` and `NAME_count` (seconds and requests), from which a
    /// dashboard computes the mean.
    pub fn drain_emf(&self, namespace: &str, now_ms: u64) -> Vec<String> {
        self.drain()
            .into_iter()
            .map(|sample| {
                let mut document = serde_json::Map::new();
                let dimensions: Vec<&str> = sample.labels.iter().map(|(k, _)| k.as_str()).collect();
                for (key, value) in &sample.labels {
                    document.insert(key.clone(), value.clone().into());
                }
                let metrics: Vec<(String, &str, serde_json::Value)> = match sample.value {
                    SampleValue::Counter(value) => {
                        vec![(sample.name.clone(), "Count", value.into())]
                    }
                    SampleValue::Gauge(value) => vec![(sample.name.clone(), "None", value.into())],
                    SampleValue::Histogram { count, sum, .. } => vec![
                        (format!("{}_sum", sample.name), "Seconds", sum.into()),
                        (format!("{}_count", sample.name), "Count", count.into()),
                    ],
                };
                let definitions: Vec<serde_json::Value> = metrics
                    .iter()
                    .map(|(name, unit, _)| serde_json::json!({ "Name": name, "Unit": unit }))
                    .collect();
                for (name, _, value) in metrics {
                    document.insert(name, value);
                }
                document.insert(
                    "_aws".into(),
                    serde_json::json!({
                        "Timestamp": now_ms,
                        "CloudWatchMetrics": [{
                            "Namespace": namespace,
                            "Dimensions": [dimensions],
                            "Metrics": definitions,
                        }],
                    }),
                );
                serde_json::Value::Object(document).to_string()
            })
            .collect()
    }

    fn cell(&self, key: &Key, make: impl FnOnce() -> Cell) -> Cell {
        let series = (
            key.name().to_owned(),
            key.labels()
                .map(|label| (label.key().to_owned(), label.value().to_owned()))
                .collect(),
        );
        let mut cells = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        match cells.entry(series).or_insert_with(make) {
            Cell::Counter(cell) => Cell::Counter(Arc::clone(cell)),
            Cell::Gauge(cell) => Cell::Gauge(Arc::clone(cell)),
            Cell::Histogram(cell) => Cell::Histogram(Arc::clone(cell)),
        }
    }
}

impl Recorder for LogRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        match self.cell(key, || Cell::Counter(Arc::default())) {
            Cell::Counter(cell) => Counter::from_arc(cell),
            _ => Counter::noop(),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        match self.cell(key, || Cell::Gauge(Arc::default())) {
            Cell::Gauge(cell) => Gauge::from_arc(cell),
            _ => Gauge::noop(),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        match self.cell(key, || Cell::Histogram(Arc::default())) {
            Cell::Histogram(cell) => Histogram::from_arc(cell),
            _ => Histogram::noop(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{DropReason, dropped, published};

    #[test]
    fn drains_sums_since_the_last_drain_under_the_shared_names() {
        let recorder = LogRecorder::default();
        ::metrics::with_local_recorder(&recorder, || {
            published("room:a");
            published("room:b");
            dropped(DropReason::RateLimit, 3);
            crate::metrics::delivered("room:a", 2, 0.5);
            crate::metrics::delivered("room:a", 1, 1.5);
        });
        let samples = recorder.drain();
        let find = |name: &str| {
            samples
                .iter()
                .find(|sample| sample.name == name)
                .map(|sample| (sample.labels.clone(), sample.value.clone()))
        };
        let pattern = vec![("pattern".to_owned(), "room:*".to_owned())];
        assert_eq!(
            find("xws_publications_total"),
            Some((pattern.clone(), SampleValue::Counter(2)))
        );
        assert_eq!(
            find("xws_drops_total"),
            Some((
                vec![("reason".to_owned(), "rate_limit".to_owned())],
                SampleValue::Counter(3)
            ))
        );
        assert_eq!(
            find("xws_publish_delivery_seconds"),
            Some((
                pattern,
                SampleValue::Histogram {
                    count: 2,
                    sum: 2.0,
                    min: 0.5,
                    max: 1.5
                }
            ))
        );
        assert!(
            recorder.drain().is_empty(),
            "a second drain has nothing new"
        );
    }

    #[test]
    fn json_lines_carry_the_metric_its_labels_and_value() {
        let recorder = LogRecorder::default();
        ::metrics::with_local_recorder(&recorder, || {
            crate::metrics::delivered("room:1", 3, 0.5);
        });
        let lines: Vec<serde_json::Value> = recorder
            .drain_json()
            .iter()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let deliveries = lines
            .iter()
            .find(|line| line["metric"] == "xws_deliveries_total")
            .expect("a deliveries line");
        assert_eq!(
            deliveries,
            &serde_json::json!({"metric": "xws_deliveries_total", "kind": "counter",
                "labels": {"pattern": "room:*"}, "value": 3})
        );
        let latency = lines
            .iter()
            .find(|line| line["kind"] == "histogram")
            .expect("a histogram line");
        assert_eq!(
            (&latency["count"], &latency["sum"]),
            (&1.into(), &0.5.into())
        );
        assert!(recorder.drain_json().is_empty());
    }

    #[test]
    fn emf_documents_name_their_metric_and_dimensions() {
        let recorder = LogRecorder::default();
        ::metrics::with_local_recorder(&recorder, || {
            crate::metrics::delivered("user:1", 4, 0.25);
        });
        let lines = recorder.drain_emf("xws", 1_000);
        let documents: Vec<serde_json::Value> = lines
            .iter()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let deliveries = documents
            .iter()
            .find(|document| document.get("xws_deliveries_total").is_some())
            .expect("a deliveries document");
        assert_eq!(deliveries["xws_deliveries_total"], 4);
        assert_eq!(deliveries["pattern"], "user:*");
        let directive = &deliveries["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "xws");
        assert_eq!(directive["Dimensions"], serde_json::json!([["pattern"]]));
        assert_eq!(directive["Metrics"][0]["Name"], "xws_deliveries_total");
        assert_eq!(deliveries["_aws"]["Timestamp"], 1_000);
    }
}
