//! Messages sent from the `open` hook, delivered right after `$connect`.
//!
//! API Gateway opens the socket only when `$connect` has returned; a
//! `PostToConnection` before that answers `410 Gone`. So during `$connect`
//! the adapter stores `open`'s sends (and a close) on the connection item as
//! `pending` (a close, from `close` or a failed `open`, is sent as a
//! close notice then `DeleteConnection`), and before returning it invokes its own function
//! asynchronously (`InvocationType=Event`) with a [`DeliverPending`] event.
//! That invocation claims the pending messages atomically (`UpdateItem
//! REMOVE pending`, so nobody sends them twice) and posts them in order,
//! retrying `410` with backoff for up to 5 s while `$connect` finishes.
//! If the client speaks first, its `$default` claims and sends them before
//! running `message`. Either way they arrive even if the client never speaks.

use aws_sdk_lambda::{primitives::Blob, types::InvocationType};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use xws::{CloseFrame, Message};

use crate::{Aws, AwsError, Reach};

/// The self-invocation event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliverPending {
    /// The connection.
    pub connection_id: String,
    /// The management endpoint to post through.
    pub endpoint: String,
}

/// The key that marks a [`DeliverPending`] event.
pub const DELIVER_PENDING: &str = "xwsDeliverPending";

/// A stored `open`-hook operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "op")]
pub(crate) enum PendingOp {
    Text { data: String },
    Binary { data: Vec<u8> },
    Close { frame: CloseFrame },
}

impl PendingOp {
    pub(crate) fn from_message(message: Message) -> Self {
        match message {
            Message::Text(text) => PendingOp::Text {
                data: text.as_str().to_owned(),
            },
            Message::Binary(bytes) => PendingOp::Binary {
                data: bytes.to_vec(),
            },
        }
    }
}

impl Aws {
    /// Asks Lambda to run [`Aws::deliver_pending`] in a new invocation.
    pub(crate) async fn invoke_deliver(&self, event: &DeliverPending) -> Result<(), AwsError> {
        let function = self
            .config
            .self_function
            .clone()
            .ok_or(AwsError::NoSelfFunction)?;
        let payload = serde_json::json!({ DELIVER_PENDING: event });
        self.lambda
            .invoke()
            .function_name(&function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload.to_string()))
            .send()
            .await
            .map_err(|e| AwsError::Invoke {
                function,
                detail: aws_sdk_lambda::error::DisplayErrorContext(e).to_string(),
            })?;
        Ok(())
    }

    /// Claims the connection's pending messages and posts them in order.
    /// With `wait_for_open`, a `410` is retried while `$connect` finishes.
    pub async fn deliver_pending(
        &self,
        event: &DeliverPending,
        wait_for_open: bool,
    ) -> Result<(), AwsError> {
        let id = &event.connection_id;
        let Some(json) = self.registry.take_pending(id).await? else {
            return Ok(());
        };
        let ops: Vec<PendingOp> =
            serde_json::from_str(&json).map_err(|e| AwsError::MalformedItem {
                key: format!("conn/{id}"),
                reason: format!("pending: {e}"),
            })?;
        let deadline = Instant::now() + self.config.pending_retry_for;
        for op in ops {
            let mut backoff = Duration::from_millis(20);
            loop {
                let reach = match &op {
                    PendingOp::Text { data } => {
                        let message = Message::from(data.clone());
                        self.management.post(&event.endpoint, id, &message).await?
                    }
                    PendingOp::Binary { data } => {
                        let message = Message::from(data.clone());
                        self.management.post(&event.endpoint, id, &message).await?
                    }
                    PendingOp::Close { frame } => {
                        self.management.close(&event.endpoint, id, frame).await?
                    }
                };
                if reach == Reach::Delivered {
                    break;
                }
                if !wait_for_open || Instant::now() >= deadline {
                    tracing::warn!(connection = %id, "connection gone before open-hook messages reached it");
                    return Ok(());
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_millis(400));
            }
        }
        Ok(())
    }
}
