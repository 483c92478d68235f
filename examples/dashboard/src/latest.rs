//! Where the latest metrics are kept between the scheduled job and `open`.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use xws::{BoxError, MaybeSend, MaybeSync};

use crate::Metrics;

/// The latest metrics, written by the scheduled job and read when a peer
/// opens. Each target keeps them where they survive its lifecycle: memory
/// on Tokio ([`Latest`]), Durable Object storage on Cloudflare, DynamoDB on
/// AWS.
pub trait LatestMetrics: MaybeSend + MaybeSync + 'static {
    /// The latest metrics, if the job has run.
    fn get(&self) -> impl Future<Output = Result<Option<Metrics>, BoxError>> + MaybeSend;
    /// Replaces the latest metrics.
    fn set(&self, metrics: &Metrics) -> impl Future<Output = Result<(), BoxError>> + MaybeSend;
}

/// The latest metrics in memory, shared by the handler and the job of one
/// process.
#[derive(Clone, Debug, Default)]
pub struct Latest(Arc<Mutex<Option<Metrics>>>);

impl Latest {
    /// The latest metrics, if the job has run.
    pub fn current(&self) -> Option<Metrics> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl LatestMetrics for Latest {
    async fn get(&self) -> Result<Option<Metrics>, BoxError> {
        Ok(self.current())
    }

    async fn set(&self, metrics: &Metrics) -> Result<(), BoxError> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(metrics.clone());
        Ok(())
    }
}
