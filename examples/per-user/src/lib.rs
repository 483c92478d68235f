//! What the per-user examples (import progress, notifications) share.
//!
//! The user comes from a signed token ([`xws_auth`], HS256) in `?token=`,
//! on the WebSocket and on the HTTP routes alike; `POST /api/login?user=U` is a demo login
//! that issues one for any valid name ([`login`]). The token's `sub` is kept
//! in the peer's context (so it survives hibernation and stateless
//! invocations), every connection of that user, in every tab, is subscribed
//! to its topic `user:{id}`, and nothing else: one user can never read
//! another's topic. A `?user=` next to the token (Cloudflare routes the
//! WebSocket to the user's Durable Object by it) must name the same user.
//!
//! The secret is `XWS_AUTH_SECRET` where the process has an environment
//! (Tokio, Lambda) or what [`set_secret`] was given (a Worker's secret);
//! without either, a demo secret compiled in here, so the examples run with
//! no setup: set a real one in anything deployed.
//!
//! ```
//! use per_user::{login, user_from_token, user_topic, valid_user};
//!
//! assert_eq!(user_topic("ada"), "user:ada");
//! assert!(valid_user("ada.lovelace-1"));
//! assert!(!valid_user("ada lovelace"));
//! let token = login("ada").unwrap();
//! assert_eq!(user_from_token(Some(&token)).unwrap(), "ada");
//! ```

#[cfg(feature = "scenarios")]
pub mod scenarios;

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use xws::http::StatusCode;
use xws::{Peer, Reject, RequestInfo, Topic, Upgrade};
use xws_auth::{AuthError, Claims, Issuer, Verifier};

/// The secret of the examples when none is configured. Demo only.
pub const DEMO_SECRET: &str = "xws per-user demo secret: set XWS_AUTH_SECRET for real use";
/// How long a token from [`login`] lives, in seconds.
pub const TOKEN_LIFETIME: u64 = 3600;

static SECRET: OnceLock<Vec<u8>> = OnceLock::new();

/// Uses `secret` for every token from now on; only the first call counts
/// (a Worker calls it with its `XWS_AUTH_SECRET` secret).
pub fn set_secret(secret: &[u8]) {
    let _ = SECRET.set(secret.to_vec());
}

fn secret() -> &'static [u8] {
    SECRET.get_or_init(|| {
        std::env::var("XWS_AUTH_SECRET")
            .ok()
            .filter(|s| !s.is_empty())
            .map_or_else(|| DEMO_SECRET.as_bytes().to_vec(), String::into_bytes)
    })
}

fn verifier() -> &'static Verifier {
    static VERIFIER: OnceLock<Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| Verifier::hs256(secret()).default_topics(["user:{sub}"]))
}

/// The demo login: a token for `user`, valid [`TOKEN_LIFETIME`] seconds,
/// allowed the topic `user:{sub}` only.
pub fn login(user: &str) -> Result<String, UserError> {
    login_for(user, TOKEN_LIFETIME)
}

/// A token for `user` valid `seconds` (tests use short ones).
pub fn login_for(user: &str, seconds: u64) -> Result<String, UserError> {
    if !valid_user(user) {
        return Err(UserError::Invalid);
    }
    let claims = Claims::new(user, xws_auth::now_seconds() + seconds).with_topics(["user:{sub}"]);
    Issuer::hs256(secret())
        .issue(&claims)
        .map_err(|e| UserError::Unauthorized(AuthError::Malformed(e.to_string())))
}

/// Longest user id accepted, in bytes.
pub const MAX_USER_LEN: usize = 64;

/// What a per-user peer keeps: who it is, and until when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserContext {
    /// The user id: the token's `sub`.
    pub user: String,
    /// When the token expires (seconds since the Unix epoch).
    #[serde(default)]
    pub expires_at: u64,
}

/// Whether `user` is a usable id: 1 to [`MAX_USER_LEN`] ASCII letters,
/// digits, `_`, `.` or `-`, so it can name a topic, an object and a key.
pub fn valid_user(user: &str) -> bool {
    (1..=MAX_USER_LEN).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The topic every connection of `user` is subscribed to.
pub fn user_topic(user: &str) -> String {
    format!("user:{user}")
}

/// Why a request names no usable user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// No token: log in with `POST /api/login?user=U` and send `?token=`.
    #[error("missing token: log in with POST /api/login?user=U and send ?token=")]
    Missing,
    /// A name that [`valid_user`] refuses (at login).
    #[error("?user= must be 1 to 64 of A-Z a-z 0-9 _ . -")]
    Invalid,
    /// A token that does not verify (forged, expired, malformed).
    #[error(transparent)]
    Unauthorized(AuthError),
    /// A `?user=` that is not the token's user.
    #[error("?user= names another user than the token")]
    OtherUser,
}

