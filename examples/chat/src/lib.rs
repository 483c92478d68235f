//! The xws chat: one portable handler, built for every target.
//!
//! The handler ([`ChatHandler`]) knows nothing of the runtime; the Tokio
//! binary (`src/main.rs`), the Cloudflare Worker and the AWS Lambda build
//! host it unchanged. The wire protocol is in [`protocol`].

pub mod history;
pub mod protocol;
#[cfg(feature = "tokio")]
pub mod server;

use serde_json::Value;
use xws::caps::{Capability, Needs};
use xws::stream::{Position, SubscribeOptions};
use xws::{Error, Handler, HookResult, Hub, Message, Peer, Reject, RequestInfo, Topic, Upgrade};

use protocol::{
    BroadcastReply, BroadcastRequest, ClientMessage, PresenceMember, RoomId, ServerMessage,
};

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

    async fn handle(&self, peer: &Peer<ChatContext>, command: ClientMessage) -> Result<(), Error> {
        match command {
            ClientMessage::JoinRoom {
                room_id,
                since,
                presence,
                latest,
            } => {
                let options = SubscribeOptions::new()
                    .since(since)
                    .latest(latest)
                    .presence_events(presence);
                join(peer, room_id, options).await
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
                // Stale a second later: never kept, never replayed.
                peer.publish_ephemeral(typing.topic(), Message::json(&typing)?)
            }
            ClientMessage::History { room_id, limit } => history(peer, room_id, limit).await,
            ClientMessage::Presence { room_id } => {
                let members = peer
                    .presence(room_id.topic())
                    .await?
                    .into_iter()
                    .map(|member| PresenceMember {
                        id: member.id.to_string(),
                        user: history::member_user(&member.info),
                    })
                    .collect();
                peer.send_json(&ServerMessage::Presence { room_id, members })
            }
            ClientMessage::Ping => peer.send_json(&ServerMessage::Pong),
        }
    }
}

/// `join-room`: subscribes (recovering from `since` if given), answers
/// `joined` with the room's position, then the missed messages follow.
async fn join(
    peer: &Peer<ChatContext>,
    room_id: RoomId,
    options: SubscribeOptions,
) -> Result<(), Error> {
    let topic = room_id.topic();
    let user = peer.context().user.clone();
    let since: Option<Position> = options.since.clone();
    let options = options.info(history::member_info(&room_id, user.as_deref()));
    match peer.subscribe_with(&topic, options).await {
        Ok(subscription) => {
            let position = subscription.position();
            peer.send_json(&ServerMessage::Joined {
                room_id,
                offset: position.map(|p| p.offset),
                epoch: position.map(|p| p.epoch.clone()),
                recovered: since.and(subscription.recovered()),
            })?;
            // The missed messages, then live ones.
            subscription.start();
            Ok(())
        }
        // A target without streams: a plain room, and nothing recovered.
        Err(Error::Unsupported { .. }) => {
            peer.subscribe(&topic)?;
            peer.send_json(&ServerMessage::Joined {
                room_id,
                offset: None,
                epoch: None,
                recovered: since.map(|_| false),
            })
        }
        Err(error) => Err(error),
    }
}

/// `history`: the room's last `limit` messages, oldest first.
async fn history(
    peer: &Peer<ChatContext>,
    room_id: RoomId,
    limit: Option<usize>,
) -> Result<(), Error> {
    let page = peer
        .history(room_id.topic(), limit.unwrap_or(usize::MAX))
        .await?;
    let messages = page
        .publications
        .iter()
        .filter_map(|publication| {
            let message = publication.to_message();
            serde_json::from_str::<Value>(message.text().ok()?).ok()
        })
        .collect();
    peer.send_json(&ServerMessage::History {
        room_id,
        messages,
        offset: page.position.offset,
        epoch: page.position.epoch,
    })
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
            Ok(Some(command)) => match self.handle(peer, command).await {
                Ok(()) => {}
                // Asked of a target without streams: the client's answer.
                Err(error @ Error::Unsupported { .. }) => {
                    peer.send_json(&ServerMessage::Error {
                        message: error.to_string(),
                    })?
                }
                Err(error) => return Err(error.into()),
            },
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
