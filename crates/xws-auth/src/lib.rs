//! # xws-auth: signed tokens for xws handlers
//!
//! Verifies a JWT at the upgrade (HS256, RS256, ES256, or any of those from
//! a JWKS) with [`jsonwebtoken`], maps its claims to an [`Identity`] (user,
//! allowed topics, expiry) kept in the peer's context, refuses a bad token
//! with `401` before any WebSocket exists, refuses topics the token does
//! not allow, and closes a peer whose token expires with 3000.
//!
//! It is portable like the handler: the same code runs on Tokio, in a
//! Cloudflare Durable Object and in a Lambda. On wasm32 (a Worker) RS256
//! and ES256 signatures are checked by the runtime's WebCrypto, which is
//! asynchronous: there use [`Verifier::authenticate_async`] (or
//! [`JwksVerifier`]); the synchronous calls verify HS256 only.
//!
//! A provider's key set at a JWKS URL: [`JwksVerifier`], which fetches it
//! again when a token names a key it does not hold (rotation).
//!
//! ## Tokens
//!
//! `sub` (the user) and `exp` are required; `topics` is an optional list of
//! [`TopicPattern`]s (`room:*`, `user:{sub}`); `aud` and `iss` are checked
//! when the [`Verifier`] is told to. A browser sends the token as
//! `?token=`, the `xws_token` cookie, or a `bearer.<token>` subprotocol
//! ([`Credentials`]).
//!
//! ## In a handler
//!
//! ```
//! use xws::{Handler, HookResult, Message, Peer, RequestInfo, Topic, Upgrade};
//! use xws_auth::{Identity, Verifier, close_if_expired};
//!
//! struct App {
//!     verifier: Verifier,
//! }
//!
//! impl Handler for App {
//!     type Context = Identity;
//!
//!     async fn upgrade(&self, request: &RequestInfo) -> Upgrade<Identity> {
//!         match self.verifier.authenticate_async(request).await {
//!             Ok(ok) => ok.accept(ok.identity.clone()).into(),
//!             Err(error) => error.reject().into(), // 401 before the upgrade
//!         }
//!     }
//!
//!     async fn message(&self, peer: &Peer<Identity>, message: Message) -> HookResult {
//!         let identity = peer.context().clone();
//!         if close_if_expired(peer, &identity) {
//!             return Ok(()); // closed with 3000 "token expired"
//!         }
//!         let topic = format!("user:{}", identity.user);
//!         identity.authorize(&topic)?; // publishing needs permission too
//!         peer.publish(topic, message)?;
//!         Ok(())
//!     }
//!
//!     // Subscribing (WebSocket and SSE) is checked here by every adapter.
//!     fn authorize_subscribe(&self, peer: &Peer<Identity>, topic: &Topic) -> bool {
//!         peer.context().allows(topic.as_str())
//!     }
//! }
//!
//! let app = App { verifier: Verifier::hs256(b"a secret of at least 32 bytes....") };
//! # let _ = app;
//! ```

/// Names the algorithm a jsonwebtoken signer or verifier handles: the one
/// method `JwtSigner` and `JwtVerifier` add to `signature`'s traits, for
/// each crypto provider's types (`ring_crypto`, `webcrypto`).
macro_rules! jwt_algorithm {
    ($($role:ident for $ty:ty => $algorithm:ident),+ $(,)?) => {$(
        impl jsonwebtoken::crypto::$role for $ty {
            fn algorithm(&self) -> jsonwebtoken::Algorithm {
                jsonwebtoken::Algorithm::$algorithm
            }
        }
    )+};
}

mod claims;
mod credentials;
mod error;
mod expiry;
mod issuer;
mod jwks;
mod patterns;
#[cfg(not(target_arch = "wasm32"))]
mod ring_crypto;
#[cfg(any(test, target_arch = "wasm32"))]
mod spki;
mod verifier;
#[cfg(target_arch = "wasm32")]
mod webcrypto;

/// jsonwebtoken's crypto provider on this target, installed before each
/// signature is made or checked.
#[cfg(not(target_arch = "wasm32"))]
use ring_crypto as crypto_provider;
#[cfg(target_arch = "wasm32")]
use webcrypto as crypto_provider;

pub use claims::{Claims, Identity, now_seconds};
pub use credentials::{COOKIE, Credentials, PROTOCOL_PREFIX, QUERY_PARAM};
pub use error::{AuthError, KeyError, TopicForbidden};
#[cfg(feature = "tokio")]
pub use expiry::ExpiryTimers;
pub use expiry::{EXPIRED_CODE, EXPIRED_REASON, close_if_expired};
pub use issuer::Issuer;
#[cfg(feature = "jwks-http")]
pub use jwks::HttpFetcher;
pub use jwks::{FetchJwks, JwksVerifier};
pub use patterns::{SUBJECT_PLACEHOLDER, TopicPattern, TopicPatterns};
pub use verifier::{Authenticated, SUPPORTED, Verifier};

/// Re-exported: the algorithm names of tokens.
pub use jsonwebtoken::Algorithm;
