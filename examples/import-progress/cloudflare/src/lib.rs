//! The xws import-progress example on Cloudflare Workers:
//! `import_progress::ImportHandler`, unchanged, in one Durable Object per
//! user (named by `?user=`), which also runs that user's imports.
//!
//! Routes: WebSocket `/api/ws?user=U`, `POST /api/start-import?user=U`
//! (forwarded to U's object, which stores the [`import_progress::Import`]
//! and drives it with alarms, one batch per alarm), the page at `/` and the
//! browser client at `/xws.js`.
#![cfg(target_arch = "wasm32")]

mod object;

use import_progress::ImportHandler;
use worker::{Context, Env, Method, Request, Response, event};
use xws_cloudflare::{Config, Namespace, Xws};

const PAGE: &str = include_str!("../../static/index.html");

/// The route that starts an import, in the Worker and in the object.
const START_ROUTE: &str = "/api/start-import";

/// The adapter configuration shared by the Worker and the object: each
/// user's connections live in the object named after the user (the
/// `upgrade` hook has refused requests without a valid one).
fn config() -> Config {
    Config::default()
        .with_binding("IMPORTS")
        .with_namespace(Namespace::Query("user".into()))
}

fn app() -> Xws<ImportHandler> {
    Xws::new(ImportHandler, config())
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Get, "/api/ws") => app().upgrade(request, &env).await,
        (Method::Post, START_ROUTE) => {
            let token = xws_cloudflare::query_param(&request, "token")?;
            // The token names the user's object, which checks the rest.
            match per_user::user_from_token(token.as_deref()) {
                Ok(user) => app().forward(request, &env, &user).await,
                Err(error) => json_error(&error.to_string(), error.status().as_u16()),
            }
        }
        (Method::Post, "/api/login") => {
            let user = xws_cloudflare::query_param(&request, "user")?;
            let (status, body) = per_user::login_route(user.as_deref());
            Ok(Response::from_json(&body)?.with_status(status))
        }
        (Method::Get, "/") => Response::from_html(PAGE),
        (Method::Get, "/xws.js") => xws_cloudflare::client_js(),
        _ => Response::error("not found", 404),
    }
}

/// `{"error":…}` with `status`.
fn json_error(error: &str, status: u16) -> worker::Result<Response> {
    Ok(Response::from_json(&serde_json::json!({ "error": error }))?.with_status(status))
}
