//! The HTTP API function: the page, `POST /api/notify`,
//! `GET /api/notifications`, `POST /api/mark-read`.

use notifications_aws::{DynamoStore, Routes};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    xws_aws::function::init_tracing();
    let aws = Arc::new(xws_aws::Aws::from_env().await?);
    let routes = Routes::new(aws.hub()?, DynamoStore::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let routes = routes.clone();
        async move { Ok::<_, lambda_http::Error>(routes.route(request).await) }
    }))
    .await
}
