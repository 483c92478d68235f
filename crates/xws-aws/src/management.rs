//! The API Gateway Management API: `PostToConnection` and `DeleteConnection`.

use aws_sdk_apigatewaymanagement::{Client, error::DisplayErrorContext, primitives::Blob};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};
use xws::{CloseFrame, Message, client::close_notice};

use crate::{AwsError, MAX_MESSAGE_BYTES, Metrics};

/// What a post or a delete found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The connection took it.
    Delivered,
    /// `410 Gone`: the connection is closed, or still inside `$connect`.
    Gone,
}

/// The API Gateway Management API: clients, one per endpoint
/// (`https://{domain}/{stage}`).
#[derive(Debug)]
pub struct ManagementApi {
    sdk: aws_config::SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    metrics: Arc<Metrics>,
}

/// `message` as API Gateway carries it, checked against its limit of
/// 128 KB: a binary message becomes its binary notice
/// ([`xws::client::binary_notice`]), since API Gateway's clients get text
/// (`xws.js` and `xws-client` turn it back into binary). Called once where
/// a message enters the adapter (a peer's send or publish, a hub call), so
/// the paths after it (publish, fan-out, post) neither check nor encode it
/// again, once per subscriber.
pub fn to_wire(message: Message) -> Result<Message, xws::Error> {
    let size = match &message {
        Message::Binary(bytes) => xws::client::binary_notice_len(bytes.len()),
        Message::Text(_) => message.len(),
    };
    if size > MAX_MESSAGE_BYTES {
        return Err(xws::Error::MessageTooLarge {
            size,
            limit: MAX_MESSAGE_BYTES,
        });
    }
    Ok(xws::client::binary_to_notice(&message))
}

impl ManagementApi {
    /// The Management API using `sdk`'s region and credentials.
    pub fn new(sdk: aws_config::SdkConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            sdk,
            clients: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    fn client(&self, endpoint: &str) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        clients
            .entry(endpoint.to_owned())
            .or_insert_with(|| {
                let config = aws_sdk_apigatewaymanagement::config::Builder::from(&self.sdk)
                    .endpoint_url(endpoint)
                    .build();
                Client::from_conf(config)
            })
            .clone()
    }

    /// Posts `message` to connection `id`.
    pub async fn post(
        &self,
        endpoint: &str,
        id: &str,
        message: &Message,
    ) -> Result<Reach, AwsError> {
        self.metrics.post();
        let result = self
            .client(endpoint)
            .post_to_connection()
            .connection_id(id)
            .data(Blob::new(message.bytes().to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Reach::Delivered),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_gone_exception()) => {
                self.metrics.gone();
                Ok(Reach::Gone)
            }
            Err(e) => Err(AwsError::Management {
                operation: "PostToConnection",
                connection: id.into(),
                detail: DisplayErrorContext(e).to_string(),
            }),
        }
    }

    /// Closes connection `id` with `frame`. API Gateway cannot send a
    /// close frame with a code (it sends its own), so the frame goes first
    /// as a close notice ([`xws::client::close_notice`]), which `xws.js` and
    /// `xws-client` report as the close.
    pub async fn close(
        &self,
        endpoint: &str,
        id: &str,
        frame: &CloseFrame,
    ) -> Result<Reach, AwsError> {
        if self.post(endpoint, id, &close_notice(frame)).await? == Reach::Gone {
            return Ok(Reach::Gone);
        }
        self.delete(endpoint, id).await
    }

    /// Closes connection `id` without a word.
    pub async fn delete(&self, endpoint: &str, id: &str) -> Result<Reach, AwsError> {
        let result = self
            .client(endpoint)
            .delete_connection()
            .connection_id(id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Reach::Delivered),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_gone_exception()) => {
                Ok(Reach::Gone)
            }
            Err(e) => Err(AwsError::Management {
                operation: "DeleteConnection",
                connection: id.into(),
                detail: DisplayErrorContext(e).to_string(),
            }),
        }
    }
}
