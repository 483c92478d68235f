//! The xws chat: one portable handler, built for every target.
//!
//! The handler ([`ChatHandler`]) knows nothing of the runtime; the Tokio
//! binary (`src/main.rs`), the Cloudflare Worker and the AWS Lambda build
//! host it unchanged. The wire protocol is in [`protocol`].
//!
//! Three ways to let clients in: anyone (the default), a shared
//! `CHAT_TOKEN` given as `?token=`, or signed tokens: with
//! `CHAT_JWT_SECRET` set, `?token=` must be an HS256 JWT signed with that
//! secret ([`xws_auth`]); its `sub` becomes the peer's `user`, its optional
//! `topics` claim (patterns such as `room:lobby` or `room:*`) limits the
//! rooms the peer may join, send to and follow over SSE, and a missing,
//! forged or expired token is answered 401 before the upgrade. A peer whose
//! token expires while connected is closed with 3000 "token expired".

pub mod admin;
pub mod history;
pub mod protocol;
#[cfg(feature = "scenarios")]
pub mod scenarios;
#[cfg(feature = "tokio")]
pub mod server;

// The deployment targets chosen by feature (see Cargo.toml): a target that
// cannot run the chat fails the build here, naming the alternative, before
// any adapter code is compiled.
#[cfg(feature = "target-tokio")]
xws::assert_deployable!(xws::caps::Tokio, ChatHandler);
#[cfg(feature = "target-cloudflare")]
xws::assert_deployable!(xws::caps::CloudflareDurableObject, ChatHandler);
#[cfg(feature = "target-aws")]
xws::assert_deployable!(xws::caps::AwsApiGateway, ChatHandler);
#[cfg(feature = "target-vercel")]
xws::assert_deployable!(xws::caps::Vercel, ChatHandler);
#[cfg(feature = "tokio")]
mod server_api;
#[cfg(feature = "tokio")]
mod users;

use serde_json::Value;
use std::sync::Arc;
use xws::caps::{Capability, Needs};
use xws::stream::{Position, SubscribeOptions};
use xws::{
    CloseFrame, Error, Handler, HookResult, Hub, Message, Peer, Reject, RequestInfo, Topic, Upgrade,
};
use xws_auth::{Identity, Verifier};

use protocol::{
    BroadcastReply, BroadcastRequest, ClientMessage, PresenceMember, RoomId, ServerMessage,
};

/// Longest user name kept from `?user=`, in characters.
pub const MAX_USER_NAME: usize = 64;

/// What the chat keeps per peer; it survives hibernation and invocations.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChatContext {
    /// The peer's name: the token's `sub` with `CHAT_JWT_SECRET`, else the
    /// name given in `?user=`, if any.
    pub user: Option<String>,
    /// The verified token (user, allowed rooms, expiry), with `CHAT_JWT_SECRET`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

/// How clients prove they may connect.
#[derive(Clone, Debug, Default)]
enum Access {
    /// Anyone.
    #[default]
    Open,
    /// `?token=` equals this shared token (`CHAT_TOKEN`).
    SharedToken(String),
    /// `?token=` is a JWT this verifier accepts (`CHAT_JWT_SECRET`).
    Jwt(Arc<Verifier>),
    /// `?token=` is a JWT signed by a key of the set at `CHAT_JWKS_URL`.
    Jwks(Arc<dyn KeySet>),
}

/// A [`xws_auth::JwksVerifier`] whatever fetches its keys: reqwest on Tokio
/// and Lambda, `worker::Fetch` on Cloudflare.
trait KeySet: std::fmt::Debug + xws::MaybeSend + xws::MaybeSync {
    fn current(&self) -> Arc<Verifier>;
    fn authenticate<'a>(
        &'a self,
        request: &'a RequestInfo,
    ) -> xws::BoxFuture<'a, Result<xws_auth::Authenticated, xws_auth::AuthError>>;
}

impl<F> KeySet for xws_auth::JwksVerifier<F>
where
    F: xws_auth::FetchJwks + xws::MaybeSend + xws::MaybeSync,
{
    fn current(&self) -> Arc<Verifier> {
        xws_auth::JwksVerifier::current(self)
    }

    fn authenticate<'a>(
        &'a self,
        request: &'a RequestInfo,
    ) -> xws::BoxFuture<'a, Result<xws_auth::Authenticated, xws_auth::AuthError>> {
        Box::pin(xws_auth::JwksVerifier::authenticate(self, request))
    }
}

