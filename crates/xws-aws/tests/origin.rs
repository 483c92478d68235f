//! `$connect` applies the Origin allow-list before the `upgrade` hook and
//! before any DynamoDB request, as xws-tokio does: the function is invoked
//! with API Gateway's event, its DynamoDB is a small HTTP server on
//! 127.0.0.1 that answers `{}` and counts requests.

use axum::{Router, routing::post};
use serde_json::{Value, json};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use xws::{Handler, OriginPolicy};
use xws_aws::{Aws, Config, Xws};

struct Open;

impl Handler for Open {
    type Context = ();
}

/// A DynamoDB that accepts every request; its URL and request counter.
async fn accepting_dynamodb() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = Router::new().route(
        "/",
        post(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            async { ([("content-type", "application/x-amz-json-1.0")], "{}") }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

fn connect_event(origin: &str) -> Value {
    json!({
        "headers": { "Origin": origin, "Host": "abc.example" },
        "multiValueHeaders": { "Origin": [origin], "Host": ["abc.example"] },
        "isBase64Encoded": false,
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "connectionId": "c1",
            "domainName": "abc.example",
            "stage": "test",
            "apiId": "abc",
            "requestId": "r1",
            "connectedAt": 1,
            "requestTimeEpoch": 1
        }
    })
}

#[tokio::test]
async fn connect_refuses_an_origin_outside_the_allow_list_before_storing_anything() {
    let (url, requests) = accepting_dynamodb().await;
    let credentials = aws_sdk_dynamodb::config::Credentials::new("k", "s", None, None, "test");
    let sdk = xws_aws::sdk_config_loader()
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(&url)
        .load()
        .await;
    let config = Config {
        origins: OriginPolicy::parse("https://app.example"),
        ..Config::new("connections")
    };
    let xws = Xws::new(Open, Arc::new(Aws::new(&sdk, config)));

    let refused = xws
        .invoke(connect_event("https://evil.example"))
        .await
        .unwrap();
    assert_eq!(refused["statusCode"], 403, "{refused}");
    assert_eq!(requests.load(Ordering::SeqCst), 0, "nothing stored");

    let accepted = xws
        .invoke(connect_event("https://app.example"))
        .await
        .unwrap();
    assert_eq!(accepted["statusCode"], 200, "{accepted}");
    assert!(
        requests.load(Ordering::SeqCst) > 0,
        "the connection was stored"
    );
}
