//! The dashboard's HTTP API function: the page and its client.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    xws_aws::function::init_tracing();
    lambda_http::run(lambda_http::service_fn(|request| async move {
        Ok::<_, lambda_http::Error>(dashboard_aws::route(&request))
    }))
    .await
}
