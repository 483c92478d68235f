//! Both ends of a [`xws::Hub`] used outside the object (a Worker route, a
//! cron job): [`StubHub`] turns every call into a request to the object's
//! stub, and [`answer`] carries it out in the object, on its registry.

use std::{future::Future, rc::Rc};

use futures_channel::oneshot;
use worker::{Headers, Method, Request, Response, Stub};
use xws::{Delivery, Error, Message, PeerId, Pending, Topic, adapter::HubTransport};

use crate::{
    error::RuntimeError,
    internal_request,
    registry::Registry,
    wire::{HubCommand, HubOp, HubReply, OP_HEADER, Op},
};

/// Publishes through one Durable Object.
#[derive(Clone)]
pub struct StubHub {
    stub: Rc<Stub>,
}

impl StubHub {
    /// A hub for the object behind `stub`.
    pub fn new(stub: Stub) -> Self {
        Self {
            stub: Rc::new(stub),
        }
    }

    /// Starts `work` on the Worker's event loop now, so a caller that drops
    /// the [`Pending`] still publishes.
    fn start<T: 'static>(work: impl Future<Output = Result<T, Error>> + 'static) -> Pending<T> {
        let (done, result) = oneshot::channel();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = done.send(work.await);
        });
        Pending::started(async move {
            result
                .await
                .unwrap_or_else(|_| Err(Error::transport("the hub request was cancelled")))
        })
    }

    async fn call(&self, command: HubCommand, message: Option<Message>) -> Result<HubReply, Error> {
        // The object reads it back with `serde_urlencoded` ([`answer`]).
        let query = serde_urlencoded::to_string(&command)
            .map_err(|e| Error::malformed("hub command", e))?;
        let url = format!("https://xws.internal/hub?{query}");
        let headers = Headers::new();
        headers
            .set(OP_HEADER, Op::Hub.as_str())
            .map_err(stub_error)?;
        let body = message.map(|m| js_sys::Uint8Array::from(&m.bytes()[..]).into());
        let request = internal_request::new(&url, Method::Post, &headers, body.as_ref())
            .map_err(stub_error)?;
        let mut response = self
            .stub
            .fetch_with_request(request)
            .await
            .map_err(stub_error)?;
        if response.status_code() != 200 {
            return Err(RuntimeError::HubRefused {
                op: op_name(command.op),
                status: response.status_code(),
                body: response.text().await.unwrap_or_default(),
            }
            .into());
        }
        // From bytes, as every JSON the adapter reads ([`crate::wire`]).
        let body = response.bytes().await.map_err(stub_error)?;
        serde_json::from_slice(&body).map_err(|e| Error::malformed("hub reply", e))
    }
}

fn stub_error(error: worker::Error) -> Error {
    RuntimeError::Stub(error.to_string()).into()
}

fn op_name(op: HubOp) -> &'static str {
    match op {
        HubOp::Publish => "publish",
        HubOp::Broadcast => "broadcast",
        HubOp::SendTo => "send_to",
        HubOp::Peers => "peers",
    }
}

fn command(
    op: HubOp,
    topic: Option<String>,
    peer: Option<PeerId>,
    message: &Message,
) -> HubCommand {
    HubCommand {
        op,
        topic,
        peer,
        binary: message.is_binary(),
    }
}

impl HubTransport for StubHub {
    fn publish(
        &self,
        topic: Topic,
        message: Message,
        exclude: Option<PeerId>,
    ) -> Pending<Delivery> {
        let hub = self.clone();
        Self::start(async move {
            let cmd = command(HubOp::Publish, Some(topic.to_string()), exclude, &message);
            let reply = hub.call(cmd, Some(message)).await?;
            Ok(Delivery {
                delivered: reply.delivered,
            })
        })
    }

    fn broadcast(&self, message: Message) -> Pending<Delivery> {
        let hub = self.clone();
        Self::start(async move {
            let cmd = command(HubOp::Broadcast, None, None, &message);
            let reply = hub.call(cmd, Some(message)).await?;
            Ok(Delivery {
                delivered: reply.delivered,
            })
        })
    }

    fn send_to(&self, peer: PeerId, message: Message) -> Pending<bool> {
        let hub = self.clone();
        Self::start(async move {
            let cmd = command(HubOp::SendTo, None, Some(peer), &message);
            Ok(hub.call(cmd, Some(message)).await?.sent)
        })
    }

    fn peers(&self) -> Pending<Vec<PeerId>> {
        let hub = self.clone();
        Self::start(async move {
            let cmd = HubCommand {
                op: HubOp::Peers,
                topic: None,
                peer: None,
                binary: false,
            };
            Ok(hub.call(cmd, None).await?.peers)
        })
    }
}

/// In the object: carries out the hub command `request` on `registry`.
pub async fn answer(registry: &Registry, request: &mut Request) -> worker::Result<Response> {
    let url = request.inner().url();
    let query = crate::query::split_url(&url).1.unwrap_or_default();
    let command: HubCommand = serde_urlencoded::from_str(query)
        .map_err(|e| worker::Error::RustError(format!("hub command: {e}")))?;
    let body = request.bytes().await?;
    let message = if command.binary {
        Message::from(body)
    } else {
        match xws::Text::from_utf8(body.into()) {
            Ok(text) => Message::from(text),
            Err(error) => return Response::error(error.to_string(), 400),
        }
    };
    let mut reply = HubReply::default();
    match command.op {
        HubOp::Publish => {
            let Some(topic) = command.topic.as_deref().and_then(|t| Topic::new(t).ok()) else {
                return Response::error("publish needs a valid topic", 400);
            };
            reply.delivered = registry.publish_kept(&topic, message, command.peer.as_ref());
        }
        HubOp::Broadcast => reply.delivered = registry.broadcast(&message),
        HubOp::SendTo => {
            let Some(peer) = &command.peer else {
                return Response::error("send_to needs a peer", 400);
            };
            reply.sent = registry.send_to(peer, &message);
            reply.delivered = usize::from(reply.sent);
        }
        HubOp::Peers => reply.peers = registry.peer_ids(),
    }
    Response::from_json(&reply)
}
