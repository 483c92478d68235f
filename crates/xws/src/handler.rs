//! The handler: the hooks an application implements once for every runtime.

use serde::{Serialize, de::DeserializeOwned};
use std::future::Future;

use crate::caps::Needs;
use crate::{
    BoxError, CloseFrame, Error, MaybeSend, MaybeSync, Message, Peer, RequestInfo, Topic, Upgrade,
};

/// What `open` and `message` return: `Err` closes the peer with 1011 after the
/// `error` hook ran.
pub type HookResult = Result<(), BoxError>;

/// A real-time application: one implementation, every adapter.
///
/// Every hook has a default, so a handler implements only what it needs.
/// Hooks are `async`; on native targets their futures must be `Send`.
///
/// ```
/// use xws::{Handler, HookResult, Message, Peer, Reject, RequestInfo, Upgrade};
///
/// #[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
/// struct Ctx { user: Option<String> }
///
/// struct Chat;
///
/// impl Handler for Chat {
///     type Context = Ctx;
///
///     async fn upgrade(&self, request: &RequestInfo) -> Upgrade<Ctx> {
///         match request.query_param("token").as_deref() {
///             Some("secret") => Upgrade::accept(Ctx {
///                 user: request.query_param("user").map(Into::into),
///             }),
///             _ => Reject::unauthorized("bad token").into(),
///         }
///     }
///
///     async fn open(&self, peer: &Peer<Ctx>) -> HookResult {
///         peer.subscribe("room:lobby")?;
///         Ok(())
///     }
///
///     async fn message(&self, peer: &Peer<Ctx>, message: Message) -> HookResult {
///         peer.publish("room:lobby", message)?;
///         Ok(())
///     }
/// }
/// ```
pub trait Handler: MaybeSend + MaybeSync + 'static {
    /// Per-peer state. It is serialized where the runtime cannot keep it in
    /// memory (the socket attachment on Cloudflare, DynamoDB on AWS), so it
    /// survives hibernation and stateless invocations. Keep it small: 16 KiB
    /// is the Cloudflare limit for everything a peer stores.
    type Context: Serialize + DeserializeOwned + Clone + Default + MaybeSend + MaybeSync + 'static;

    /// What this handler needs from its deployment target. Deploying it
    /// where a need is missing fails to compile (see [`crate::caps`]).
    /// The default is WebSocket alone; an SSE-only handler states
    /// [`Needs::SSE`] and builds for Vercel and a Lambda function URL too.
    const NEEDS: Needs = Needs::WEBSOCKET;

    /// Decides whether a connection may open, and with which context.
    ///
    /// The default accepts every request with `Context::default()`. Auth and
    /// Origin checks belong here: a [`Reject`](crate::Reject) answers with
    /// its HTTP status before any WebSocket exists.
    fn upgrade(
        &self,
        request: &RequestInfo,
    ) -> impl Future<Output = Upgrade<Self::Context>> + MaybeSend {
        let _ = request;
        async { Upgrade::default() }
    }

    /// The connection is open. Messages sent here reach the client on every
    /// adapter (on AWS they are delivered right after `$connect` completes).
    fn open(&self, peer: &Peer<Self::Context>) -> impl Future<Output = HookResult> + MaybeSend {
        let _ = peer;
        async { Ok(()) }
    }

    /// A message arrived. Messages of one peer are handled in order, one at
    /// a time.
    fn message(
        &self,
        peer: &Peer<Self::Context>,
        message: Message,
    ) -> impl Future<Output = HookResult> + MaybeSend {
        let _ = (peer, message);
        async { Ok(()) }
    }

    /// The connection closed (by either side, a timeout or an error). The
    /// peer's topics are left right after this hook.
    fn close(
        &self,
        peer: &Peer<Self::Context>,
        frame: CloseFrame,
    ) -> impl Future<Output = ()> + MaybeSend {
        let _ = (peer, frame);
        async {}
    }

    /// Something went wrong for this peer: a hook returned an error or
    /// panicked, the peer exceeded its rate limit, or its queue overflowed.
    /// The adapter has already logged it; a handler may tell the client.
    /// A panic reaches this hook only where the adapter can catch it:
    /// `wasm32` aborts instead (see xws-cloudflare's crate docs).
    fn error(
        &self,
        peer: &Peer<Self::Context>,
        error: &Error,
    ) -> impl Future<Output = ()> + MaybeSend {
        let _ = (peer, error);
        async {}
    }

    /// Whether `peer` may subscribe to `topic`; checked on every
    /// [`Peer::subscribe`], including SSE streams. The default allows all.
    fn authorize_subscribe(&self, peer: &Peer<Self::Context>, topic: &Topic) -> bool {
        let _ = (peer, topic);
        true
    }

    /// Whether `peer` may publish to `topic`; checked on every
    /// [`Peer::publish`] (and its `_json` and `_ephemeral` forms), which
    /// return [`Error::PublishRefused`] when it does not. The default
    /// allows all. Publications through a [`Hub`](crate::Hub) are the
    /// server's own and are not checked.
    fn authorize_publish(&self, peer: &Peer<Self::Context>, topic: &Topic) -> bool {
        let _ = (peer, topic);
        true
    }

    /// What a peer keeps of its upgrade request: what
    /// [`Peer::request`] returns in every hook after `upgrade`, and what
    /// Cloudflare and AWS store with the peer. The default,
    /// [`RequestInfo::kept`] with no header named, keeps the path, the
    /// remote address and the query without credential-like parameters;
    /// no header (so no cookie and no `Authorization`). Name the headers a
    /// later hook reads:
    ///
    /// ```
    /// # use xws::{Handler, RequestInfo};
    /// # struct Stream;
    /// impl Handler for Stream {
    ///     type Context = ();
    ///     fn kept_request(&self, request: &RequestInfo) -> RequestInfo {
    ///         request.kept(&["last-event-id"])
    ///     }
    /// }
    /// ```
    fn kept_request(&self, request: &RequestInfo) -> RequestInfo {
        request.kept(&[])
    }
}
