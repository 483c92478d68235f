//! The Worker entry: runs the `upgrade` hook, then forwards accepted
//! WebSockets and SSE streams to the Durable Object of their namespace.

use std::sync::Arc;

use worker::{Env, Method, Request, Response, ResponseBuilder, Stub};
use xws::{CloseFrame, Handler, Hub, PeerId, Reject, Upgrade, adapter::decide_upgrade};

use crate::{
    Config,
    admin::{AdminCommand, Closed, PeerInfo, TopicCount},
    error::to_worker,
    hub::StubHub,
    internal_request,
    wire::{ACCEPT_HEADER, AcceptWire, OP_HEADER, Op, public_headers, request_info},
};

/// A handler served by a Worker, the Cloudflare counterpart of
/// `xws_tokio::Xws`: the Worker's `fetch` hands it upgrades and SSE
/// requests, and gets [`hub`](Self::hub)s from it in `fetch` or
/// `scheduled`. The peers live in the [`Object`](crate::Object) of each
/// namespace. Cheap to build per request.
pub struct Xws<H> {
    handler: H,
    config: Config,
}

impl<H: Handler> Xws<H> {
    /// Serves `handler` with `config`, which must match the object's.
    ///
    /// A handler whose [`Handler::NEEDS`] a Durable Object cannot give (see
    /// `adapters-matrix.md`) does not compile.
    pub fn new(handler: H, config: Config) -> Self {
        const { xws::caps::check::<xws::caps::CloudflareDurableObject, H>() };
        Self { handler, config }
    }

    /// The handler, for routes that share its checks (a token, say).
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Answers a WebSocket upgrade: 426 for a plain request, the handler's
    /// rejection, or the object's `101`.
    pub async fn upgrade(&self, request: Request, env: &Env) -> worker::Result<Response> {
        let is_upgrade = request
            .headers()
            .get("upgrade")?
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if !is_upgrade {
            return ResponseBuilder::new()
                .with_status(426)
                .with_header("upgrade", "websocket")?
                .ok("this route expects a WebSocket upgrade");
        }
        self.forward_op(request, env, Op::Upgrade).await
    }

    /// Opens an SSE stream of the `?topic=` topics; auth runs through the
    /// same `upgrade` hook as WebSockets.
    pub async fn sse(&self, request: Request, env: &Env) -> worker::Result<Response> {
        let answer = self.forward_op(request, env, Op::Sse).await?;
        crate::sse::serve(answer, self.config.sse_keep_alive, &self.config.limits)
    }

