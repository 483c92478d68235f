//! The xws chat: one portable handler, built for every target.
//!
//! The handler ([`ChatHandler`]) knows nothing of the runtime; the Tokio
//! binary (`src/main.rs`), the Cloudflare Worker and the AWS Lambda build
//! host it unchanged. The wire protocol is in [`protocol`].

pub mod protocol;
#[cfg(feature = "tokio")]
pub mod server;

use xws::caps::{Capability, Needs};
use xws::{Error, Handler, HookResult, Hub, Message, Peer, Reject, RequestInfo, Topic, Upgrade};

use protocol::{BroadcastReply, BroadcastRequest, ClientMessage, RoomId, ServerMessage};

/// Longest user name kept from `?user=`, in characters.
pub const MAX_USER_NAME: usize = 64;

/// What the chat keeps per peer; it survives hibernation and invocations.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatContext {
    /// The name given in `?user=`, if any.
    pub user: Option<String>,
}

/// The chat handler.
#[derive(Clone, Debug, Default)]
pub struct ChatHandler {
    token: Option<String>,
}

impl ChatHandler {
    /// A chat that requires `?token=` to equal `token` when it is `Some`.
    pub fn new(token: Option<String>) -> Self {
        Self {
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// A chat configured from the `CHAT_TOKEN` environment variable.
    pub fn from_env() -> Self {
        Self::new(std::env::var("CHAT_TOKEN").ok())
    }

    /// Whether `token` (the `?token=` of a request) lets a client in:
    /// always when no token is configured.
    pub fn accepts(&self, token: Option<&str>) -> bool {
        self.token
            .as_deref()
            .is_none_or(|expected| token == Some(expected))
    }

    fn handle(&self, peer: &Peer<ChatContext>, command: ClientMessage) -> Result<(), Error> {
        match command {
            ClientMessage::JoinRoom { room_id } => {
                peer.subscribe(room_id.topic())?;
                peer.send_json(&ServerMessage::Joined { room_id })
            }
            ClientMessage::LeaveRoom { room_id } => {
                peer.unsubscribe(room_id.topic())?;
                peer.send_json(&ServerMessage::Left { room_id })
            }
            ClientMessage::SendToRoom { room_id, text } => {
                let user = peer.context().user.clone();
                let message = ServerMessage::Message {
                    topic: room_id.topic(),
                    room_id,
                    from: peer.id().to_string(),
                    user,
                    text,
                    timestamp: now_millis(),
                };
                peer.publish_json(message.topic(), &message)
            }
            ClientMessage::Typing { room_id } => {
                let typing = ServerMessage::UserTyping {
                    topic: room_id.topic(),
                    room_id,
                    user_id: peer.id().to_string(),
                };
                peer.publish_json(typing.topic(), &typing)
            }
            ClientMessage::Ping => peer.send_json(&ServerMessage::Pong),
        }
    }
}

impl Handler for ChatHandler {
    type Context = ChatContext;

    /// Rooms need topics, and `POST /api/broadcast` publishes from outside a
    /// connection; SSE and binary echo are extras a target may lack.
    const NEEDS: Needs = Needs::of(&[
        Capability::WebSocket,
        Capability::PubSubInstance,
        Capability::PublishFromOutside,
    ]);

    async fn upgrade(&self, request: &RequestInfo) -> Upgrade<ChatContext> {
        if !self.accepts(request.query_param("token").as_deref()) {
            return Reject::unauthorized("missing or wrong token").into();
        }
        let user = request
            .query_param("user")
            .map(|name| name.chars().take(MAX_USER_NAME).collect::<String>())
            .filter(|name| !name.is_empty());
        Upgrade::accept(ChatContext { user })
    }

    async fn open(&self, peer: &Peer<ChatContext>) -> HookResult {
        peer.send_json(&ServerMessage::Welcome {
            id: peer.id().to_string(),
        })?;
        Ok(())
    }

    async fn message(&self, peer: &Peer<ChatContext>, message: Message) -> HookResult {
        let text = match message {
            Message::Binary(_) => return Ok(peer.send(message)?),
            Message::Text(ref text) => text.as_str(),
        };
        match protocol::parse(text) {
            Ok(Some(command)) => self.handle(peer, command)?,
            Ok(None) => peer.send_json(&ServerMessage::Echo {
                data: serde_json::from_str(text)?,
            })?,
            Err(problem) => peer.send_json(&ServerMessage::Error { message: problem })?,
        }
        Ok(())
    }

    async fn error(&self, peer: &Peer<ChatContext>, error: &Error) {
        if matches!(error, Error::RateLimited | Error::SubscribeRefused(_)) {
            let _ = peer.send_json(&ServerMessage::Error {
                message: error.to_string(),
            });
        }
    }

    /// Peers and SSE streams may only join rooms: `user:` and other topics
    /// are for the server to publish on.
    fn authorize_subscribe(&self, _peer: &Peer<ChatContext>, topic: &Topic) -> bool {
        topic.as_str().starts_with(RoomId::TOPIC_PREFIX)
    }
}

/// `POST /api/broadcast`: sends `{"type":"broadcast",…}` to every peer.
/// Every adapter's HTTP route calls this.
pub async fn broadcast(hub: &Hub, request: BroadcastRequest) -> Result<BroadcastReply, Error> {
    let delivery = hub
        .broadcast_json(&ServerMessage::Broadcast {
            event: request.event,
            data: request.data,
        })
        .await?;
    Ok(BroadcastReply {
        success: true,
        delivered: delivery.delivered,
    })
}

/// Milliseconds since the Unix epoch; `web-time` makes this work on wasm32,
/// where `std::time::SystemTime::now` panics.
fn now_millis() -> u64 {
    web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
