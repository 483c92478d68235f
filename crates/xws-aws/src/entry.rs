//! The Lambda entry: `$connect` → `upgrade` + `open`, `$default` → `message`,
//! `$disconnect` → `close`.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use std::sync::Arc;
use xws::{
    CloseCode, CloseFrame, Error, Handler, Peer, PeerId, Upgrade,
    adapter::{PeerSnapshot, SubscribePolicy},
    http::HeaderMap,
};

use crate::{
    Aws, AwsError, ConnectionItem,
    event::{self, response},
    fanout::fan_out,
    now_ms,
    pending::{DELIVER_PENDING, DeliverPending, PendingOp},
    transport::{Op, OpQueue},
};

/// Runs `handler` as the WebSocket API's Lambda function, configured from
/// the environment ([`crate::AwsConfig::from_env`]).
pub async fn run<H: Handler>(handler: H) -> Result<(), lambda_runtime::Error> {
    let app = Arc::new(App::new(handler, Arc::new(Aws::from_env().await?)));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let app = app.clone();
        async move { app.invoke(event.payload).await }
    }))
    .await
}

/// A handler bound to its AWS backend; [`App::invoke`] handles one event.
pub struct App<H: Handler> {
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

impl<H: Handler> App<H> {
    /// Binds `handler` to `aws`.
    pub fn new(handler: H, aws: Arc<Aws>) -> Self {
        Self {
            handler: Arc::new(handler),
            aws,
        }
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
            .ok_or_else(|| AwsError::Config("no domainName/stage in the event".into()))?;
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

    fn policy(&self) -> Arc<dyn SubscribePolicy<H::Context>> {
        self.handler.clone()
    }

    async fn connect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection: &Connection<'_>,
    ) -> Result<aws_lambda_events::apigw::ApiGatewayProxyResponse, lambda_runtime::Error> {
        let request = event::request_info(event);
        let accept = match self.handler.upgrade(&request).await {
            Upgrade::Reject(reject) => {
                tracing::debug!(status = %reject.status, "upgrade rejected");
                return Ok(response(
                    reject.status.as_u16(),
                    &reject.body,
                    reject.headers,
                ));
            }
            Upgrade::Accept(accept) => accept,
        };
        let queue = OpQueue::default();
        let peer = xws::adapter::new_peer(
            PeerId::from(connection.id),
            request,
            accept.context,
            Box::new(queue.clone()),
            self.policy(),
        );
        if let Err(error) = self.handler.open(&peer).await {
            let error = Error::Handler(error);
            tracing::warn!(%error, "open hook failed; connection refused");
            self.handler.error(&peer, &error).await;
            return Ok(response(500, "open failed", HeaderMap::new()));
        }
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
            peer: serde_json::to_string(&xws::adapter::snapshot(&peer))?,
            since_ms: connection.since_ms,
            pending: (!pending.is_empty())
                .then(|| serde_json::to_string(&pending))
                .transpose()?,
        };
        self.aws.table.put_connection(&item).await?;
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

    async fn restore(
        &self,
        item: &ConnectionItem,
        queue: &OpQueue,
    ) -> Result<Peer<H::Context>, lambda_runtime::Error> {
        let snapshot: PeerSnapshot<H::Context> =
            serde_json::from_str(&item.peer).map_err(|e| AwsError::MalformedItem {
                key: format!("conn/{}", item.id),
                reason: format!("peer: {e}"),
            })?;
        Ok(xws::adapter::restore_peer(
            snapshot,
            Box::new(queue.clone()),
            self.policy(),
        ))
    }

    async fn message(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection: &Connection<'_>,
    ) -> Result<aws_lambda_events::apigw::ApiGatewayProxyResponse, lambda_runtime::Error> {
        let Some(item) = self.aws.table.get_connection(connection.id).await? else {
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
        let peer = self.restore(&item, &queue).await?;
        let message = event::message(event)?;
        if message.len() > self.aws.config.max_message_bytes {
            let error = Error::MessageTooLarge {
                size: message.len(),
                limit: self.aws.config.max_message_bytes,
            };
            self.handler.error(&peer, &error).await;
            peer.close(error.close_code(), error.to_string());
        } else if let Err(error) = self.handler.message(&peer, message).await {
            let error = Error::Handler(error);
            tracing::warn!(%error, "message hook failed; closing");
            self.handler.error(&peer, &error).await;
            peer.close(CloseCode::INTERNAL_ERROR, "internal error");
        }
        self.apply(queue.drain(), connection, Phase::Open).await?;
        if xws::adapter::take_changed(&peer) {
            let json = serde_json::to_string(&xws::adapter::snapshot(&peer))?;
            self.aws.table.save_peer(connection.id, &json).await?;
        }
        Ok(response(200, "", HeaderMap::new()))
    }

    async fn disconnect(
        &self,
        event: &ApiGatewayWebsocketProxyRequest,
        connection: &Connection<'_>,
    ) -> Result<aws_lambda_events::apigw::ApiGatewayProxyResponse, lambda_runtime::Error> {
        let Some(item) = self.aws.table.remove_connection(connection.id).await? else {
            return Ok(response(200, "", HeaderMap::new()));
        };
        let queue = OpQueue::default();
        let peer = self.restore(&item, &queue).await?;
        let context = &event.request_context;
        let code = context
            .disconnect_status_code
            .and_then(|c| u16::try_from(c).ok())
            .map_or(CloseCode::NO_STATUS, CloseCode::from);
        let frame = CloseFrame::new(code, context.disconnect_reason.clone().unwrap_or_default());
        self.handler.close(&peer, frame).await;
        self.apply(queue.drain(), connection, Phase::Open).await?;
        for topic in peer.topics() {
            self.aws
                .table
                .unsubscribe(topic.as_str(), connection.id)
                .await?;
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
    ) -> Result<(), lambda_runtime::Error> {
        let (aws, id, endpoint) = (&self.aws, connection.id, connection.endpoint);
        for op in ops {
            match op {
                Op::Subscribe(topic) => {
                    aws.table
                        .subscribe(topic.as_str(), id, connection.since_ms)
                        .await?
                }
                Op::Unsubscribe(topic) => aws.table.unsubscribe(topic.as_str(), id).await?,
                Op::Publish(topic, message) => {
                    let ids = aws.table.subscribers(topic.as_str()).await?;
                    fan_out(aws, endpoint, ids, Some(id), Some(topic.as_str()), &message).await?;
                }
                Op::Send(_) | Op::Close(_) if phase == Phase::Connect => {}
                Op::Send(message) => {
                    aws.gateway.post(endpoint, id, &message).await?;
                }
                Op::Close(_) => {
                    aws.gateway.delete(endpoint, id).await?;
                }
            }
        }
        Ok(())
    }
}
