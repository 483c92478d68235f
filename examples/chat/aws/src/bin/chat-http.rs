//! The chat's HTTP API function: `POST /api/broadcast` and the server API
//! through the hub.

use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    chat_aws::init_tracing();
    let http = Arc::new(chat_aws::Http::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let http = http.clone();
        async move { Ok::<_, lambda_http::Error>(chat_aws::route(&http, request).await) }
    }))
    .await
}
