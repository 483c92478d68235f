//! What an operator's server API asks beyond the [`xws::Hub`]: topics with
//! their subscriber counts, peers with their contexts (for presence, or to
//! find a user's connections), and closing connections.

use serde_json::Value;
use xws::CloseFrame;

use crate::{Aws, AwsError, Reach};

impl Aws {
    /// Every topic with its number of subscribers (a `Scan` of the table,
    /// see [`Registry::topic_counts`](crate::Registry::topic_counts)).
    pub async fn topics(&self) -> Result<Vec<(String, usize)>, AwsError> {
        self.registry.topic_counts().await
    }

    /// The connections, or those following `topic`, with their contexts as
    /// JSON: one `Query` of the connections (what a broadcast costs), plus
    /// one for the topic's subscribers.
    pub async fn peers(&self, topic: Option<&str>) -> Result<Vec<(String, Value)>, AwsError> {
        let subscribers = match topic {
            Some(topic) => Some(self.registry.subscribers(topic).await?),
            None => None,
        };
        let peers = self.registry.connection_peers().await?;
        Ok(peers
            .into_iter()
            .filter(|(id, _)| subscribers.as_ref().is_none_or(|ids| ids.contains(id)))
            .filter_map(|(id, peer)| {
                let mut snapshot: Value = serde_json::from_str(&peer)
                    .inspect_err(
                        |error| tracing::warn!(connection = %id, %error, "unreadable peer"),
                    )
                    .ok()?;
                Some((id, snapshot["context"].take()))
            })
            .collect())
    }

    /// Closes connections `ids` with `frame` (a close notice, then
    /// `DeleteConnection`; `$disconnect` follows); returns how many were
    /// still connected.
    pub async fn disconnect(&self, ids: &[String], frame: &CloseFrame) -> Result<usize, AwsError> {
        let endpoint = self
            .config
            .endpoint
            .as_deref()
            .ok_or(AwsError::NoEndpoint {
                context: " to close connections",
            })?;
        let mut closed = 0;
        for id in ids {
            if self.management.close(endpoint, id, frame).await? == Reach::Delivered {
                closed += 1;
            }
        }
        Ok(closed)
    }
}
