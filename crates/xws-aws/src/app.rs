//! [`Xws`]: one handler as the WebSocket API's Lambda function.
//!
//! Each API Gateway event becomes one step of the core's [`Session`]
//! (`$connect` → `upgrade` + `open`, `$default` → a message,
//! `$disconnect` → `close`), rebuilt per invocation from the connection's
//! item; the rules around the hooks (size, rate, the app ping, errors and
//! panics, what to persist) are the session's. This file loads and stores
//! the item and performs what the hooks queued.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use xws::{
    CloseCode, CloseFrame, Error, Handler, Hub, Limits, Peer, PeerId, Reject, RequestInfo, Upgrade,
    adapter::{
        PeerPolicy, PeerSnapshot, RateLimiter, Session, SessionConfig, decide_upgrade, new_peer,
        restore_peer, snapshot,
    },
    http::HeaderMap,
};

use crate::{
    Aws, AwsError, ConnectionItem,
    event::{self, response},
    now_ms,
    pending::{DELIVER_PENDING, DeliverPending, PendingOp},
    registry::{TOTAL_SLOT, network_slot},
    transport::{Op, OpQueue},
};

/// Runs `xws` as the WebSocket API's Lambda function until the runtime
/// stops it.
///
/// ```no_run
/// # struct Chat; impl xws::Handler for Chat { type Context = (); }
/// # async fn run() -> Result<(), xws_aws::lambda_runtime::Error> {
/// let xws = xws_aws::Xws::from_env(Chat).await?;
/// xws_aws::serve(xws).await
/// # }
/// ```
///
/// With `XWS_METRICS=emf` (or `log`), what the invocation recorded in
/// [`xws::metrics`] is written at its end ([`MetricsOutput`](crate::MetricsOutput)).
pub async fn serve<H: Handler>(xws: Xws<H>) -> Result<(), lambda_runtime::Error> {
    let xws = Arc::new(xws);
    let metrics = Arc::new(crate::MetricsOutput::from_env());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let xws = xws.clone();
        let metrics = metrics.clone();
        async move {
            let answer = xws.invoke(event.payload).await;
            metrics.flush();
            answer
        }
    }))
    .await
}

/// A handler served as the WebSocket API's Lambda function, with its AWS
/// backend; [`serve`] runs it, [`Xws::invoke`] handles one event.
pub struct Xws<H: Handler> {
    handler: Arc<H>,
    aws: Arc<Aws>,
}

/// Where the invocation is: sends during `$connect` cannot be posted yet.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connect,
    Open,
}

/// What one invocation knows about its connection.
struct Connection<'a> {
    id: &'a str,
    endpoint: &'a str,
    since_ms: i64,
}

impl<H: Handler> Xws<H> {
    /// Serves `handler` through `aws`.
    ///
    /// A handler whose [`Handler::NEEDS`] API Gateway cannot give (binary
    /// messages, SSE; see `adapters-matrix.md`) does not compile.
    pub fn new(handler: H, aws: Arc<Aws>) -> Self {
        const { xws::caps::check::<xws::caps::AwsApiGateway, H>() };
        Self {
            handler: Arc::new(handler),
            aws,
        }
    }

