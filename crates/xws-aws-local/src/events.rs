//! The events API Gateway sends to functions, in their wire shape.

use axum::http::{HeaderMap, Method, Uri};
use serde_json::{Map, Value, json};
use std::{collections::BTreeMap, net::SocketAddr};

/// Facts about one WebSocket connection that every event repeats.
#[derive(Clone, Debug)]
pub struct ConnectionFacts {
    /// The connection id.
    pub id: String,
    /// Epoch ms of `$connect`.
    pub connected_at: i64,
    /// The client's address.
    pub source: SocketAddr,
    /// The `Host` the client used (API Gateway's `domainName`).
    pub domain: String,
    /// The stage.
    pub stage: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn single_and_multi_headers(headers: &HeaderMap) -> (Map<String, Value>, Map<String, Value>) {
    let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            multi
                .entry(name.as_str().to_owned())
                .or_default()
                .push(value.into());
        }
    }
    let single = multi
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.last()?.clone())))
        .collect();
    let multi = multi
        .into_iter()
        .map(|(k, v)| (k, Value::Array(v)))
        .collect();
    (single, multi)
}

fn query_maps(query: Option<&str>) -> (Value, Value) {
    let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        multi
            .entry(k.into_owned())
            .or_default()
            .push(v.into_owned().into());
    }
    if multi.is_empty() {
        return (Value::Null, Value::Null);
    }
    let single: Map<String, Value> = multi
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.last()?.clone())))
        .collect();
    let multi: Map<String, Value> = multi
        .into_iter()
        .map(|(k, v)| (k, Value::Array(v)))
        .collect();
    (Value::Object(single), Value::Object(multi))
}

fn ws_context(facts: &ConnectionFacts, route: &str, event_type: &str) -> Map<String, Value> {
    let now = now_ms();
    let context = json!({
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": request_id(),
        "requestTime": now.to_string(),
        "messageDirection": "IN",
        "stage": facts.stage,
        "connectedAt": facts.connected_at,
        "requestTimeEpoch": now,
        "identity": { "sourceIp": facts.source.ip().to_string(), "userAgent": facts.user_agent },
        "requestId": request_id(),
        "domainName": facts.domain,
        "connectionId": facts.id,
        "apiId": "local",
    });
    match context {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal"),
    }
}

/// `$connect`: headers and query of the upgrade request.
pub fn connect(facts: &ConnectionFacts, headers: &HeaderMap, query: Option<&str>) -> Value {
    let (single, multi) = single_and_multi_headers(headers);
    let (query, multi_query) = query_maps(query);
    json!({
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": ws_context(facts, "$connect", "CONNECT"),
        "isBase64Encoded": false,
    })
}

/// `$default`: one text message.
pub fn message(facts: &ConnectionFacts, body: &str) -> Value {
    let mut context = ws_context(facts, "$default", "MESSAGE");
    context.insert("messageId".into(), request_id().into());
    json!({ "requestContext": context, "body": body, "isBase64Encoded": false })
}

/// `$disconnect` with the close code and reason API Gateway saw.
pub fn disconnect(facts: &ConnectionFacts, code: u16, reason: &str) -> Value {
    let mut context = ws_context(facts, "$disconnect", "DISCONNECT");
    context.insert("disconnectStatusCode".into(), code.into());
    context.insert("disconnectReason".into(), reason.into());
    json!({ "requestContext": context, "isBase64Encoded": false })
}

/// An HTTP API (payload 2.0) event for a plain request.
pub fn http(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    source: SocketAddr,
    domain: &str,
) -> Value {
    let (single, _) = single_and_multi_headers(headers);
    let cookies: Vec<Value> = headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(|c| Value::from(c.trim()))
        .collect();
    let (body, base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => {
            use base64::Engine;
            (base64::engine::general_purpose::STANDARD.encode(body), true)
        }
    };
    let (query, _) = query_maps(uri.query());
    let now = now_ms();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri.path(),
        "rawQueryString": uri.query().unwrap_or(""),
        "cookies": if cookies.is_empty() { Value::Null } else { Value::Array(cookies) },
        "headers": single,
        "queryStringParameters": query,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or(domain),
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": source.ip().to_string(),
                "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id(),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.to_string(),
            "timeEpoch": now,
        },
        "body": body,
        "isBase64Encoded": base64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_keeps_every_value_decoded() {
        let (single, multi) = query_maps(Some("user=a%20b&room=1&room=2&x"));
        assert_eq!(single["user"], "a b");
        assert_eq!(multi["room"], json!(["1", "2"]));
        assert_eq!(single["x"], "");
    }
}
