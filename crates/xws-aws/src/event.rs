//! API Gateway WebSocket events in, Lambda proxy responses out.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use base64::Engine;
use xws::{Message, RequestInfo};

/// The event's connection id, or an error naming what is missing.
pub(crate) fn connection_id(event: &ApiGatewayWebsocketProxyRequest) -> Result<String, xws::Error> {
    event
        .request_context
        .connection_id
        .clone()
        .ok_or_else(|| xws::Error::malformed("API Gateway event", "no requestContext.connectionId"))
}

/// `https://{domainName}/{stage}`, as API Gateway documents the callback URL.
pub(crate) fn endpoint(event: &ApiGatewayWebsocketProxyRequest) -> Option<String> {
    let context = &event.request_context;
    Some(format!(
        "https://{}/{}",
        context.domain_name.as_deref()?,
        context.stage.as_deref()?
    ))
}

/// The upgrade request as far as API Gateway tells it: headers, query and
/// source IP. API Gateway does not pass the URL path; it is `/{stage}`.
pub(crate) fn request_info(event: &ApiGatewayWebsocketProxyRequest) -> RequestInfo {
    let query = {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let multi = &event.multi_value_query_string_parameters;
        let params = if multi.is_empty() {
            &event.query_string_parameters
        } else {
            multi
        };
        for (key, value) in pairs(params) {
            query.append_pair(&key, &value);
        }
        query.finish()
    };
    let path = format!("/{}", event.request_context.stage.as_deref().unwrap_or(""));
    let mut request = RequestInfo::new(path, Some(&query));
    request.headers = if event.multi_value_headers.is_empty() {
        event.headers.clone()
    } else {
        event.multi_value_headers.clone()
    };
    let ip = event.request_context.identity.source_ip.as_deref();
    if let Some(ip) = ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        request.remote_addr = Some((ip, 0).into());
    }
    request
}

/// Every `(key, value)` of an event's query map, keys sorted. The map's own
/// `iter` (query_map 0.7) indexes past a key with no values (`{"a": []}`),
/// a panic any invocation payload could trigger, so the pairs are read from
/// its serialized form, `{key: [values]}`.
fn pairs(params: &impl serde::Serialize) -> Vec<(String, String)> {
    let map: std::collections::BTreeMap<String, Vec<String>> = serde_json::to_value(params)
        .and_then(serde_json::from_value)
        .unwrap_or_default();
    map.into_iter()
        .flat_map(|(key, values)| values.into_iter().map(move |value| (key.clone(), value)))
        .collect()
}

/// The message a `$default` event carries.
pub(crate) fn message(event: &ApiGatewayWebsocketProxyRequest) -> Result<Message, xws::Error> {
    let body = event.body.clone().unwrap_or_default();
    if event.is_base64_encoded {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|e| xws::Error::malformed("base64 body", e))?;
        return Ok(Message::from(bytes));
    }
    Ok(Message::from(body))
}

/// A proxy response with `status` and a text body.
pub(crate) fn response(
    status: u16,
    body: &str,
    headers: http::HeaderMap,
) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response.headers = headers;
    if !body.is_empty() {
        response.body = Some(Body::Text(body.to_owned()));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `$connect` event in the shape API Gateway sends (trimmed).
    const CONNECT: &str = r#"{
        "headers": {"Host": "abc.execute-api.eu-west-1.amazonaws.com", "Cookie": "s=1"},
        "multiValueHeaders": {"Host": ["abc.execute-api.eu-west-1.amazonaws.com"], "Cookie": ["s=1"]},
        "queryStringParameters": {"user": "ada b", "token": "t"},
        "multiValueQueryStringParameters": {"user": ["ada b"], "token": ["t"]},
        "requestContext": {
            "routeKey": "$connect", "eventType": "CONNECT", "stage": "prod",
            "connectedAt": 1700000000000, "requestTimeEpoch": 1700000000001,
            "identity": {"sourceIp": "203.0.113.9"}, "requestId": "r",
            "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
            "connectionId": "Zk9=", "apiId": "abc"
        },
        "isBase64Encoded": false
    }"#;

    #[test]
    fn connect_events_map_to_the_request_and_endpoint() {
        let event: ApiGatewayWebsocketProxyRequest = serde_json::from_str(CONNECT).unwrap();
        let request = request_info(&event);
        assert_eq!(request.path, "/prod");
        assert_eq!(request.query_param("user").as_deref(), Some("ada b"));
        assert_eq!(request.cookie("s"), Some("1"));
        assert_eq!(request.remote_addr.unwrap().ip().to_string(), "203.0.113.9");
        assert_eq!(connection_id(&event).unwrap(), "Zk9=");
        assert_eq!(
            endpoint(&event).unwrap(),
            "https://abc.execute-api.eu-west-1.amazonaws.com/prod"
        );
    }

    /// Found by the `aws_event` fuzz target (fuzz/regressions/aws_event).
    #[test]
    fn query_keys_without_values_are_skipped() {
        let event: ApiGatewayWebsocketProxyRequest = serde_json::from_str(
            r#"{"multiValueQueryStringParameters": {"a": [], "b": ["1", "2"]},
                "requestContext": {"eventType": "CONNECT", "stage": "prod",
                    "connectedAt": 1, "requestTimeEpoch": 1, "identity": {},
                    "requestId": "r", "connectionId": "Zk9=", "apiId": "a"}}"#,
        )
        .unwrap();
        let request = request_info(&event);
        assert_eq!(request.query_param("a"), None);
        assert_eq!(request.query_params("b").collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn message_bodies_decode_text_and_base64() {
        let mut event = ApiGatewayWebsocketProxyRequest::default();
        event.body = Some("aGk=".into());
        assert_eq!(message(&event).unwrap(), Message::from("aGk="));
        event.is_base64_encoded = true;
        assert_eq!(message(&event).unwrap(), Message::from(b"hi".to_vec()));
        event.body = Some("%%%".into());
        assert!(message(&event).is_err());
    }
}
