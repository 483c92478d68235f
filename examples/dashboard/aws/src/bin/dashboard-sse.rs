//! The dashboard's SSE function, behind a function URL with
//! `InvokeMode: RESPONSE_STREAM`: the metrics as a `text/event-stream`.

use http_body_util::StreamBody;
use lambda_http::{Response, http::header};
use xws_aws::function::init_tracing;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_tracing();
    let latest = dashboard_aws::DynamoLatest::from_env().await?;
    let config = dashboard_aws::SseConfig::from_env();
    lambda_http::run_with_streaming_response(lambda_http::service_fn(move |_request| {
        let events = dashboard_aws::sse_stream(latest.clone(), config);
        async move {
            let frames =
                futures_util::StreamExt::map(events, |chunk| chunk.map(http_body::Frame::data));
            Response::builder()
                .header(header::CONTENT_TYPE, "text/event-stream")
                .header(header::CACHE_CONTROL, "no-cache")
                .body(StreamBody::new(Box::pin(frames)))
                .map_err(lambda_http::Error::from)
        }
    }))
    .await
}
