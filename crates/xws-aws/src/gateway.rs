//! The API Gateway Management API: `PostToConnection` and `DeleteConnection`.

use aws_sdk_apigatewaymanagement::{Client, error::DisplayErrorContext, primitives::Blob};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};
use xws::Message;

use crate::{AwsError, MAX_MESSAGE_BYTES, Metrics};

/// What a post or a delete found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// The connection took it.
    Delivered,
    /// `410 Gone`: the connection is closed, or still inside `$connect`.
    Gone,
}

/// Management API clients, one per endpoint (`https://{domain}/{stage}`).
#[derive(Debug)]
pub struct Gateway {
    sdk: aws_config::SdkConfig,
    clients: Mutex<HashMap<String, Client>>,
    metrics: Arc<Metrics>,
}

/// Checks a payload against the API Gateway limit of 128 KB.
pub fn check_size(message: &Message) -> Result<(), xws::Error> {
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(xws::Error::MessageTooLarge {
            size: message.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    Ok(())
}

impl Gateway {
    /// A gateway using `sdk`'s region and credentials.
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
        check_size(message).map_err(|e| AwsError::Management {
            operation: "PostToConnection",
            connection: id.into(),
            detail: e.to_string(),
        })?;
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

    /// Closes connection `id`. API Gateway sends its own close frame: the
    /// handler's close code does not reach the client.
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
