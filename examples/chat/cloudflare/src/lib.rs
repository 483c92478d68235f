//! The xws chat on Cloudflare Workers: `chat::ChatHandler`, unchanged, in
//! one Durable Object that holds every room.
//!
//! Routes: WebSocket `/api/ws`, `POST /api/broadcast`, `GET /api/sse`, the
//! server API under `/api/server/` (with the `CHAT_API_KEY` secret, see
//! [`chat::admin`]), the browser page at `/`, and, when the `XWS_DEBUG` var is `1`, the object's
//! statistics at `/api/__stats` (the hibernation test reads them), lower
//! limits from vars, a message that panics and `/api/__contract`, the
//! stream store contract checked on the object's storage (see [`debug`]). A cron
//! trigger broadcasts `{"type":"broadcast","event":"cron",…}`.
#![cfg(target_arch = "wasm32")]

mod debug;
mod jwks;
mod room;

pub use jwks::WorkerFetcher;

use chat::{ChatHandler, admin, protocol::BroadcastRequest};
use debug::DebugChat;
use worker::{Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent, event};
use xws::{CloseFrame, Hub, OriginPolicy, PeerId};
use xws_cloudflare::{Config, Namespace, Xws};

/// Every room lives in this one object, so a broadcast reaches every peer.
/// To shard, route with `Namespace::Custom` (for example by `?room=`) and
/// publish through the hub of each object.
const OBJECT_NAME: &str = "chat";

/// The debugging route that checks the stream store contract in the object.
const CONTRACT_PATH: &str = "/api/__contract";

/// The adapter configuration shared by the Worker and the object; the
/// `XWS_ALLOWED_ORIGINS` var (comma-separated) sets an Origin allow-list,
/// `XWS_SSE_KEEP_ALIVE_SECS` how often an idle SSE stream gets a
/// keep-alive (15 s by default).
fn config(env: &Env) -> Config {
    let origins = env
        .var("XWS_ALLOWED_ORIGINS")
        .map(|list| OriginPolicy::parse(&list.to_string()))
        .unwrap_or_default();
    let mut config = Config::default();
    if let Some(secs) = env
        .var("XWS_SSE_KEEP_ALIVE_SECS")
        .ok()
        .and_then(|secs| secs.to_string().parse().ok())
    {
        config = config.with_sse_keep_alive(std::time::Duration::from_secs(secs));
    }
    config
        .with_binding("CHAT")
        .with_limits(debug::limits(env))
        .with_namespace(Namespace::Fixed(OBJECT_NAME.into()))
        .with_origins(origins)
        // `XWS_METRICS = "log"` in wrangler.toml's [vars]: the xws metrics
        // as log lines after every event (`npx wrangler tail` shows them).
        .with_metrics_log(env.var("XWS_METRICS").is_ok_and(|v| v.to_string() == "log"))
        // Rooms keep history (in the object's SQLite storage) and presence.
        .with_streams(chat::history::stream_config(retention(env)))
}

/// Each room's history: `CHAT_HISTORY_SIZE` messages for
/// `CHAT_HISTORY_TTL_SECS` (vars), by default 100 for 5 minutes. A var
/// that is not a number is logged and the default kept.
fn retention(env: &Env) -> xws::stream::Retention {
    chat::history::retention_from(|name| env.var(name).ok().map(|v| v.to_string())).unwrap_or_else(
        |error| {
            worker::console_error!("{error}; keeping the default history");
            xws::stream::Retention::new(chat::history::DEFAULT_SIZE, chat::history::DEFAULT_TTL)
        },
    )
}

/// A secret of the Worker (`wrangler secret put NAME`), or a var of that
/// name (`[vars]`, `wrangler dev --var`).
fn setting(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}

/// The handler, configured from the Worker's vars and secrets as the Tokio
/// chat is from its environment: `CHAT_JWKS_URL` (and `CHAT_JWT_AUDIENCE`)
/// for tokens of an identity provider's key set, else `CHAT_JWT_SECRET`
/// (and `CHAT_JWT_AUDIENCE`) for signed tokens, else `CHAT_TOKEN`, else
/// open. The key set is the one this isolate fetched; the Worker entry,
/// which runs the `upgrade` hook, fetches it first ([`entry_app`]), and the
/// object, which never verifies a token, takes it if this isolate has it.
fn handler(env: &Env) -> DebugChat {
    let chat = match jwks::fetched(env) {
        Some(verifier) => ChatHandler::with_jwks(verifier),
        None => ChatHandler::from_settings(
            setting(env, "CHAT_JWT_SECRET").as_deref(),
            setting(env, "CHAT_JWT_AUDIENCE").as_deref(),
            setting(env, "CHAT_TOKEN"),
        ),
    };
    DebugChat::new(chat, debug::enabled(env))
}

fn app(env: &Env) -> Xws<DebugChat> {
    Xws::new(handler(env), config(env))
}

/// [`app`] for the Worker entry: with `CHAT_JWKS_URL`, the key set is
/// fetched first if this isolate has not fetched it yet.
async fn entry_app(env: &Env) -> Result<Xws<DebugChat>, xws_auth::KeyError> {
    jwks::verifier(env).await?;
    Ok(app(env))
}

