//! API Gateway WebSocket events as the AWS adapter reads them: any payload
//! Lambda could hand over either fails to parse or maps to a connection id,
//! an endpoint, a `RequestInfo` and a message without panicking, and what
//! comes out agrees with the event (query values, stage path, base64
//! bodies that round-trip).
//!
//! The adapter's `event.rs` is compiled into this target from its source
//! file: depending on `xws-aws` would build the whole AWS SDK under nightly
//! for the sake of one module without SDK imports.

#![no_main]

#[allow(dead_code)] // `response` builds output; only the parsing is fuzzed here.
#[path = "../../crates/xws-aws/src/event.rs"]
mod event;

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use base64::Engine;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut event) = serde_json::from_slice::<ApiGatewayWebsocketProxyRequest>(data) else {
        return;
    };
    let context = &event.request_context;
    assert_eq!(
        event::connection_id(&event).ok(),
        context.connection_id.clone()
    );
    assert_eq!(
        event::endpoint(&event).is_some(),
        context.domain_name.is_some() && context.stage.is_some()
    );

    let request = event::request_info(&event);
    assert_eq!(
        request.path,
        format!("/{}", context.stage.as_deref().unwrap_or(""))
    );
    let params = if event.multi_value_query_string_parameters.is_empty() {
        &event.query_string_parameters
    } else {
        &event.multi_value_query_string_parameters
    };
    // Not `params.iter()`: query_map 0.7's iterator panics on `{"a": []}`.
    let params: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_value(serde_json::to_value(params).unwrap()).unwrap();
    for (key, value) in params
        .iter()
        .flat_map(|(k, vs)| vs.iter().map(move |v| (k, v)))
    {
        assert!(
            request.query_params(key).any(|v| v == *value),
            "query {key:?}={value:?} lost in {:?}",
            request.query
        );
    }
    for name in request.headers.keys() {
        let _ = request.header(name);
    }
    let _ = request.cookie("session");
    let _ = request.origin();
    let _ = request.protocols().count();
    let _ = request.path_and_query();
    let stored = serde_json::to_vec(&request).unwrap();
    assert_eq!(
        serde_json::from_slice::<xws::RequestInfo>(&stored).unwrap(),
        request
    );

    let body = event.body.clone().unwrap_or_default();
    match event::message(&event) {
        Ok(message) if event.is_base64_encoded => {
            // STANDARD decodes only canonical base64, so it re-encodes to the body.
            let encoded = base64::engine::general_purpose::STANDARD.encode(message.bytes());
            assert_eq!(encoded, body);
        }
        Ok(message) => assert_eq!(message.text().ok(), Some(body.as_str())),
        Err(_) => assert!(event.is_base64_encoded),
    }

    // A binary `$default` body, base64-encoded as API Gateway sends it.
    let bytes = body.into_bytes();
    event.body = Some(base64::engine::general_purpose::STANDARD.encode(&bytes));
    event.is_base64_encoded = true;
    assert_eq!(&event::message(&event).unwrap().bytes()[..], &bytes[..]);
});
