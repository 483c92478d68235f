//! DynamoDB throttling is retried with backoff; other errors fail at once.
//!
//! moto never throttles, so a small fake DynamoDB endpoint (a real HTTP
//! server on 127.0.0.1) answers `ProvisionedThroughputExceededException`
//! as DynamoDB does, and counts the requests.

use axum::{Router, http::StatusCode, response::IntoResponse, routing::post};
use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use xws_aws::{Aws, AwsError, Config};

/// Serves a fake DynamoDB that fails the first `failures` requests with
/// `error_type`, then answers `{}`; returns its URL and request counter.
async fn fake_dynamodb(failures: usize, error_type: &'static str) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let app = Router::new().route(
        "/",
        post(move || {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            async move {
                let content_type = [("content-type", "application/x-amz-json-1.0")];
                if n < failures {
                    let body = format!(
                        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{error_type}","message":"fake"}}"#
                    );
                    (StatusCode::BAD_REQUEST, content_type, body).into_response()
                } else {
                    (StatusCode::OK, content_type, "{}".to_owned()).into_response()
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, count)
}

async fn aws_at(url: &str) -> Aws {
    let credentials = aws_sdk_dynamodb::config::Credentials::new("k", "s", None, None, "test");
    let sdk = xws_aws::sdk_config_loader()
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(credentials)
        .endpoint_url(url)
        .load()
        .await;
    Aws::new(&sdk, Config::new("connections"))
}

#[tokio::test]
async fn throttled_requests_are_retried_until_they_succeed() {
    let (url, requests) = fake_dynamodb(2, "ProvisionedThroughputExceededException").await;
    let aws = aws_at(&url).await;
    let found = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        aws.registry().get_connection("c1"),
    )
    .await
    .expect("retries finish in time")
    .expect("the third attempt succeeds");
    assert_eq!(found, None);
    assert_eq!(
        requests.load(Ordering::SeqCst),
        3,
        "two throttled attempts, then success"
    );
}

#[tokio::test]
async fn other_errors_fail_at_once_and_say_what_failed() {
    let (url, requests) = fake_dynamodb(usize::MAX, "ValidationException").await;
    let aws = aws_at(&url).await;
    let error = aws.registry().get_connection("c1").await.unwrap_err();
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "no retry of a validation error"
    );
    assert!(
        matches!(
            error,
            AwsError::DynamoDb {
                operation: "GetItem",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("ValidationException"), "{error}");
}