#[event(fetch)]
async fn fetch(mut request: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let app = match entry_app(&env).await {
        Ok(app) => app,
        Err(error) => {
            worker::console_error!("CHAT_JWKS_URL: {error}");
            return Response::error("the identity provider's keys are unavailable", 503);
        }
    };
    if chat::admin::is_api_path(&request.path()) {
        return server_api(request, &env, &app).await;
    }
    match (request.method(), request.path().as_str()) {
        (Method::Get, "/api/ws") => app.upgrade(request, &env).await,
        (Method::Get, "/api/sse") => app.sse(request, &env).await,
        (Method::Post, "/api/broadcast") => {
            let token = xws_cloudflare::query_param(&request, "token")?;
            if !app.handler().chat().accepts(token.as_deref()).await {
                return Response::error("missing or wrong token", 401);
            }
            // serde_json from bytes, as the Tokio chat reads it:
            // `Request::json` would compile in serde-wasm-bindgen's
            // deserializer for this type.
            let body = request.bytes().await?;
            let Ok(body) = serde_json::from_slice::<BroadcastRequest>(&body) else {
                return Response::error(r#"expected {"event":…,"data":…}"#, 400);
            };
            let hub = app.hub(&env, OBJECT_NAME)?;
            match chat::broadcast(&hub, body).await {
                Ok(reply) => Response::from_json(&reply),
                Err(error) => Response::error(error.to_string(), 502),
            }
        }
        (Method::Get, "/api/__stats") if debug::enabled(&env) => app.stats(&env, OBJECT_NAME).await,
        (Method::Get, CONTRACT_PATH) if debug::enabled(&env) => {
            app.forward(request, &env, OBJECT_NAME).await
        }
        (Method::Get, "/") => Response::from_html(include_str!("../../static/index.html")),
        (Method::Get, "/xws.js") => xws_cloudflare::client_js(),
        _ => Response::error("not found", 404),
    }
}

/// The server API (`/api/server/…`, `CHAT_API_KEY`), as on Tokio: the key
/// is checked before the body is read.
async fn server_api(
    mut request: Request,
    env: &Env,
    app: &Xws<DebugChat>,
) -> worker::Result<Response> {
    let authorization = request.headers().get("authorization")?;
    let key = setting(env, "CHAT_API_KEY");
    let answer = match admin::guards(key.as_deref(), authorization.as_deref()) {
        Err(refused) => refused,
        Ok(()) => {
            let declared = request.headers().get("content-length")?;
            let too_large = |len: usize| len > admin::BODY_LIMIT;
            if declared
                .and_then(|len| len.parse().ok())
                .is_some_and(too_large)
            {
                return Response::error("the body is over 64 KiB", 413);
            }
            let body = request.bytes().await?;
            if too_large(body.len()) {
                return Response::error("the body is over 64 KiB", 413);
            }
            let backend = ServerApi {
                app,
                env,
                hub: app.hub(env, OBJECT_NAME)?,
            };
            let (path, query) = xws_cloudflare::path_and_query(&request);
            let method = match request.method() {
                Method::Get => "GET",
                Method::Post => "POST",
                _ => "other",
            };
            admin::answer(&backend, method, &path, query.as_deref(), &body).await
        }
    };
    Ok(Response::from_json(&answer.body)?.with_status(answer.status))
}

/// The server API over the one object holding every peer.
struct ServerApi<'a> {
    app: &'a Xws<DebugChat>,
    env: &'a Env,
    hub: Hub,
}

fn object_error(error: worker::Error) -> xws::Error {
    xws::Error::transport(format!("the chat object: {error}"))
}

impl admin::Backend for ServerApi<'_> {
    fn hub(&self) -> &Hub {
        &self.hub
    }

    async fn presence(&self, topic: &str) -> Result<Vec<admin::Member>, xws::Error> {
        let peers = self
            .app
            .peers(self.env, OBJECT_NAME, Some(topic))
            .await
            .map_err(object_error)?;
        Ok(peers
            .into_iter()
            .map(|peer| admin::Member {
                user: admin::user_of(&peer.context),
                id: peer.id,
            })
            .collect())
    }

    async fn topics(&self) -> Result<Vec<(String, usize)>, xws::Error> {
        let topics = self
            .app
            .topics(self.env, OBJECT_NAME)
            .await
            .map_err(object_error)?;
        Ok(topics
            .into_iter()
            .map(|t| (t.topic, t.subscribers))
            .collect())
    }

    async fn peers_of(&self, user: &str) -> Result<Vec<PeerId>, xws::Error> {
        let peers = self
            .app
            .peers(self.env, OBJECT_NAME, None)
            .await
            .map_err(object_error)?;
        Ok(peers
            .into_iter()
            .filter(|peer| admin::user_of(&peer.context).as_deref() == Some(user))
            .map(|peer| peer.id)
            .collect())
    }

    async fn disconnect(&self, peers: Vec<PeerId>, frame: CloseFrame) -> Result<usize, xws::Error> {
        self.app
            .disconnect(self.env, OBJECT_NAME, peers, frame)
            .await
            .map_err(object_error)
    }
}

/// The cron trigger (and `/__scheduled` under `wrangler dev --test-scheduled`)
/// reaches peers through the same hub as the HTTP route.
#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let request = BroadcastRequest {
        event: "cron".into(),
        data: serde_json::json!({ "cron": event.cron(), "scheduledTime": event.schedule() }),
    };
    let outcome = match app(&env).hub(&env, OBJECT_NAME) {
        Ok(hub) => chat::broadcast(&hub, request)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(reply) => worker::console_log!("cron broadcast delivered to {}", reply.delivered),
        Err(error) => worker::console_error!("cron broadcast failed: {error}"),
    }
}
