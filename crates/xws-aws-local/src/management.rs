//! The API Gateway Management API: `POST|GET|DELETE /@connections/{id}`.

use axum::{
    body::Bytes,
    extract::{Path, State, ws::Message},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;
use std::{
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

use crate::{Emulator, Stats, registry::Outbound};

fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({ "message": message }).to_string();
    (
        status,
        [
            ("x-amzn-errortype", kind),
            ("content-type", "application/json"),
        ],
        body,
    )
        .into_response()
}

fn gone(emulator: &Emulator) -> Response {
    Stats::bump(&emulator.stats.gone);
    aws_error(StatusCode::GONE, "GoneException", "")
}

fn iso(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_millis(time).to_string()
}

/// `POST`: sends the body as one frame (text when it is UTF-8).
pub(crate) async fn post(
    State(emulator): State<Arc<Emulator>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    Stats::bump(&emulator.stats.posts);
    if body.len() > emulator.config.max_message_bytes {
        let message = format!("Message of {} bytes exceeds the 128 KB limit", body.len());
        return aws_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeException",
            &message,
        );
    }
    let Some(connection) = emulator.registry.get(&id) else {
        return gone(&emulator);
    };
    let frame = match String::from_utf8(body.to_vec()) {
        Ok(text) => Message::Text(text.into()),
        Err(_) => Message::Binary(body),
    };
    connection.touch();
    match connection.outbound.send(Outbound::Frame(frame)) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(_) => gone(&emulator),
    }
}

/// `GET`: the connection's facts.
pub(crate) async fn get(State(emulator): State<Arc<Emulator>>, Path(id): Path<String>) -> Response {
    let Some(connection) = emulator.registry.get(&id) else {
        return gone(&emulator);
    };
    let facts = &connection.facts;
    axum::Json(json!({
        "ConnectedAt": iso(facts.connected_at),
        "Identity": { "SourceIp": facts.source.ip().to_string(), "UserAgent": facts.user_agent },
        "LastActiveAt": iso(connection.last_active_ms()),
    }))
    .into_response()
}

/// `DELETE`: closes the connection (API Gateway's own close frame, 1000).
pub(crate) async fn delete(
    State(emulator): State<Arc<Emulator>>,
    Path(id): Path<String>,
) -> Response {
    Stats::bump(&emulator.stats.deletes);
    let Some(connection) = emulator.registry.get(&id) else {
        return gone(&emulator);
    };
    let _ = connection
        .outbound
        .send(Outbound::Close(1000, String::new()));
    StatusCode::NO_CONTENT.into_response()
}