    /// A hub publishing to the peers of the object named `namespace`.
    pub fn hub(&self, env: &Env, namespace: &str) -> worker::Result<Hub> {
        #[allow(
            clippy::arc_with_non_send_sync,
            reason = "Workers run on one thread; `xws::Hub` holds an `Arc`"
        )]
        let transport = Arc::new(StubHub::new(self.object(env, namespace)?));
        Ok(Hub::new(transport))
    }

    /// The statistics of the object named `namespace`, as JSON.
    pub async fn stats(&self, env: &Env, namespace: &str) -> worker::Result<Response> {
        let headers = worker::Headers::new();
        headers.set(OP_HEADER, Op::Stats.as_str())?;
        let request =
            internal_request::new("https://xws.internal/stats", Method::Get, &headers, None)?;
        self.object(env, namespace)?
            .fetch_with_request(request)
            .await
    }

    /// The topics of the object named `namespace`, with their subscriber
    /// counts (for a server API).
    pub async fn topics(&self, env: &Env, namespace: &str) -> worker::Result<Vec<TopicCount>> {
        self.admin(env, namespace, &AdminCommand::Topics).await
    }

    /// The WebSocket peers of the object named `namespace`, or those
    /// following `topic`, with their contexts as JSON (for presence, or to
    /// find a user's peers).
    pub async fn peers(
        &self,
        env: &Env,
        namespace: &str,
        topic: Option<&str>,
    ) -> worker::Result<Vec<PeerInfo>> {
        let topic = topic.map(str::to_owned);
        self.admin(env, namespace, &AdminCommand::Peers { topic })
            .await
    }

    /// Closes `peers` of the object named `namespace` with `frame`; returns
    /// how many it held.
    pub async fn disconnect(
        &self,
        env: &Env,
        namespace: &str,
        peers: Vec<PeerId>,
        frame: CloseFrame,
    ) -> worker::Result<usize> {
        let command = AdminCommand::Close { peers, frame };
        let closed: Closed = self.admin(env, namespace, &command).await?;
        Ok(closed.closed)
    }

    async fn admin<T: serde::de::DeserializeOwned>(
        &self,
        env: &Env,
        namespace: &str,
        command: &AdminCommand,
    ) -> worker::Result<T> {
        let headers = worker::Headers::new();
        headers.set(OP_HEADER, Op::Admin.as_str())?;
        headers.set("content-type", "application/json")?;
        let body =
            serde_json::to_string(command).map_err(|e| worker::Error::RustError(e.to_string()))?;
        let request = internal_request::new(
            "https://xws.internal/admin",
            Method::Post,
            &headers,
            Some(&body.into()),
        )?;
        let mut response = self
            .object(env, namespace)?
            .fetch_with_request(request)
            .await?;
        if response.status_code() != 200 {
            let body = response.text().await.unwrap_or_default();
            return Err(worker::Error::RustError(format!(
                "the object refused the admin command ({}): {body}",
                response.status_code()
            )));
        }
        // From bytes, as every JSON the adapter reads ([`crate::wire`]).
        Ok(serde_json::from_slice(&response.bytes().await?)?)
    }

    /// The stub of the object named `namespace` in the configured binding,
    /// for calls the adapter does not wrap.
    pub fn object(&self, env: &Env, namespace: &str) -> worker::Result<Stub> {
        env.durable_object(&self.config.binding)?
            .get_by_name(namespace)
    }

    /// Forwards an app route to the object named `namespace`, which answers
    /// it in its own `fetch` (see [`Object::handles`](crate::Object::handles)):
    /// state that lives in the object (its storage, its alarms) is then
    /// served where it lives. The request's body and public headers travel
    /// along; the adapter's private headers never do.
    pub async fn forward(
        &self,
        request: Request,
        env: &Env,
        namespace: &str,
    ) -> worker::Result<Response> {
        crate::forward::forward(&self.object(env, namespace)?, request).await
    }

    async fn forward_op(&self, request: Request, env: &Env, op: Op) -> worker::Result<Response> {
        let info = request_info(&request).map_err(to_worker)?;
        if !self.config.origins.allows(info.origin()) {
            tracing::info!(origin = ?info.origin(), "refused a connection from a disallowed origin");
            return Response::error("origin not allowed", 403);
        }
        let accept = match decide_upgrade(&self.handler, &info).await {
            Upgrade::Reject(reject) => return rejection(reject),
            Upgrade::Accept(accept) => accept,
        };
        let namespace = accept
            .namespace
            .clone()
            .unwrap_or_else(|| self.config.namespace.resolve(&info));
        let headers = public_headers(&request);
        headers.set(OP_HEADER, op.as_str())?;
        if op == Op::Sse {
            // The object answers with a socket that carries the stream.
            headers.set("upgrade", "websocket")?;
        }
        headers.set(
            ACCEPT_HEADER,
            &AcceptWire::encode(accept).map_err(to_worker)?,
        )?;
        let forwarded =
            internal_request::new(&request.inner().url(), request.method(), &headers, None)?;
        self.object(env, &namespace)?
            .fetch_with_request(forwarded)
            .await
    }
}

pub(crate) fn rejection(reject: Reject) -> worker::Result<Response> {
    let headers: worker::Headers = (&reject.headers).into();
    Ok(Response::error(reject.body, reject.status.as_u16())?.with_headers(headers))
}
