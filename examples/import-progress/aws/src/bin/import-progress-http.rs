//! The HTTP API function: the page and `POST /api/start-import`.

use import_progress_aws::{Routes, Worker};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    xws_aws::function::init_tracing();
    let routes = Routes::new(Worker::from_env().await);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let routes = routes.clone();
        async move { Ok::<_, lambda_http::Error>(routes.route(request).await) }
    }))
    .await
}
