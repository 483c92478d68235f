//! What the per-user examples (import progress, notifications) share.
//!
//! In these examples the `user` query parameter names the user, on the
//! WebSocket and on the HTTP routes alike, as in the chat. A real
//! application takes the user from its session or token in the `upgrade`
//! hook instead; the rest stays the same: the user is kept in the peer's
//! context (so it survives hibernation and stateless invocations) and every
//! connection of that user, in every tab, is subscribed to its topic
//! `user:{id}`.
//!
//! ```
//! use per_user::{user_topic, valid_user};
//!
//! assert_eq!(user_topic("ada"), "user:ada");
//! assert!(valid_user("ada.lovelace-1"));
//! assert!(!valid_user("ada lovelace"));
//! ```

#[cfg(feature = "scenarios")]
pub mod scenarios;

use serde::{Deserialize, Serialize};
use xws::{Peer, Reject, RequestInfo, Topic, Upgrade};

/// Longest user id accepted, in bytes.
pub const MAX_USER_LEN: usize = 64;

/// What a per-user peer keeps: who it is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserContext {
    /// The user id from `?user=`.
    pub user: String,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    /// No `?user=`.
    #[error("missing ?user=")]
    Missing,
    /// A `?user=` that [`valid_user`] refuses.
    #[error("?user= must be 1 to 64 of A-Z a-z 0-9 _ . -")]
    Invalid,
}

/// The user a query parameter names.
pub fn user_from(param: Option<&str>) -> Result<&str, UserError> {
    match param {
        None | Some("") => Err(UserError::Missing),
        Some(user) if valid_user(user) => Ok(user),
        Some(_) => Err(UserError::Invalid),
    }
}

/// The `upgrade` hook of a per-user handler: accepts a request that names a
/// valid user (400 otherwise) and keeps the user in the context.
pub fn upgrade(request: &RequestInfo) -> Upgrade<UserContext> {
    let param = request.query_param("user");
    match user_from(param.as_deref()) {
        Ok(user) => Upgrade::accept(UserContext { user: user.into() }),
        Err(error) => Reject::new(xws::http::StatusCode::BAD_REQUEST, error.to_string()).into(),
    }
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
    fn a_request_must_name_a_usable_user() {
        assert_eq!(user_from(Some("ada")), Ok("ada"));
        assert_eq!(user_from(None), Err(UserError::Missing));
        assert_eq!(user_from(Some("")), Err(UserError::Missing));
        assert_eq!(user_from(Some("a/b")), Err(UserError::Invalid));
        assert_eq!(user_from(Some(&"x".repeat(65))), Err(UserError::Invalid));
    }

    #[test]
    fn the_upgrade_keeps_the_user_or_answers_400() {
        let ok = upgrade(&RequestInfo::new("/api/ws", Some("user=ada")));
        assert!(matches!(ok, Upgrade::Accept(a) if a.context.user == "ada"));
        let bad = upgrade(&RequestInfo::new("/api/ws", Some("user=a%20b")));
        assert!(matches!(bad, Upgrade::Reject(r) if r.status == 400));
    }
}
