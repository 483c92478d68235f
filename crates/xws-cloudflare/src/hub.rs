//! A [`xws::Hub`] for code outside the object (a Worker route, a cron job):
//! every call becomes a request to the object's stub.

use std::{future::Future, rc::Rc};
use worker::{Headers, Method, Request, RequestInit, Stub, Url};

use futures_channel::oneshot;
use xws::{Delivery, Error, Message, PeerId, Pending, Topic, adapter::HubTransport};

use crate::wire::{HubCommand, HubOp, HubReply, OP_HEADER, Op};

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
        let mut url = Url::parse("https://xws.internal/hub").map_err(Error::transport)?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("op", op_name(command.op));
            if let Some(topic) = &command.topic {
                query.append_pair("topic", topic);
            }
            if let Some(peer) = &command.peer {
                query.append_pair("peer", peer.as_str());
            }
            query.append_pair("binary", if command.binary { "true" } else { "false" });
        }
        let headers = Headers::new();
        headers
            .set(OP_HEADER, Op::Hub.as_str())
            .map_err(|e| Error::transport(e.to_string()))?;
        let body = message.map(|m| js_sys::Uint8Array::from(&m.bytes()[..]).into());
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(body);
        let request = Request::new_with_init(url.as_str(), &init)
            .map_err(|e| Error::transport(e.to_string()))?;
        let mut response = self
            .stub
            .fetch_with_request(request)
            .await
            .map_err(|e| Error::transport(e.to_string()))?;
        if response.status_code() != 200 {
            let text = response.text().await.unwrap_or_default();
            return Err(Error::transport(format!(
                "the Durable Object answered {}: {text}",
                response.status_code()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| Error::malformed("hub reply", e))
    }
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
