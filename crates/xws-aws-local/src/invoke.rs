//! Calling functions through the Lambda Invoke API of `cargo lambda watch`.

use serde_json::Value;

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The Lambda endpoint could not be reached or answered garbage.
    #[error("invoking {url}: {source}")]
    Http {
        /// The invoke URL.
        url: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// The function returned an error (or panicked).
    #[error("function {url} failed: {body}")]
    Function {
        /// The invoke URL.
        url: String,
        /// The error document.
        body: String,
    },
}

/// Invokes the function at `url` synchronously and returns its result.
pub async fn invoke(
    client: &reqwest::Client,
    url: &str,
    event: &Value,
) -> Result<Value, InvokeError> {
    let http = |source| InvokeError::Http {
        url: url.to_owned(),
        source,
    };
    let response = client.post(url).json(event).send().await.map_err(http)?;
    let failed =
        !response.status().is_success() || response.headers().contains_key("x-amz-function-error");
    let body: Value = response.json().await.map_err(http)?;
    if failed || body.get("errorType").is_some() {
        return Err(InvokeError::Function {
            url: url.to_owned(),
            body: body.to_string(),
        });
    }
    Ok(body)
}
