//! The xws metrics ([`xws::metrics`]) in Prometheus text format, for a
//! server to answer scrapes with (the chat serves it at `GET /metrics`).
//!
//! ```no_run
//! # async fn run() -> Result<(), xws_tokio::metrics::MetricsError> {
//! let prometheus = xws_tokio::metrics::Prometheus::install()?;
//! // in the `/metrics` route:
//! let body: String = prometheus.render();
//! # Ok(()) }
//! ```

use std::{sync::OnceLock, time::Duration};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The content type of [`Prometheus::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Latency buckets, in seconds: a local fan-out takes microseconds, a
/// broker round trip milliseconds.
const SECONDS_BUCKETS: &[f64] = &[
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0,
];

/// How often histogram samples are folded in between scrapes, so memory
/// stays bounded when nothing scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// Why the Prometheus recorder could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// Another `metrics` recorder was installed first in this process.
    #[error("another metrics recorder is installed in this process")]
    AlreadyInstalled,
    /// The exporter refused its configuration.
    #[error("the Prometheus exporter: {0}")]
    Exporter(String),
}

/// The process's Prometheus recorder.
#[derive(Clone, Debug)]
pub struct Prometheus {
    handle: PrometheusHandle,
}

impl Prometheus {
    /// Installs the Prometheus recorder as the process's `metrics`
    /// recorder, once: later calls return the same one. Inside a Tokio
    /// runtime it also starts the periodic upkeep.
    pub fn install() -> Result<Self, MetricsError> {
        static INSTALLED: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
        let handle = INSTALLED.get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .map_err(|error| error.to_string())?;
            let handle = builder
                .install_recorder()
                .map_err(|_| "already installed".to_owned())?;
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let upkeep = handle.clone();
                runtime.spawn(async move {
                    let mut interval = tokio::time::interval(UPKEEP);
                    loop {
                        interval.tick().await;
                        upkeep.run_upkeep();
                    }
                });
            }
            Ok(handle)
        });
        match handle {
            Ok(handle) => Ok(Self {
                handle: handle.clone(),
            }),
            Err(error) if error == "already installed" => Err(MetricsError::AlreadyInstalled),
            Err(error) => Err(MetricsError::Exporter(error.clone())),
        }
    }

    /// Everything recorded so far, in Prometheus text format
    /// ([`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        self.handle.render()
    }
}
