//! Delivering one message to many connections with bounded concurrency.

use futures_util::{StreamExt, stream};
use xws::{Delivery, Message};

use crate::{Aws, Reach, now_ms};

/// Posts `message` to every id but `exclude`, `concurrency` at a time.
///
/// A `410 Gone` removes that stale connection (and its `topic`
/// subscription) and the fan-out goes on; other failures are logged and the
/// fan-out goes on too. It fails only when every post failed.
pub(crate) async fn fan_out(
    aws: &Aws,
    endpoint: &str,
    ids: Vec<String>,
    exclude: Option<&str>,
    topic: Option<&str>,
    message: &Message,
) -> Result<Delivery, xws::Error> {
    crate::gateway::check_size(message)?;
    let targets: Vec<String> = ids
        .into_iter()
        .filter(|id| Some(id.as_str()) != exclude)
        .collect();
    let total = targets.len();
    let cutoff = now_ms() - aws.config.connect_grace.as_millis() as i64;
    let results: Vec<_> = stream::iter(targets)
        .map(|id| async move {
            let reach = aws.gateway.post(endpoint, &id, message).await;
            if let Ok(Reach::Gone) = reach
                && let Err(e) = aws.table.remove_stale(&id, topic, cutoff).await
            {
                tracing::warn!(connection = %id, error = %e, "could not remove a stale connection");
            }
            reach
        })
        .buffer_unordered(aws.config.fanout_concurrency)
        .collect()
        .await;
    let mut delivered = 0;
    let mut first_error = None;
    let mut failed = 0;
    for result in results {
        match result {
            Ok(Reach::Delivered) => delivered += 1,
            Ok(Reach::Gone) => {}
            Err(e) => {
                failed += 1;
                tracing::warn!(error = %e, "post failed during fan-out");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if failed == total => Err(e.into()),
        _ => Ok(Delivery { delivered }),
    }
}