    /// Serves `handler` through the backend [`Aws::from_env`] configures.
    pub async fn from_env(handler: H) -> Result<Self, AwsError> {
        Ok(Self::new(handler, Arc::new(Aws::from_env().await?)))
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The AWS backend.
    pub fn aws(&self) -> &Arc<Aws> {
        &self.aws
    }

    /// The hub: publish, broadcast and send from outside a connection
    /// ([`Aws::hub`]).
    pub fn hub(&self) -> Result<Hub, AwsError> {
        self.aws.hub()
    }

    /// Handles one Lambda event: an API Gateway WebSocket event or the
    /// adapter's own [`DeliverPending`].
    pub async fn invoke(&self, payload: Value) -> Result<Value, lambda_runtime::Error> {
        if let Some(deliver) = payload.get(DELIVER_PENDING) {
            let deliver: DeliverPending = serde_json::from_value(deliver.clone())?;
            self.aws.deliver_pending(&deliver, true).await?;
            return Ok(Value::Null);
        }
        let event: ApiGatewayWebsocketProxyRequest = serde_json::from_value(payload)?;
        let id = event::connection_id(&event)?;
        let endpoint = self
            .aws
            .config
            .endpoint
            .clone()
            .or_else(|| event::endpoint(&event))
            .ok_or(AwsError::NoEndpoint {
                context: " (the event has no domainName/stage)",
            })?;
        let since_ms = match event.request_context.connected_at {
            0 => now_ms(),
            at => at,
        };
        let connection = Connection {
            id: &id,
            endpoint: &endpoint,
            since_ms,
        };
        let kind = event.request_context.event_type.as_deref().unwrap_or("");
        let answer = match kind {
            "CONNECT" => self.connect(&event, &connection).await?,
            "MESSAGE" => self.message(&event, &connection).await?,
            "DISCONNECT" => self.disconnect(&event, &connection).await?,
            other => {
                return Err(
                    Error::malformed("API Gateway event", format!("eventType {other:?}")).into(),
                );
            }
        };
        Ok(serde_json::to_value(answer)?)
    }

    fn policy(&self) -> Arc<dyn PeerPolicy<H::Context>> {
        self.handler.clone()
    }

    fn session_config(&self) -> SessionConfig {
        SessionConfig {
            target: "aws",
            // API Gateway closes a connection that sends a binary frame.
            binary_as_text: true,
            ..SessionConfig::from(&self.aws.config.limits)
        }
    }

    /// `$connect`: `upgrade`, then `open`. The item is stored with what
    /// `open` sent as pending, delivered once API Gateway opened the
    /// socket. An `open` that fails closes with 1011 as everywhere: the
    /// connection is accepted and the close follows as a pending close
    /// notice (refusing it would answer the client's upgrade with an
    /// HTTP status instead).
    async fn connect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection: &Connection<'_>,
    ) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
        let request = event::request_info(event);
        if !self.aws.config.origins.allows(request.origin()) {
            tracing::info!(origin = ?request.origin(), "refused a connection from a disallowed origin");
            return Ok(response(403, "origin not allowed", HeaderMap::new()));
        }
        let slots = match self.admit(&request).await? {
            Ok(slots) => slots,
            Err(reject) => return Ok(refusal(reject)),
        };
        let accept = match decide_upgrade(&*self.handler, &request).await {
            Upgrade::Reject(reject) => {
                tracing::debug!(status = %reject.status, "upgrade rejected");
                self.aws.registry.release_slots(&slots).await;
                return Ok(refusal(reject));
            }
            Upgrade::Accept(accept) => accept,
        };
        let queue = OpQueue::default();
        let peer = new_peer(
            PeerId::from(connection.id),
            request,
            accept.context,
            Box::new(queue.clone()),
            self.policy(),
            self.aws.config.limits.max_topics_per_peer,
        );
        crate::stream_peer::attach(&self.aws, &peer, &queue, connection.since_ms);
        let mut session = Session::new(
            self.handler.clone(),
            peer,
            self.session_config(),
            clock_ms(),
        );
        // The item is written whole below, changed or not.
        let _ = session.open().await;
        let ops = queue.drain();
        let pending: Vec<PendingOp> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Send(message) => Some(PendingOp::from_message(message.clone())),
                Op::Close(frame) => Some(PendingOp::Close {
                    frame: frame.clone(),
                }),
                _ => None,
            })
            .collect();
        let item = ConnectionItem {
            id: connection.id.to_owned(),
            peer: encode("peer", &snapshot(session.peer()))?,
            limiter: session
                .limiter()
                .map(|limiter| encode("rate limiter", limiter))
                .transpose()?,
            since_ms: connection.since_ms,
            pending: (!pending.is_empty())
                .then(|| encode("pending", &pending))
                .transpose()?,
            slots,
        };
        if let Err(error) = self.aws.registry.put_connection(&item).await {
            self.aws.registry.release_slots(&item.slots).await;
            return Err(error.into());
        }
        self.apply(ops, connection, Phase::Connect).await?;
        if !pending.is_empty() {
            let deliver = DeliverPending {
                connection_id: connection.id.to_owned(),
                endpoint: connection.endpoint.to_owned(),
            };
            self.aws.invoke_deliver(&deliver).await?;
        }
        let mut headers = accept.headers;
        if let Some(protocol) = accept.protocol.as_deref().and_then(|p| p.parse().ok()) {
            headers.insert(xws::http::header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
        Ok(response(200, "", headers))
    }

    /// Takes the new connection's slots in the connection counts: 503
    /// when the total is full, 429 when its client's network is (IPv6 by
    /// /64), 500 when a per-IP limit is set and the event has no source
    /// address. A full count is recounted first, in case lost
    /// `$disconnect`s left it too high (see [`crate::registry`]).
    async fn admit(&self, request: &RequestInfo) -> Result<Result<Vec<String>, Reject>, AwsError> {
        let limits = &self.aws.config.limits;
        // Each count with its limit and its refusal.
        let mut wanted: Vec<(String, usize, Refusal)> = Vec::new();
        if limits.max_connections != usize::MAX {
            wanted.push((
                TOTAL_SLOT.to_owned(),
                limits.max_connections,
                Reject::server_full,
            ));
        }
        if let Some(max) = limits.max_connections_per_ip {
            let Some(addr) = request.remote_addr else {
                tracing::error!(
                    "XWS_MAX_CONNECTIONS_PER_IP is set but the event has no sourceIp; refusing with 500"
                );
                return Ok(Err(Reject::new(
                    xws::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "server misconfigured: the client's address is unknown",
                )));
            };
            let network = Limits::network_of(addr.ip(), Limits::DEFAULT_IPV6_PREFIX_LEN);
            wanted.push((network_slot(network), max, Reject::too_many_from_address));
        }
        let registry = &self.aws.registry;
        let mut taken = Vec::new();
        for (slot, max, refused) in wanted {
            let took = match registry.take_slot(&slot, max).await {
                Ok(true) => Ok(true),
                Ok(false) => match registry.recount(&slot, now_ms()).await {
                    Ok(true) => registry.take_slot(&slot, max).await,
                    other => other.map(|_| false),
                },
                Err(error) => Err(error),
            };
            match took {
                Ok(true) => taken.push(slot),
                Ok(false) => {
                    tracing::info!(slot, max, "connection limit reached; $connect refused");
                    registry.release_slots(&taken).await;
                    return Ok(Err(refused()));
                }
                Err(error) => {
                    registry.release_slots(&taken).await;
                    return Err(error);
                }
            }
        }
        Ok(Ok(taken))
    }

    /// The peer and its rate limiter as stored; a connection stored before
    /// a limit was set starts with a full bucket.
    fn resume(&self, item: &ConnectionItem, queue: &OpQueue) -> Result<Session<H>, AwsError> {
        let malformed = |what: &str, e: serde_json::Error| AwsError::MalformedItem {
            key: format!("conn/{}", item.id),
            reason: format!("{what}: {e}"),
        };
        let snapshot: PeerSnapshot<H::Context> =
            serde_json::from_str(&item.peer).map_err(|e| malformed("peer", e))?;
        let peer: Peer<H::Context> = restore_peer(
            snapshot,
            Box::new(queue.clone()),
            self.policy(),
            self.aws.config.limits.max_topics_per_peer,
        );
        crate::stream_peer::attach(&self.aws, &peer, queue, item.since_ms);
        let config = self.session_config();
        let limiter = match &item.limiter {
            Some(json) => Some(serde_json::from_str(json).map_err(|e| malformed("limiter", e))?),
            None => config.rate.map(|rate| RateLimiter::new(rate, clock_ms())),
        };
        Ok(Session::resume(self.handler.clone(), peer, config, limiter))
    }

    /// `$default`: one message through the session, then at most one
    /// write: the peer if it changed and the rate limiter's new state, in
    /// one `UpdateItem`.
    async fn message(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection: &Connection<'_>,
    ) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
        let Some(item) = self.aws.registry.get_connection(connection.id).await? else {
            tracing::warn!(
                connection = connection.id,
                "message from an unknown connection"
            );
            return Ok(response(410, "unknown connection", HeaderMap::new()));
        };
        if item.pending.is_some() {
            let deliver = DeliverPending {
                connection_id: connection.id.to_owned(),
                endpoint: connection.endpoint.to_owned(),
            };
            self.aws.deliver_pending(&deliver, false).await?;
        }
        let queue = OpQueue::default();
        let mut session = self.resume(&item, &queue)?;
        let message = event::message(event)?;
        let outcome = session.message(message, clock_ms()).await;
        self.apply(queue.drain(), connection, Phase::Open).await?;
        if outcome.closed.is_some() {
            // Closing: `$disconnect` removes the item.
            return Ok(response(200, "", HeaderMap::new()));
        }
        if let Err(error) = self.save(&session, &item, outcome.persist).await {
            // A state that cannot be stored ends the peer, as on every
            // adapter.
            let _ = session.fail(error.into()).await;
            self.apply(queue.drain(), connection, Phase::Open).await?;
        }
        Ok(response(200, "", HeaderMap::new()))
    }

    /// Stores what changed of the session's peer and rate limiter.
    async fn save(
        &self,
        session: &Session<H>,
        item: &ConnectionItem,
        peer_changed: bool,
    ) -> Result<(), AwsError> {
        let peer = peer_changed
            .then(|| encode("peer", &snapshot(session.peer())))
            .transpose()?;
        let limiter = session
            .limiter()
            .map(|limiter| encode("rate limiter", limiter))
            .transpose()?
            .filter(|json| item.limiter.as_ref() != Some(json));
        self.aws
            .registry
            .save_state(&item.id, peer.as_deref(), limiter.as_deref())
            .await
    }

    /// `$disconnect`: the item is removed, then the `close` hook runs and
    /// the peer leaves its topics.
    async fn disconnect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection: &Connection<'_>,
    ) -> Result<ApiGatewayProxyResponse, lambda_runtime::Error> {
        let Some(item) = self.aws.registry.remove_connection(connection.id).await? else {
            return Ok(response(200, "", HeaderMap::new()));
        };
        self.aws.registry.release_slots(&item.slots).await;
        let queue = OpQueue::default();
        let mut session = self.resume(&item, &queue)?;
        let context = &event.request_context;
        let code = context
            .disconnect_status_code
            .and_then(|c| u16::try_from(c).ok())
            .map_or(CloseCode::NO_STATUS, CloseCode::from);
        let frame = CloseFrame::new(code, context.disconnect_reason.clone().unwrap_or_default());
        session.close(frame).await;
        self.apply(queue.drain(), connection, Phase::Open).await?;
        for topic in session.peer().topics() {
            self.aws
                .registry
                .unsubscribe(topic.as_str(), connection.id)
                .await?;
            // A closed connection leaves the presence it was in.
            if let Err(error) = self
                .aws
                .leave_presence(connection.endpoint, connection.id, &topic)
                .await
            {
                tracing::warn!(%topic, %error, "presence leave failed");
            }
        }
        Ok(response(200, "", HeaderMap::new()))
    }

    /// Performs a hook's operations in order. During `$connect`, sends and
    /// close were already stored as pending.
    async fn apply(
        &self,
        ops: Vec<Op>,
        connection: &Connection<'_>,
        phase: Phase,
    ) -> Result<(), AwsError> {
        let (aws, id, endpoint) = (&self.aws, connection.id, connection.endpoint);
        for op in ops {
            match op {
                Op::Subscribe(topic) => {
                    aws.registry
                        .subscribe(topic.as_str(), id, connection.since_ms)
                        .await?
                }
                Op::Unsubscribe(topic) => {
                    aws.registry.unsubscribe(topic.as_str(), id).await?;
                    if let Err(error) = aws.leave_presence(endpoint, id, &topic).await {
                        tracing::warn!(%topic, %error, "presence leave failed");
                    }
                }
                Op::Publish(topic, message) => {
                    if let Err(error) = aws.publish(endpoint, &topic, &message, Some(id)).await {
                        tracing::warn!(%error, %topic, "publish failed");
                    }
                }
                Op::PublishKept(topic, message) => {
                    if let Err(error) = aws.publish_kept(endpoint, &topic, &message, Some(id)).await
                    {
                        tracing::warn!(%error, %topic, "publish failed");
                    }
                }
                Op::Announce(event) => {
                    if let Err(error) = aws.announce(endpoint, &event).await {
                        tracing::warn!(%error, topic = %event.topic, "presence event failed");
                    }
                }
                Op::Send(_) | Op::Close(_) | Op::Live(..) if phase == Phase::Connect => {}
                Op::Live(topic, recovery) => {
                    if let Err(error) = aws.go_live(endpoint, id, &topic, *recovery).await {
                        tracing::warn!(%error, %topic, "subscription could not start");
                    }
                }
                Op::Send(message) => {
                    aws.management.post(endpoint, id, &message).await?;
                }
                Op::Close(frame) => {
                    aws.management.close(endpoint, id, &frame).await?;
                }
            }
        }
        Ok(())
    }
}

/// How a full count refuses a connection.
type Refusal = fn() -> Reject;

/// `$connect`'s answer to a refused connection.
fn refusal(reject: Reject) -> ApiGatewayProxyResponse {
    response(reject.status.as_u16(), &reject.body, reject.headers)
}

/// The rate limiter's clock: wall-clock milliseconds, the one clock every
/// invocation of a connection shares.
fn clock_ms() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0)
}

fn encode(what: &'static str, value: &impl serde::Serialize) -> Result<String, AwsError> {
    serde_json::to_string(value).map_err(|source| AwsError::Encode { what, source })
}
