//! `POST /api/login?user=U`: the demo login, `{"user","token"}`.

use import_progress_vercel::json_response;
use vercel_runtime::{Request, service_fn};
use xws_vercel::init_tracing;

#[tokio::main]
async fn main() -> Result<(), vercel_runtime::Error> {
    init_tracing();
    vercel_runtime::run(service_fn(|request: Request| async move {
        let user = import_progress_vercel::query_param(&request, "user");
        let (status, body) = import_progress::login_route(user.as_deref());
        json_response(status, &body)
    }))
    .await
}
