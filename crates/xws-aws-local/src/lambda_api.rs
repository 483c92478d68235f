//! The Lambda Invoke API, forwarded to `cargo lambda watch`, with the
//! asynchronous (`Event`) invocation type it lacks.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use std::sync::Arc;

use crate::{Emulator, Stats, invoke::invoke as call};

pub(crate) async fn invoke(
    State(emulator): State<Arc<Emulator>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let url = format!(
        "{}/2015-03-31/functions/{name}/invocations",
        emulator.config.lambda_origin()
    );
    let event: Value = match serde_json::from_slice(&body) {
        Ok(event) => event,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("payload is not JSON: {e}")).into_response();
        }
    };
    let asynchronous = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        == Some("Event");
    if asynchronous {
        Stats::bump(&emulator.stats.async_invokes);
        let emulator = emulator.clone();
        tokio::spawn(async move {
            if let Err(error) = call(&emulator.client, &url, &event).await {
                tracing::error!(%error, "asynchronous invocation failed");
            }
        });
        return StatusCode::ACCEPTED.into_response();
    }
    match call(&emulator.client, &url, &event).await {
        Ok(answer) => axum::Json(answer).into_response(),
        Err(error) => (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    }
}
