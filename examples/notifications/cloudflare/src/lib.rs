//! The xws notifications example on Cloudflare Workers:
//! `notifications::NotificationsHandler`, unchanged, in one Durable Object
//! per user (named by `?user=`), over a [`notifications::NotificationStore`]
//! in that object's storage ([`ObjectStore`]).
//!
//! Routes: WebSocket `/api/ws?user=U`; `POST /api/notify?user=U`,
//! `GET /api/notifications?user=U` and `POST /api/mark-read?user=U&id=ID`,
//! each forwarded to U's object; the page at `/` and the browser client at
//! `/xws.js`. With the `XWS_DEBUG` var set to `1`, `GET /api/__contract`
//! runs `notifications::store::contract::check` on an object's storage.
#![cfg(target_arch = "wasm32")]

mod object;
mod routes;
mod store;

use notifications::{MemoryStore, NotificationsHandler};
use worker::{Context, Env, Method, Request, Response, event};
use xws_cloudflare::{Config, Namespace, Xws};

pub use store::ObjectStore;

const PAGE: &str = include_str!("../../static/index.html");

/// The object the store contract runs in; no user id can name it.
const CONTRACT_OBJECT: &str = "contract:check";

/// The adapter configuration shared by the Worker and the object: each
/// user's connections live in the object named after the user (the
/// `upgrade` hook has refused requests without a valid one).
fn config() -> Config {
    Config::default()
        .with_binding("NOTIFICATIONS")
        .with_namespace(Namespace::Query("user".into()))
}

/// The Worker runs only the handler's `upgrade` hook, which reads no
/// notifications, so its handler has an (unused) memory store; the object's
/// handler has the object's storage. Both have the same context type, which
/// is what travels from the Worker to the object.
fn app() -> Xws<NotificationsHandler<MemoryStore>> {
    Xws::new(NotificationsHandler::default(), config())
}

#[event(fetch)]
async fn fetch(request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    match (request.method(), request.path().as_str()) {
        (Method::Get, "/api/ws") => app().upgrade(request, &env).await,
        (Method::Post, routes::NOTIFY)
        | (Method::Get, routes::LIST)
        | (Method::Post, routes::MARK_READ) => {
            // The token's user names the object; the object checks the rest.
            let token = xws_cloudflare::query_param(&request, "token")?;
            match per_user::user_from_token(token.as_deref()) {
                Ok(user) => app().forward(request, &env, &user).await,
                Err(error) => routes::json_error(&error.to_string(), error.status().as_u16()),
            }
        }
        (Method::Post, "/api/login") => {
            let user = xws_cloudflare::query_param(&request, "user")?;
            let (status, body) = per_user::login_route(user.as_deref());
            Ok(Response::from_json(&body)?.with_status(status))
        }
        (Method::Get, routes::CONTRACT) if debug(&env) => {
            app().forward(request, &env, CONTRACT_OBJECT).await
        }
        (Method::Get, "/") => Response::from_html(PAGE),
        (Method::Get, "/xws.js") => xws_cloudflare::client_js(),
        _ => Response::error("not found", 404),
    }
}

fn debug(env: &Env) -> bool {
    env.var("XWS_DEBUG").is_ok_and(|v| v.to_string() == "1")
}
