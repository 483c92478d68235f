//! A handler bound to the platform it is deployed to.

use std::marker::PhantomData;

use super::{Capability, DeploymentTarget, Platform, check};
use crate::{Error, Handler, RequestInfo};

/// A handler checked, at compile time, against its deployment platform.
///
/// Adapters take one of these (or call [`check`] themselves), so a handler
/// needing WebSockets cannot be deployed where there are none. For the
/// platforms without an adapter of their own it
/// is the entry point itself: [`Deployment::transport_for`] tells whether a
/// request is served as SSE, and refuses a WebSocket upgrade with
/// [`Error::Unsupported`] instead of dropping it.
///
/// ```
/// use xws::caps::{Deployment, Needs, Transport, Vercel};
/// use xws::{Handler, RequestInfo};
///
/// struct Feed;
/// impl Handler for Feed {
///     type Context = ();
///     const NEEDS: Needs = Needs::SSE;
/// }
///
/// let deployment = Deployment::<Vercel, _>::new(Feed);
/// let sse = RequestInfo::new("/feed", None).with_header("accept", "text/event-stream");
/// assert_eq!(deployment.transport_for(&sse).unwrap(), Transport::Sse);
///
/// let ws = RequestInfo::new("/feed", None).with_header("upgrade", "websocket");
/// assert!(deployment.transport_for(&ws).is_err());
/// ```
#[derive(Debug)]
pub struct Deployment<P: Platform, H: Handler> {
    handler: H,
    platform: PhantomData<fn() -> P>,
}

/// How a request is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A WebSocket upgrade.
    WebSocket,
    /// A Server-Sent Events stream.
    Sse,
}

impl<P: Platform, H: Handler> Deployment<P, H> {
    /// Binds `handler` to `P`; fails to build when `P` lacks one of
    /// [`H::NEEDS`](Handler::NEEDS).
    pub fn new(handler: H) -> Self {
        const { check::<P, H>() };
        Deployment {
            handler,
            platform: PhantomData,
        }
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The deployment target.
    pub fn target(&self) -> DeploymentTarget {
        P::TARGET
    }

    /// `Ok` when the target offers `capability`, else [`Error::Unsupported`]
    /// naming the alternative.
    pub fn require(&self, capability: Capability) -> Result<(), Error> {
        P::TARGET.require(capability)
    }

    /// Whether `request` asks for a WebSocket (an `Upgrade: websocket`
    /// header) or an SSE stream (anything else), refused with
    /// [`Error::Unsupported`] when the target cannot serve it.
    pub fn transport_for(&self, request: &RequestInfo) -> Result<Transport, Error> {
        let wants_websocket = request
            .header(http::header::UPGRADE)
            .is_some_and(|upgrade| upgrade.eq_ignore_ascii_case("websocket"));
        let (transport, capability) = if wants_websocket {
            (Transport::WebSocket, Capability::WebSocket)
        } else {
            (Transport::Sse, Capability::Sse)
        };
        self.require(capability)?;
        Ok(transport)
    }
}

/// Fails `cargo check` (not only `cargo build`) when a platform lacks what a
/// handler needs; the error names the target, the capability and the
/// alternative.
///
/// ```
/// use xws::caps::{Needs, Vercel};
/// struct Feed;
/// impl xws::Handler for Feed {
///     type Context = ();
///     const NEEDS: Needs = Needs::SSE;
/// }
/// xws::assert_deployable!(Vercel, Feed);
/// ```
///
/// ```compile_fail
/// struct Chat;
/// impl xws::Handler for Chat {
///     type Context = ();
/// }
/// // error: xws: WebSocket is not supported on Netlify functions. Alternative: …
/// xws::assert_deployable!(xws::caps::Netlify, Chat);
/// ```
#[macro_export]
macro_rules! assert_deployable {
    ($platform:ty, $handler:ty $(,)?) => {
        const _: () = $crate::caps::check::<$platform, $handler>();
    };
}