/// The chat handler.
#[derive(Clone, Debug, Default)]
pub struct ChatHandler {
    access: Access,
    /// Close idle peers when their token expires (Tokio only).
    #[cfg(feature = "tokio")]
    expiry: Arc<xws_auth::ExpiryTimers>,
    /// Each user's peers on this node, for the server API (Tokio only).
    #[cfg(feature = "tokio")]
    users: Arc<users::UserPeers>,
}

impl ChatHandler {
    /// A chat that requires `?token=` to equal `token` when it is `Some`.
    #[cfg_attr(
        not(feature = "tokio"),
        allow(
            clippy::needless_update,
            reason = "`expiry` exists only with the tokio feature"
        )
    )]
    pub fn new(token: Option<String>) -> Self {
        let access = match token.filter(|t| !t.is_empty()) {
            Some(token) => Access::SharedToken(token),
            None => Access::Open,
        };
        Self {
            access,
            ..Self::default()
        }
    }

    /// A chat that requires `?token=` to be a JWT signed with HS256 and
    /// `secret`.
    pub fn with_jwt_secret(secret: &[u8]) -> Self {
        Self::with_verifier(Verifier::hs256(secret))
    }

    /// A chat that requires `?token=` (or a `bearer.` subprotocol, or the
    /// `xws_token` cookie) to be a JWT `verifier` accepts.
    #[cfg_attr(
        not(feature = "tokio"),
        allow(
            clippy::needless_update,
            reason = "`expiry` exists only with the tokio feature"
        )
    )]
    pub fn with_verifier(verifier: Verifier) -> Self {
        Self {
            access: Access::Jwt(Arc::new(verifier)),
            ..Self::default()
        }
    }

    /// A chat configured from the environment: `CHAT_JWT_SECRET` (signed
    /// tokens, for the audience `CHAT_JWT_AUDIENCE` if set) if set, else
    /// `CHAT_TOKEN` (a shared token), else open.
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok();
        Self::from_settings(
            var("CHAT_JWT_SECRET").as_deref(),
            var("CHAT_JWT_AUDIENCE").as_deref(),
            var("CHAT_TOKEN"),
        )
    }

    /// A chat configured by the settings a target reads from wherever it
    /// keeps them (a process's environment, a Worker's vars and secrets):
    /// signed tokens when `jwt_secret` is set (with `audience` required in
    /// them when set), else a shared `token` when set, else open. Empty
    /// values count as unset.
    pub fn from_settings(
        jwt_secret: Option<&str>,
        audience: Option<&str>,
        token: Option<String>,
    ) -> Self {
        match jwt_secret.filter(|secret| !secret.is_empty()) {
            Some(secret) => {
                let verifier = Verifier::hs256(secret.as_bytes());
                Self::with_verifier(match audience.filter(|a| !a.is_empty()) {
                    Some(audience) => verifier.audience(audience),
                    None => verifier,
                })
            }
            None => Self::new(token),
        }
    }

    /// Whether `request` may follow `topic` as an event stream, for a
    /// target that serves the stream outside the adapter (a route of its
    /// own): the same `upgrade` check as a WebSocket (401), then the room
    /// and the token's topics (403).
    pub async fn authorize_stream(&self, request: &RequestInfo, topic: &str) -> Result<(), Reject> {
        let context = match self.upgrade(request).await {
            Upgrade::Accept(accept) => accept.context,
            Upgrade::Reject(reject) => return Err(reject),
        };
        if !topic.starts_with(RoomId::TOPIC_PREFIX) {
            return Err(Reject::forbidden("only room topics can be streamed"));
        }
        match &context.identity {
            Some(identity) => identity
                .authorize(topic)
                .map_err(|refused| Reject::forbidden(refused.to_string())),
            None => Ok(()),
        }
    }

    /// The peers `user` has open on this node (Tokio only).
    #[cfg(feature = "tokio")]
    pub fn peers_of(&self, user: &str) -> Vec<xws::PeerId> {
        self.users.peers(user)
    }

    /// A chat that requires a JWT signed by a key of `verifier`'s set (an
    /// identity provider's JWKS URL), fetched by any [`xws_auth::FetchJwks`]:
    /// [`xws_auth::HttpFetcher`] on Tokio and Lambda (feature `jwks`), one
    /// over `worker::Fetch` on Cloudflare. A shared verifier (an `Arc`)
    /// keeps its keys across handlers.
    #[cfg_attr(
        not(feature = "tokio"),
        allow(
            clippy::needless_update,
            reason = "`expiry` exists only with the tokio feature"
        )
    )]
    pub fn with_jwks<F>(verifier: impl Into<Arc<xws_auth::JwksVerifier<F>>>) -> Self
    where
        F: xws_auth::FetchJwks + xws::MaybeSend + xws::MaybeSync + 'static,
    {
        Self {
            access: Access::Jwks(verifier.into()),
            ..Self::default()
        }
    }

    /// [`ChatHandler::from_env`], or with `CHAT_JWKS_URL` set, tokens
    /// signed by a key of the set at that URL (RS256, ES256; for the
    /// audience `CHAT_JWT_AUDIENCE` if set), fetched now and again when a
    /// token names a key it lacks.
    #[cfg(feature = "jwks")]
    pub async fn from_env_with_jwks() -> Result<Self, xws_auth::KeyError> {
        let Some(url) = std::env::var("CHAT_JWKS_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return Ok(Self::from_env());
        };
        let audience = std::env::var("CHAT_JWT_AUDIENCE").ok();
        let fetcher = xws_auth::HttpFetcher::new()?;
        let verifier = xws_auth::JwksVerifier::new(url, fetcher, jwks_audience(audience)).await?;
        Ok(Self::with_jwks(verifier))
    }

    /// Whether `token` (the `?token=` of a request) lets a client in:
    /// always when no token is configured.
    pub async fn accepts(&self, token: Option<&str>) -> bool {
        let verifier = match &self.access {
            Access::Open => return true,
            Access::SharedToken(expected) => return token == Some(expected.as_str()),
            Access::Jwt(verifier) => verifier.clone(),
            Access::Jwks(verifier) => verifier.current(),
        };
        // Awaited: on Cloudflare WebCrypto checks RS256 and ES256 signatures.
        match token {
            Some(token) => verifier.verify_async(token).await.is_ok(),
            None => false,
        }
    }

    /// Whether this chat verifies signed tokens (`CHAT_JWT_SECRET`).
    pub fn uses_jwt(&self) -> bool {
        match self.access {
            Access::Jwt(_) => true,
            Access::Jwks(_) => true,
            Access::Open | Access::SharedToken(_) => false,
        }
    }

    /// `Ok` when the peer's token (if any) allows `room`; otherwise the
    /// error the client gets, and nothing is done.
    fn authorize(peer: &Peer<ChatContext>, topic: &str) -> Result<(), String> {
        match &peer.context().identity {
            Some(identity) => identity.authorize(topic).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    async fn handle(&self, peer: &Peer<ChatContext>, command: ClientMessage) -> Result<(), Error> {
        if let Some(room) = command.room_id()
            && let Err(refused) = Self::authorize(peer, &room.topic())
        {
            return peer.send_json(&ServerMessage::Error { message: refused });
        }
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
    let joined = match peer.subscribe_with(&topic, options).await {
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
            return Ok(());
        }
        // A target without streams: a plain room, and nothing recovered.
        Err(Error::Unsupported { .. }) => peer.subscribe(&topic).and_then(|()| {
            peer.send_json(&ServerMessage::Joined {
                room_id,
                offset: None,
                epoch: None,
                recovered: since.map(|_| false),
            })
        }),
        Err(error) => Err(error),
    };
    match joined {
        // Past `Limits::max_topics_per_peer` the client is told, and stays.
        Err(error @ Error::TooManyTopics { .. }) => peer.send_json(&ServerMessage::Error {
            message: error.to_string(),
        }),
        joined => joined,
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
            serde_json::from_slice::<Value>(message.text().ok()?.as_bytes()).ok()
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
        let authenticated = match &self.access {
            Access::Jwt(verifier) => Some(verifier.authenticate_async(request).await),
            Access::Jwks(verifier) => Some(verifier.authenticate(request).await),
            Access::Open | Access::SharedToken(_) => None,
        };
        if let Some(authenticated) = authenticated {
            return match authenticated {
                Ok(ok) => ok
                    .accept(ChatContext {
                        user: Some(ok.identity.user.clone()),
                        identity: Some(ok.identity.clone()),
                    })
                    .into(),
                Err(error) => error.reject().into(),
            };
        }
        if !self.accepts(request.query_param("token").as_deref()).await {
            return Reject::unauthorized("missing or wrong token").into();
        }
        let user = request
            .query_param("user")
            .map(|name| name.chars().take(MAX_USER_NAME).collect::<String>())
            .filter(|name| !name.is_empty());
        Upgrade::accept(ChatContext {
            user,
            identity: None,
        })
    }

    async fn open(&self, peer: &Peer<ChatContext>) -> HookResult {
        #[cfg(feature = "tokio")]
        if let Some(identity) = &peer.context().identity {
            self.expiry.arm(peer, identity);
        }
        #[cfg(feature = "tokio")]
        if let Some(user) = &peer.context().user {
            self.users.add(user, peer.id());
        }
        peer.send_json(&ServerMessage::Welcome {
            id: peer.id().to_string(),
        })?;
        Ok(())
    }

    async fn message(&self, peer: &Peer<ChatContext>, message: Message) -> HookResult {
        let identity = peer.context().identity.clone();
        if identity.is_some_and(|identity| xws_auth::close_if_expired(peer, &identity)) {
            return Ok(());
        }
        let text = match message {
            Message::Binary(_) => return Ok(peer.send(message)?),
            Message::Text(ref text) => text.as_str(),
        };
        match protocol::parse(text) {
            Ok(Some(command)) => match self.handle(peer, command).await {
                Ok(()) => {}
                // Asked of a target without streams, or while the stream store
                // is away: the client's answer, not a reason to close.
                Err(error @ (Error::Unsupported { .. } | Error::Transport(_))) => {
                    peer.send_json(&ServerMessage::Error {
                        message: error.to_string(),
                    })?
                }
                Err(error) => return Err(error.into()),
            },
            Ok(None) => peer.send_json(&ServerMessage::Echo {
                data: serde_json::from_slice(text.as_bytes())?,
            })?,
            Err(problem) => peer.send_json(&ServerMessage::Error { message: problem })?,
        }
        Ok(())
    }

    async fn close(&self, peer: &Peer<ChatContext>, _frame: CloseFrame) {
        #[cfg(feature = "tokio")]
        self.expiry.disarm(peer.id());
        #[cfg(feature = "tokio")]
        if let Some(user) = &peer.context().user {
            self.users.remove(user, peer.id());
        }
        #[cfg(not(feature = "tokio"))]
        let _ = peer;
    }

    async fn error(&self, peer: &Peer<ChatContext>, error: &Error) {
        if matches!(error, Error::RateLimited | Error::SubscribeRefused(_)) {
            let _ = peer.send_json(&ServerMessage::Error {
                message: error.to_string(),
            });
        }
    }

    /// Peers and SSE streams may only join rooms (`user:` and other topics
    /// are for the server to publish on), and with a token only the rooms
    /// its `topics` claim allows.
    fn authorize_subscribe(&self, peer: &Peer<ChatContext>, topic: &Topic) -> bool {
        topic.as_str().starts_with(RoomId::TOPIC_PREFIX)
            && Self::authorize(peer, topic.as_str()).is_ok()
    }

    /// The same rooms: `handle` already answers a refused room with an
    /// error message; this makes any other publish path refuse it too.
    fn authorize_publish(&self, peer: &Peer<ChatContext>, topic: &Topic) -> bool {
        self.authorize_subscribe(peer, topic)
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
/// What every verifier of a JWKS requires: `audience` (`CHAT_JWT_AUDIENCE`)
/// when set and not empty. The `configure` of [`xws_auth::JwksVerifier::new`].
pub fn jwks_audience(audience: Option<String>) -> impl Fn(Verifier) -> Verifier + Send + Sync {
    let audience = audience.filter(|a| !a.is_empty());
    move |verifier| match &audience {
        Some(audience) => verifier.audience(audience.clone()),
        None => verifier,
    }
}

fn now_millis() -> u64 {
    web_time::SystemTime::now()
        .duration_since(web_time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
