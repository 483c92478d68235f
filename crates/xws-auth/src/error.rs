//! Why a token was refused, and why a key could not be used.

use jsonwebtoken::errors::ErrorKind;
use xws::Reject;

/// Why a request's token was refused. Every variant answers the upgrade
/// with `401 Unauthorized` ([`AuthError::reject`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token in the request.
    #[error(
        "missing token: send it as ?token=, the xws_token cookie or a bearer.<token> subprotocol"
    )]
    Missing,
    /// The token's `exp` has passed.
    #[error("token expired")]
    Expired,
    /// The token's `nbf` is in the future.
    #[error("token not valid yet")]
    NotYetValid,
    /// The signature does not match (a forged or altered token, or another key).
    #[error("token signature is invalid")]
    BadSignature,
    /// The token's `alg` is not the one its key is for.
    #[error("token algorithm is not accepted")]
    WrongAlgorithm,
    /// The token's `aud` is not the one expected.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// The token's `iss` is not the one expected.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// No configured key has the token's `kid`.
    #[error("no key for this token (kid {0:?})")]
    UnknownKey(Option<String>),
    /// Not a JWT, or a required claim (`sub`, `exp`) is missing or malformed.
    #[error("malformed token: {0}")]
    Malformed(String),
}

impl AuthError {
    /// The upgrade's answer: `401 Unauthorized` with a `WWW-Authenticate`
    /// challenge (RFC 6750 §3) and the reason as the body.
    ///
    /// ```
    /// let reject = xws_auth::AuthError::Expired.reject();
    /// assert_eq!(reject.status, 401);
    /// assert_eq!(reject.body, "token expired");
    /// ```
    pub fn reject(&self) -> Reject {
        let challenge = match self {
            AuthError::Missing => "Bearer".to_owned(),
            other => format!("Bearer error=\"invalid_token\", error_description=\"{other}\""),
        };
        Reject::unauthorized(self.to_string()).header("www-authenticate", &challenge)
    }
}

impl From<jsonwebtoken::errors::Error> for AuthError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.kind() {
            ErrorKind::ExpiredSignature => AuthError::Expired,
            ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            ErrorKind::InvalidSignature => AuthError::BadSignature,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::UnsupportedAlgorithm => AuthError::WrongAlgorithm,
            ErrorKind::InvalidAudience => AuthError::WrongAudience,
            ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
            _ => AuthError::Malformed(error.to_string()),
        }
    }
}

/// Why a key given to a [`Verifier`](crate::Verifier) or
/// [`Issuer`](crate::Issuer) cannot be used (a configuration error).
#[derive(Clone, Debug, thiserror::Error)]
#[error("unusable key: {0}")]
pub struct KeyError(pub String);

impl From<jsonwebtoken::errors::Error> for KeyError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        KeyError(error.to_string())
    }
}

/// A topic the token does not allow (on subscribe, publish or SSE).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("topic {topic:?} is not allowed by your token")]
pub struct TopicForbidden {
    /// The topic asked for.
    pub topic: String,
}
