//! Errors of the AWS adapter, each saying which AWS call failed and why.

use aws_sdk_dynamodb::error::DisplayErrorContext;

/// Everything that can go wrong talking to AWS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsError {
    /// A DynamoDB call failed (after the SDK's retries on throttling).
    #[error("DynamoDB {operation} failed: {detail}")]
    DynamoDb {
        /// The operation (`Query`, `PutItem`…).
        operation: &'static str,
        /// The SDK's full error chain.
        detail: String,
    },
    /// An API Gateway Management API call failed for a reason other than
    /// `410 Gone`.
    #[error("API Gateway {operation} to connection {connection} failed: {detail}")]
    Management {
        /// The operation (`PostToConnection`, `DeleteConnection`).
        operation: &'static str,
        /// The connection id.
        connection: String,
        /// The SDK's full error chain.
        detail: String,
    },
    /// The asynchronous self-invocation that delivers `open`-hook messages failed.
    #[error("Lambda Invoke of {function} failed: {detail}")]
    Invoke {
        /// The function name.
        function: String,
        /// The SDK's full error chain.
        detail: String,
    },
    /// A stored item does not have the shape this adapter writes.
    #[error("malformed DynamoDB item {key}: {reason}")]
    MalformedItem {
        /// The item's key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A setting is missing or invalid.
    #[error("configuration: {0}")]
    Config(String),
}

impl AwsError {
    pub(crate) fn dynamodb<E>(operation: &'static str, error: E) -> Self
    where
        E: std::error::Error,
    {
        AwsError::DynamoDb {
            operation,
            detail: DisplayErrorContext(error).to_string(),
        }
    }
}

impl From<AwsError> for xws::Error {
    fn from(error: AwsError) -> Self {
        xws::Error::transport(error)
    }
}