impl UserError {
    /// The HTTP status to answer with: 401 without a valid token, 403 for
    /// another user's name, 400 for a bad name.
    pub fn status(&self) -> StatusCode {
        match self {
            UserError::Missing | UserError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            UserError::Invalid => StatusCode::BAD_REQUEST,
            UserError::OtherUser => StatusCode::FORBIDDEN,
        }
    }
}

/// The user a token (the `?token=` of a request, or its bearer token)
/// proves.
pub fn user_from_token(token: Option<&str>) -> Result<String, UserError> {
    let token = token.filter(|t| !t.is_empty()).ok_or(UserError::Missing)?;
    let claims = verifier().verify(token).map_err(UserError::Unauthorized)?;
    if !valid_user(&claims.sub) {
        return Err(UserError::Invalid);
    }
    Ok(claims.sub)
}

/// `POST /api/login?user=U` on every target: the status and JSON body,
/// 200 `{"user","token"}` or 400 `{"error"}`. A demo: no password.
pub fn login_route(user: Option<&str>) -> (u16, serde_json::Value) {
    match login(user.unwrap_or_default()) {
        Ok(token) => (200, serde_json::json!({ "user": user, "token": token })),
        Err(error) => (
            error.status().as_u16(),
            serde_json::json!({ "error": error.to_string() }),
        ),
    }
}

/// The `upgrade` hook of a per-user handler: accepts a request with a valid
/// token (401 before the upgrade otherwise; 403 when a `?user=` names
/// someone else) and keeps its user and expiry in the context.
pub fn upgrade(request: &RequestInfo) -> Upgrade<UserContext> {
    let authenticated = match verifier().authenticate(request) {
        Ok(ok) => ok,
        Err(error) => return error.reject().into(),
    };
    let user = authenticated.identity.user.clone();
    if !valid_user(&user) {
        return Reject::new(StatusCode::BAD_REQUEST, UserError::Invalid.to_string()).into();
    }
    if request
        .query_param("user")
        .is_some_and(|named| named != user)
    {
        return Reject::forbidden(UserError::OtherUser.to_string()).into();
    }
    authenticated
        .accept(UserContext {
            user,
            expires_at: authenticated.identity.expires_at,
        })
        .into()
}

/// Closes `peer` with 3000 "token expired" if its token has expired;
/// returns whether it did (see [`xws_auth::close_if_expired`]).
pub fn close_if_expired(peer: &Peer<UserContext>) -> bool {
    let expires_at = peer.context().expires_at;
    if xws_auth::now_seconds() < expires_at {
        return false;
    }
    peer.close(xws_auth::EXPIRED_CODE, xws_auth::EXPIRED_REASON);
    true
}

/// The user of an opened peer.
pub fn user_of(peer: &Peer<UserContext>) -> String {
    peer.context().user.clone()
}

/// The `authorize_subscribe` of a per-user handler: a peer may follow its
/// own user's topic and nothing else.
pub fn owns_topic(peer: &Peer<UserContext>, topic: &Topic) -> bool {
    topic.as_str() == user_topic(&peer.context().user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_must_carry_a_valid_token() {
        let token = login("ada").unwrap();
        assert_eq!(user_from_token(Some(&token)), Ok("ada".to_owned()));
        assert_eq!(user_from_token(None), Err(UserError::Missing));
        assert_eq!(user_from_token(Some("")), Err(UserError::Missing));
        assert!(matches!(
            user_from_token(Some("x.y.z")),
            Err(UserError::Unauthorized(_))
        ));
        let forged = Issuer::hs256(b"not the demo secret, 32 bytes long")
            .issue(&Claims::new("ada", xws_auth::now_seconds() + 60))
            .unwrap();
        assert_eq!(
            user_from_token(Some(&forged)),
            Err(UserError::Unauthorized(AuthError::BadSignature))
        );
        assert_eq!(login("a/b"), Err(UserError::Invalid));
        assert_eq!(login(&"x".repeat(65)), Err(UserError::Invalid));
    }

    #[test]
    fn the_upgrade_keeps_the_token_user_or_answers_401_or_403() {
        let token = login("ada").unwrap();
        let ok = upgrade(&RequestInfo::new(
            "/api/ws",
            Some(&format!("token={token}")),
        ));
        assert!(matches!(ok, Upgrade::Accept(a) if a.context.user == "ada"));
        let named = upgrade(&RequestInfo::new(
            "/api/ws",
            Some(&format!("user=ada&token={token}")),
        ));
        assert!(matches!(named, Upgrade::Accept(_)));
        let other = upgrade(&RequestInfo::new(
            "/api/ws",
            Some(&format!("user=bob&token={token}")),
        ));
        assert!(matches!(other, Upgrade::Reject(r) if r.status == 403));
        let anonymous = upgrade(&RequestInfo::new("/api/ws", Some("user=ada")));
        assert!(matches!(anonymous, Upgrade::Reject(r) if r.status == 401));
    }
}
