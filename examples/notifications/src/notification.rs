//! A notification and the request that creates one.

use serde::{Deserialize, Serialize};

/// Longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest body, in characters.
pub const MAX_BODY: usize = 2_000;
/// The largest `POST /api/notify` body read, in bytes: a title and a body
/// at their longest, in 4-byte characters, with room for the JSON.
pub const BODY_LIMIT: usize = 16 * 1024;

/// A stored notification.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Unique; chosen by the sender (`send_notification`).
    pub id: String,
    /// Whose it is.
    pub user: String,
    /// One line.
    pub title: String,
    /// Any text, possibly empty.
    pub body: String,
    /// Milliseconds since the Unix epoch.
    pub created_at: u64,
    /// Whether the user marked it as read.
    pub read: bool,
}

/// What a sender gives: `{"title":…,"body":…}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNotification {
    /// One line, not empty.
    pub title: String,
    /// Any text.
    #[serde(default)]
    pub body: String,
}

/// Why a notification was refused: 401 without a valid token, 413 for a
/// body over [`BODY_LIMIT`], else 400.
#[derive(Debug, thiserror::Error)]
pub enum InvalidNotification {
    /// No valid `?token=`.
    #[error(transparent)]
    User(#[from] per_user::UserError),
    /// A body that is not `{"title":…,"body":…}`.
    #[error("expected {{\"title\":…,\"body\":…}}: {0}")]
    Body(#[from] serde_json::Error),
    /// An empty or overlong title, or an overlong body.
    #[error("the title must be 1 to {MAX_TITLE} characters and the body at most {MAX_BODY}")]
    Size,
    /// A request body over [`BODY_LIMIT`] bytes, not read.
    #[error("the request body is over {BODY_LIMIT} bytes")]
    TooLarge,
}

impl InvalidNotification {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            InvalidNotification::User(error) => error.status().as_u16(),
            InvalidNotification::TooLarge => 413,
            _ => 400,
        }
    }

    /// The error body: `{"error":"…"}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.to_string() })
    }
}

impl NewNotification {
    /// The recipient and notification of `POST /api/notify?token=T`: the
    /// recipient is the token's user (the demo notifies oneself; a backend
    /// notifies anyone through the server API), `body` the request body.
    /// The token is checked first: a route that reads the body itself
    /// calls [`per_user::user_from_token`] before it, then [`Self::from_body`].
    pub fn parse(token: Option<&str>, body: &[u8]) -> Result<(String, Self), InvalidNotification> {
        let user = per_user::user_from_token(token)?;
        Ok((user.to_owned(), Self::from_body(body)?))
    }

    /// The notification a request body holds, once its sender is known.
    pub fn from_body(body: &[u8]) -> Result<Self, InvalidNotification> {
        if body.len() > BODY_LIMIT {
            return Err(InvalidNotification::TooLarge);
        }
        let new: Self = serde_json::from_slice(body)?;
        let title = new.title.trim().chars().count();
        if !(1..=MAX_TITLE).contains(&title) || new.body.chars().count() > MAX_BODY {
            return Err(InvalidNotification::Size);
        }
        Ok(new)
    }

    /// The stored form, for `user`, with `id`, created at `now_ms`.
    pub fn into_notification(self, user: &str, id: String, now_ms: u64) -> Notification {
        Notification {
            id,
            user: user.to_owned(),
            title: self.title.trim().to_owned(),
            body: self.body,
            created_at: now_ms,
            read: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ada() -> String {
        per_user::login("ada").unwrap()
    }

    #[test]
    fn a_request_names_a_user_and_a_title() {
        let (user, new) =
            NewNotification::parse(Some(&ada()), br#"{"title":" Hi ","body":"b"}"#).unwrap();
        assert_eq!(user, "ada");
        let stored = new.into_notification(&user, "n1".into(), 7);
        assert_eq!((stored.title.as_str(), stored.read), ("Hi", false));
    }

    #[test]
    fn bad_requests_say_why() {
        let parse = |user: Option<&str>, body: &str| NewNotification::parse(user, body.as_bytes());
        assert!(matches!(
            parse(None, r#"{"title":"x"}"#),
            Err(InvalidNotification::User(_))
        ));
        assert!(matches!(
            parse(Some(&ada()), "{"),
            Err(InvalidNotification::Body(_))
        ));
        assert!(matches!(
            parse(Some(&ada()), r#"{"title":"  "}"#),
            Err(InvalidNotification::Size)
        ));
        let long = format!(r#"{{"title":"{}"}}"#, "x".repeat(MAX_TITLE + 1));
        assert!(matches!(
            parse(Some(&ada()), &long),
            Err(InvalidNotification::Size)
        ));
    }

    #[test]
    fn the_wire_form_is_camel_case() {
        let n = NewNotification {
            title: "t".into(),
            body: String::new(),
        }
        .into_notification("ada", "n1".into(), 5);
        let json = serde_json::to_value(n).unwrap();
        assert_eq!(json["createdAt"], 5);
        assert_eq!(json["read"], false);
    }
}
