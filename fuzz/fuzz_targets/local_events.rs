//! The events the local gateway builds from client-controlled upgrade
//! requests, messages and plain HTTP requests: building never panics, and
//! what the AWS adapter reads back from a `$connect`/`$default` event is
//! what the client sent (every query pair, every header, the body), as an
//! HTTP API event keeps the body byte for byte.

#![no_main]

#[allow(dead_code)] // `response` builds output; only the parsing is fuzzed here.
#[path = "../../crates/xws-aws/src/event.rs"]
mod event;

use arbitrary::Arbitrary;
use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use xws_aws_local::events::{self, ConnectionFacts};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    headers: Vec<(&'a str, &'a [u8])>,
    query: Option<&'a str>,
    message: &'a str,
    method: &'a str,
    uri: &'a str,
    body: &'a [u8],
    code: u16,
    reason: &'a str,
}

fn facts() -> ConnectionFacts {
    ConnectionFacts {
        id: "Zk9=".into(),
        connected_at: 1_700_000_000_000,
        source: ([203, 0, 113, 9], 40000).into(),
        domain: "localhost:3000".into(),
        stage: "local".into(),
        user_agent: "fuzz".into(),
    }
}

fn parse(event: serde_json::Value) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(event).expect("the adapter parses every event the gateway builds")
}

fuzz_target!(|input: Input<'_>| {
    let facts = facts();
    let mut headers = HeaderMap::new();
    for (name, value) in &input.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(*name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }

    let connect = parse(events::connect(&facts, &headers, input.query));
    assert_eq!(event::connection_id(&connect).unwrap(), facts.id);
    let request = event::request_info(&connect);
    assert_eq!(request.path, "/local");
    for (key, value) in form_urlencoded::parse(input.query.unwrap_or("").as_bytes()) {
        assert!(
            request.query_params(&key).any(|v| v == value),
            "query {key:?}={value:?} lost in {:?}",
            request.query
        );
    }
    for (name, value) in &headers {
        if let Ok(value) = value.to_str() {
            assert!(
                request
                    .headers
                    .get_all(name)
                    .iter()
                    .any(|v| v.to_str().ok() == Some(value)),
                "header {name}: {value:?} lost"
            );
        }
    }

    let message = parse(events::message(&facts, input.message));
    let message = event::message(&message).unwrap();
    assert_eq!(message.text().ok(), Some(input.message));

    let disconnect = parse(events::disconnect(&facts, input.code, input.reason));
    assert_eq!(
        disconnect.request_context.disconnect_status_code,
        Some(i64::from(input.code))
    );

    let (Ok(method), Ok(uri)) = (
        Method::from_bytes(input.method.as_bytes()),
        Uri::try_from(input.uri),
    ) else {
        return;
    };
    let http = events::http(
        &method,
        &uri,
        &headers,
        input.body,
        facts.source,
        &facts.domain,
    );
    let body = http["body"].as_str().unwrap();
    let body = if http["isBase64Encoded"] == true {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    assert_eq!(body, input.body);
    assert_eq!(http["requestContext"]["http"]["method"], method.as_str());
});
