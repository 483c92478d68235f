//! The xws dashboard on Cloudflare Workers: `dashboard::DashboardHandler`,
//! unchanged, in one Durable Object that keeps the latest metrics in its
//! storage, so a peer that opens after the object hibernated still gets
//! them first.
//!
//! Routes: WebSocket `/api/ws`, SSE `/api/sse?topic=metrics-updates`, the
//! page at `/` and the browser client at `/xws.js`. The cron trigger (and
//! `/__scheduled` under `wrangler dev --test-scheduled`) asks the object to
//! compute fresh metrics and publish them.
#![cfg(target_arch = "wasm32")]

mod object;
mod stored;

use dashboard::{DashboardHandler, Latest};
use worker::{
    Context, Env, Method, Request, RequestInit, Response, ScheduleContext, ScheduledEvent, event,
};
use xws::OriginPolicy;
use xws_cloudflare::{Config, Namespace, Xws};

pub use stored::StoredLatest;

/// Every viewer watches the same metrics: one object.
const OBJECT_NAME: &str = "dashboard";

/// The object's own route that runs the scheduled job; only `scheduled`
/// sends it (the Worker forwards no client request there).
const PUBLISH_ROUTE: &str = "/publish";

const PAGE: &str = include_str!("../../static/index.html");

/// The adapter configuration shared by the Worker and the object; the
/// `XWS_ALLOWED_ORIGINS` var (comma-separated) sets an Origin allow-list.
fn config(env: &Env) -> Config {
    let origins = env
        .var("XWS_ALLOWED_ORIGINS")
        .map(|list| OriginPolicy::parse(&list.to_string()))
        .unwrap_or_default();
    Config::default()
        .with_binding("DASHBOARD")
        .with_namespace(Namespace::Fixed(OBJECT_NAME.into()))
        .with_origins(origins)
}

/// The Worker runs only the handler's `upgrade` hook, which reads no
/// metrics, so its handler keeps them in (unused) memory; the object's
/// handler reads them from storage. Both have the same context type, which
/// is what travels from the Worker to the object.
fn app(env: &Env) -> Xws<DashboardHandler<Latest>> {
    Xws::new(DashboardHandler::default(), config(env))
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Get, "/api/ws") => app(&env).upgrade(request, &env).await,
        (Method::Get, "/api/sse") => app(&env).sse(request, &env).await,
        (Method::Get, "/") => Response::from_html(PAGE),
        (Method::Get, "/xws.js") => xws_cloudflare::client_js(),
        _ => Response::error("not found", 404),
    }
}

/// The cron trigger: the object computes the metrics, stores them as the
/// latest and publishes them to WebSocket peers and SSE listeners.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match run_job(&env).await {
        Ok(reply) => worker::console_log!("metrics published: {reply}"),
        Err(error) => worker::console_error!("publishing metrics failed: {error}"),
    }
}

async fn run_job(env: &Env) -> worker::Result<String> {
    let mut init = RequestInit::new();
    init.with_method(Method::Post);
    let url = format!("https://{OBJECT_NAME}.internal{PUBLISH_ROUTE}");
    let request = Request::new_with_init(&url, &init)?;
    let mut response = app(env).forward(request, env, OBJECT_NAME).await?;
    let body = response.text().await?;
    if response.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "the object answered {}: {body}",
            response.status_code()
        )));
    }
    Ok(body)
}
