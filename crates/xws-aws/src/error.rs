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
    /// A required environment variable is not set.
    #[error("{name} ({meaning}) is not set")]
    MissingVariable {
        /// The variable.
        name: &'static str,
        /// What it names.
        meaning: &'static str,
    },
    /// An environment variable does not hold a number.
    #[error("{name}={value:?} is not a number")]
    InvalidVariable {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// The management endpoint is unknown: the event has no
    /// `domainName`/`stage`, and `XWS_APIGW_ENDPOINT` is not set.
    #[error(
        "no management endpoint: set XWS_APIGW_ENDPOINT \
         (https://{{api-id}}.execute-api.{{region}}.amazonaws.com/{{stage}}){context}"
    )]
    NoEndpoint {
        /// Where it was needed.
        context: &'static str,
    },
    /// No function to invoke for delivering `open`-hook messages.
    #[error(
        "no function to deliver open-hook messages: set XWS_SELF_FUNCTION \
         (Lambda sets AWS_LAMBDA_FUNCTION_NAME)"
    )]
    NoSelfFunction,
    /// A stored value could not be encoded.
    #[error("encoding {what}: {source}")]
    Encode {
        /// What was encoded.
        what: &'static str,
        /// Why it failed.
        source: serde_json::Error,
    },
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
